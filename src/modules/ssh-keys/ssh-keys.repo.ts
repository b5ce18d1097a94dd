import type { Insertable } from 'kysely';
import { readBool } from '../../db/dialect.ts';
import * as dormancy from '../../db/dormancy.ts';
import type { Executor, SshKeysTable } from '../../db/schema.ts';

const columns = [
  'ssh_keys.id',
  'ssh_keys.kind',
  'ssh_keys.user_id',
  'ssh_keys.project_id',
  'ssh_keys.title',
  'ssh_keys.key_type',
  'ssh_keys.public_key',
  'ssh_keys.fingerprint_sha256',
  'ssh_keys.fingerprint_md5',
  'ssh_keys.bits',
  'ssh_keys.read_only',
  'ssh_keys.created_at',
  'ssh_keys.last_used_at',
  'ssh_keys.expires_at',
  'ssh_keys.verified_at',
  'ssh_keys.disabled_at',
] as const;

/** A key with the login of whoever added it. */
function withAddedBy(db: Executor) {
  return db.selectFrom('ssh_keys').leftJoin('users', 'users.id', 'ssh_keys.added_by').select(columns).select('users.login as added_by');
}

/** Rows leave with read_only as a boolean on both databases. */
const normalised = <R extends { read_only: boolean | number }>(row: R) => ({ ...row, read_only: readBool(row.read_only) });

export type SshKeyRow = NonNullable<Awaited<ReturnType<typeof findById>>>;

export async function insertKey(db: Executor, key: Insertable<SshKeysTable>): Promise<number> {
  const row = await db.insertInto('ssh_keys').values(key).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

/** Many keys in one statement (bulk imports and benchmarks). */
export async function insertKeys(db: Executor, keys: Insertable<SshKeysTable>[]): Promise<void> {
  if (keys.length > 0) await db.insertInto('ssh_keys').values(keys).execute();
}

/** Many keys in one statement, handing back each new id with its fingerprint. */
export async function insertKeysReturningIds(db: Executor, keys: Insertable<SshKeysTable>[]): Promise<{ id: number; fingerprint_sha256: string }[]> {
  if (keys.length === 0) return [];
  return db.insertInto('ssh_keys').values(keys).returning(['id', 'fingerprint_sha256']).execute();
}

export async function findById(db: Executor, id: number) {
  const row = await withAddedBy(db).where('ssh_keys.id', '=', id).executeTakeFirst();
  return row && normalised(row);
}

export async function findByFingerprint(db: Executor, fingerprintSha256: string) {
  return db.selectFrom('ssh_keys').select(['id', 'kind', 'user_id', 'project_id']).where('fingerprint_sha256', '=', fingerprintSha256).executeTakeFirst();
}

export async function findExistingFingerprints(db: Executor, fingerprints: string[]): Promise<string[]> {
  if (fingerprints.length === 0) return [];
  const rows = await db.selectFrom('ssh_keys').select('fingerprint_sha256').where('fingerprint_sha256', 'in', fingerprints).execute();
  return rows.map((r) => r.fingerprint_sha256);
}

/** Who holds each of these fingerprints already (in chunks, under SQLite's bound-parameter limit). */
export async function findOwnersOfFingerprints(db: Executor, fingerprints: string[]) {
  const found: { id: number; kind: string; user_id: number | null; fingerprint_sha256: string }[] = [];
  for (let i = 0; i < fingerprints.length; i += 500) {
    const chunk = fingerprints.slice(i, i + 500);
    found.push(...(await db.selectFrom('ssh_keys').select(['id', 'kind', 'user_id', 'fingerprint_sha256']).where('fingerprint_sha256', 'in', chunk).execute()));
  }
  return found;
}

export type KeyOwner = { kind: 'user'; userId: number } | { kind: 'deploy'; projectId: number };

function owned(db: Executor, owner: KeyOwner) {
  const base = withAddedBy(db).where('ssh_keys.kind', '=', owner.kind);
  return owner.kind === 'user' ? base.where('ssh_keys.user_id', '=', owner.userId) : base.where('ssh_keys.project_id', '=', owner.projectId);
}

export async function listKeys(db: Executor, owner: KeyOwner, limit: number, offset: number) {
  return (await owned(db, owner).orderBy('ssh_keys.id').limit(limit).offset(offset).execute()).map(normalised);
}

export async function countKeys(db: Executor, owner: KeyOwner): Promise<number> {
  let query = db
    .selectFrom('ssh_keys')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('kind', '=', owner.kind);
  query = owner.kind === 'user' ? query.where('user_id', '=', owner.userId) : query.where('project_id', '=', owner.projectId);
  return Number((await query.executeTakeFirstOrThrow()).n);
}

export async function findOwnedKey(db: Executor, owner: KeyOwner, id: number) {
  const row = await owned(db, owner).where('ssh_keys.id', '=', id).executeTakeFirst();
  return row && normalised(row);
}

export async function deleteKey(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('ssh_keys').where('id', '=', id).execute();
}

export async function deleteKeys(db: Executor, ids: number[]): Promise<void> {
  if (ids.length > 0) await db.deleteFrom('ssh_keys').where('id', 'in', ids).execute();
}

/** A key's last use, never moved backwards (two nodes may flush out of order). */
export async function touchLastUsed(db: Executor, id: number, at: string): Promise<void> {
  await db
    .updateTable('ssh_keys')
    .set({ last_used_at: at })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
    .execute();
}

/**
 * SSH keys a policy covers, for its violations list: an account's deploy keys (checkout keys' public
 * halves included) and its members' own keys; every key for the instance (accountId null).
 */
export async function listForPolicy(db: Executor, accountId: number | null) {
  let query = db
    .selectFrom('ssh_keys')
    .select([
      'ssh_keys.id',
      'ssh_keys.kind',
      'ssh_keys.title',
      'ssh_keys.fingerprint_sha256',
      'ssh_keys.key_type',
      'ssh_keys.bits',
      'ssh_keys.created_at',
      'ssh_keys.expires_at',
      'ssh_keys.verified_at',
    ]);
  if (accountId !== null) {
    query = query
      .leftJoin('projects', 'projects.id', 'ssh_keys.project_id')
      .leftJoin('memberships', (join) => join.onRef('memberships.user_id', '=', 'ssh_keys.user_id').on('memberships.account_id', '=', accountId))
      .where((eb) =>
        eb.or([eb.and([eb('ssh_keys.kind', '=', 'deploy'), eb('projects.account_id', '=', accountId)]), eb.and([eb('ssh_keys.kind', '=', 'user'), eb('memberships.account_id', 'is not', null)])]),
      );
  }
  return query.orderBy('ssh_keys.id').limit(10_000).execute();
}

/** The holder proved possession (ssh-key-verification): the time of the latest proof. */
export async function setVerifiedAt(db: Executor, id: number, at: string): Promise<void> {
  await db.updateTable('ssh_keys').set({ verified_at: at }).where('id', '=', id).execute();
}

/** Enabled keys the scheduler looks at, with the account of a deploy key's project. */
function lifecycleRows(db: Executor) {
  return db
    .selectFrom('ssh_keys')
    .leftJoin('projects', 'projects.id', 'ssh_keys.project_id')
    .select([
      'ssh_keys.id',
      'ssh_keys.kind',
      'ssh_keys.user_id',
      'projects.account_id',
      'ssh_keys.title',
      'ssh_keys.fingerprint_sha256',
      'ssh_keys.expires_at',
      'ssh_keys.created_at',
      'ssh_keys.last_used_at',
      'ssh_keys.enabled_at',
    ])
    .where('ssh_keys.disabled_at', 'is', null);
}

/** Keys whose expiry lies in [from, to]. */
export async function listExpiring(db: Executor, from: string, to: string) {
  return lifecycleRows(db).where('ssh_keys.expires_at', '>=', from).where('ssh_keys.expires_at', '<=', to).orderBy('ssh_keys.id').execute();
}

/** Enabled keys made, last used and last enabled before `before`. */
export async function listUnusedSince(db: Executor, before: string) {
  return lifecycleRows(db)
    .where('ssh_keys.created_at', '<', before)
    .where((eb) => eb.or([eb('ssh_keys.last_used_at', 'is', null), eb('ssh_keys.last_used_at', '<', before)]))
    .where((eb) => eb.or([eb('ssh_keys.enabled_at', 'is', null), eb('ssh_keys.enabled_at', '<', before)]))
    .orderBy('ssh_keys.id')
    .execute();
}

/** Disables the key if it is enabled and neither used nor enabled after `activeAt`; says whether it did. */
export const disableIfUnused = (db: Executor, id: number, activeAt: string, at: string) => dormancy.disableIfUnused(db, 'ssh_keys', id, activeAt, at);

/** Enables a disabled key; says whether it was disabled. */
export const enable = (db: Executor, id: number, at: string) => dormancy.enable(db, 'ssh_keys', id, at);
