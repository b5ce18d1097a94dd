import { sql, type Insertable } from 'kysely';
import { fingerprintColumn, fingerprintValue } from '../../crypto/fingerprint.ts';
import type { CheckoutKeysTable, Executor } from '../../db/schema.ts';

const listed = [
  'checkout_keys.id',
  'checkout_keys.project_id',
  'checkout_keys.ssh_key_id',
  'checkout_keys.kind',
  'checkout_keys.user_id',
  'checkout_keys.public_key',
  'checkout_keys.fingerprint_md5',
  'checkout_keys.fingerprint_sha256',
  'checkout_keys.created_at',
] as const;

export type CheckoutKeyRow = Awaited<ReturnType<typeof listForProject>>[number];

export async function insertCheckoutKey(db: Executor, key: Insertable<CheckoutKeysTable>): Promise<number> {
  return (await db.insertInto('checkout_keys').values(key).returning('id').executeTakeFirstOrThrow()).id;
}

/** Newest first, the order both CircleCI APIs list them in. */
export async function listForProject(db: Executor, projectId: number) {
  return db.selectFrom('checkout_keys').select(listed).where('project_id', '=', projectId).orderBy('id', 'desc').execute();
}

/** The project's user checkout keys whose user a site admin has disabled: not handed to runners meanwhile. */
export async function listDisabledUsersKeyIds(db: Executor, projectId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('checkout_keys')
    .innerJoin('users', 'users.id', 'checkout_keys.user_id')
    .select('checkout_keys.id')
    .where('checkout_keys.project_id', '=', projectId)
    .where('checkout_keys.kind', '=', 'user')
    .where('users.disabled_at', 'is not', null)
    .execute();
  return rows.map((r) => r.id);
}

export async function findByFingerprint(db: Executor, projectId: number, fingerprint: string) {
  const column = fingerprintColumn(fingerprint);
  return db.selectFrom('checkout_keys').select(listed).where('project_id', '=', projectId).where(column, '=', fingerprintValue(fingerprint)).executeTakeFirst();
}

export async function findSealed(db: Executor, id: number) {
  return db.selectFrom('checkout_keys').select(['id', 'project_id', 'fingerprint_sha256', 'private_key_sealed']).where('id', '=', id).executeTakeFirst();
}

export type UserCheckoutKeyRow = Awaited<ReturnType<typeof listUserKeys>>[number];

/** A user's checkout keys (the keys made under their write:public_key grant), or only those in one account. */
export async function listUserKeys(db: Executor, userId: number, accountId?: number) {
  let query = db
    .selectFrom('checkout_keys')
    .innerJoin('projects', 'projects.id', 'checkout_keys.project_id')
    .innerJoin('accounts', 'accounts.id', 'projects.account_id')
    .select([...listed, 'projects.vcs', 'projects.name as project_name', 'accounts.id as account_id', 'accounts.name as account_name'])
    .where('checkout_keys.kind', '=', 'user')
    .where('checkout_keys.user_id', '=', userId);
  if (accountId !== undefined) query = query.where('projects.account_id', '=', accountId);
  return query.orderBy('checkout_keys.id').execute();
}

/** The checkout key whose public half is this SSH key, if any, with its project's account. */
export async function findBySshKeyId(db: Executor, sshKeyId: number) {
  return db
    .selectFrom('checkout_keys')
    .innerJoin('projects', 'projects.id', 'checkout_keys.project_id')
    .innerJoin('accounts', 'accounts.id', 'projects.account_id')
    .select(['checkout_keys.id', 'checkout_keys.kind', 'checkout_keys.fingerprint_md5', 'projects.vcs', 'projects.name as project_name', 'accounts.id as account_id', 'accounts.name as account_name'])
    .where('checkout_keys.ssh_key_id', '=', sshKeyId)
    .executeTakeFirst();
}

/** Every sealed value, for master-key rotation. */
/** The distinct first `length` characters of the sealed values (which name their master key), no secret read. */
export async function distinctSealedPrefixes(db: Executor, length: number): Promise<string[]> {
  const rows = await db
    .selectFrom('checkout_keys')
    .select(sql<string>`substr(private_key_sealed, 1, ${sql.lit(length)})`.as('prefix'))
    .distinct()
    .execute();
  return rows.map((r) => r.prefix);
}

export async function listAllSealed(db: Executor) {
  return db.selectFrom('checkout_keys').select(['id', 'project_id', 'fingerprint_sha256', 'private_key_sealed']).execute();
}

export async function replaceSealed(db: Executor, id: number, before: string, after: string): Promise<boolean> {
  const result = await db.updateTable('checkout_keys').set({ private_key_sealed: after }).where('id', '=', id).where('private_key_sealed', '=', before).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
