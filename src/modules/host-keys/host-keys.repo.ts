import { sql, type Insertable } from 'kysely';
import { fingerprintColumn, fingerprintValue } from '../../crypto/fingerprint.ts';
import type { Executor, HostKeysTable } from '../../db/schema.ts';

const listed = ['id', 'project_id', 'hostname', 'key_type', 'public_key', 'fingerprint_md5', 'fingerprint_sha256', 'created_at', 'expires_at'] as const;

export async function insertHostKey(db: Executor, key: Insertable<HostKeysTable>): Promise<number> {
  return (await db.insertInto('host_keys').values(key).returning('id').executeTakeFirstOrThrow()).id;
}

export async function listForProject(db: Executor, projectId: number) {
  return db.selectFrom('host_keys').select(listed).where('project_id', '=', projectId).orderBy('hostname').orderBy('id').execute();
}

export async function listSealed(db: Executor, projectId: number) {
  return db
    .selectFrom('host_keys')
    .select(['id', 'hostname', 'fingerprint_md5', 'fingerprint_sha256', 'private_key_sealed'])
    .where('project_id', '=', projectId)
    .orderBy('hostname')
    .orderBy('id')
    .execute();
}

export async function findHostKey(db: Executor, projectId: number, hostname: string, fingerprint: string) {
  const column = fingerprintColumn(fingerprint);
  return db.selectFrom('host_keys').select(listed).where('project_id', '=', projectId).where('hostname', '=', hostname).where(column, '=', fingerprintValue(fingerprint)).executeTakeFirst();
}

export async function deleteHostKey(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('host_keys').where('id', '=', id).execute();
}

export async function findSealed(db: Executor, id: number) {
  return db.selectFrom('host_keys').select('private_key_sealed').where('id', '=', id).executeTakeFirst();
}

/** The distinct first `length` characters of the sealed values (which name their master key), no secret read. */
export async function distinctSealedPrefixes(db: Executor, length: number): Promise<string[]> {
  const rows = await db
    .selectFrom('host_keys')
    .select(sql<string>`substr(private_key_sealed, 1, ${sql.lit(length)})`.as('prefix'))
    .distinct()
    .execute();
  return rows.map((r) => r.prefix);
}

export async function listAllSealed(db: Executor) {
  return db.selectFrom('host_keys').select(['id', 'project_id', 'hostname', 'fingerprint_sha256', 'private_key_sealed']).execute();
}

export async function replaceSealed(db: Executor, id: number, before: string, after: string): Promise<boolean> {
  const result = await db.updateTable('host_keys').set({ private_key_sealed: after }).where('id', '=', id).where('private_key_sealed', '=', before).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Per-host keys a policy covers: an account's projects', or every one (accountId null). */
export async function listForPolicy(db: Executor, accountId: number | null) {
  let query = db
    .selectFrom('host_keys')
    .innerJoin('projects', 'projects.id', 'host_keys.project_id')
    .select(['host_keys.id', 'host_keys.hostname', 'host_keys.fingerprint_sha256', 'host_keys.key_type', 'host_keys.public_key', 'host_keys.created_at', 'host_keys.expires_at']);
  if (accountId !== null) query = query.where('projects.account_id', '=', accountId);
  return query.orderBy('host_keys.id').limit(10_000).execute();
}

/** Per-host keys whose expiry lies in [from, to], with their project's account and name. */
export async function listExpiring(db: Executor, from: string, to: string) {
  return db
    .selectFrom('host_keys')
    .innerJoin('projects', 'projects.id', 'host_keys.project_id')
    .select([
      'host_keys.id',
      'host_keys.hostname',
      'host_keys.fingerprint_sha256',
      'host_keys.expires_at',
      'host_keys.created_at',
      'projects.account_id',
      'projects.vcs',
      'projects.name as project_name',
    ])
    .where('host_keys.expires_at', '>=', from)
    .where('host_keys.expires_at', '<=', to)
    .orderBy('host_keys.id')
    .execute();
}
