import type { Insertable } from 'kysely';
import { readBool } from '../../db/dialect.ts';
import * as dormancy from '../../db/dormancy.ts';
import type { ApiKeysTable, Executor } from '../../db/schema.ts';
import type { Scope } from '../access/roles.ts';

/** Rows leave with scopes decoded (stored as a JSON array, or null for the key's full role). */
const decoded = <R extends { scopes: string | null; limited_to_projects?: boolean | number }>(row: R) => ({
  ...row,
  scopes: row.scopes === null ? null : (JSON.parse(row.scopes) as Scope[]),
  ...(row.limited_to_projects === undefined ? {} : { limited_to_projects: readBool(row.limited_to_projects) }),
});

const listed = [
  'id',
  'kind',
  'user_id',
  'account_id',
  'name',
  'role',
  'start',
  'scopes',
  'expires_at',
  'last_used_at',
  'created_by',
  'created_at',
  'limited_to_projects',
  'rotated_from',
  'superseded_by',
  'revoked_after',
  'disabled_at',
] as const;

export async function insertApiKey(db: Executor, key: Insertable<ApiKeysTable>) {
  return decoded(await db.insertInto('api_keys').values(key).returning(listed).executeTakeFirstOrThrow());
}

/** The credential look-up on every authenticated request: the key plus its owner (user or account). */
export type CredentialRow = NonNullable<Awaited<ReturnType<typeof findKeyByHash>>>;

export async function findKeyByHash(db: Executor, tokenHash: string) {
  const row = await db
    .selectFrom('api_keys')
    .leftJoin('users', 'users.id', 'api_keys.user_id')
    .leftJoin('accounts', 'accounts.id', 'api_keys.account_id')
    .leftJoin('api_keys as successor', 'successor.id', 'api_keys.superseded_by')
    .select([
      'api_keys.id',
      'api_keys.kind',
      'api_keys.name',
      'api_keys.role',
      'api_keys.scopes',
      'api_keys.expires_at',
      'api_keys.revoked_after',
      'api_keys.disabled_at',
      'successor.start as successor_start',
      'api_keys.user_id',
      'api_keys.account_id',
      'users.login',
      'users.name as user_name',
      'users.email as user_email',
      'users.created_at as user_created_at',
      'users.is_site_admin',
      'users.disabled_at as user_disabled_at',
      'accounts.name as account_name',
    ])
    .where('api_keys.token_hash', '=', tokenHash)
    .executeTakeFirst();
  return row && { ...decoded(row), is_site_admin: readBool(row.is_site_admin) };
}

export async function listUserKeys(db: Executor, userId: number) {
  return (await db.selectFrom('api_keys').select(listed).where('kind', '=', 'user').where('user_id', '=', userId).orderBy('id').execute()).map(decoded);
}

export async function listServiceKeys(db: Executor, accountId: number) {
  const rows = await db
    .selectFrom('api_keys')
    .leftJoin('users', 'users.id', 'api_keys.created_by')
    .select(listed.map((c) => `api_keys.${c}` as const))
    .select('users.login as created_by_login')
    .where('api_keys.kind', '=', 'service')
    .where('api_keys.account_id', '=', accountId)
    .orderBy('api_keys.id')
    .execute();
  return rows.map(decoded);
}

export async function findUserKey(db: Executor, userId: number, id: number) {
  const row = await db.selectFrom('api_keys').select(listed).where('id', '=', id).where('kind', '=', 'user').where('user_id', '=', userId).executeTakeFirst();
  return row && decoded(row);
}

export async function findServiceKey(db: Executor, accountId: number, id: number) {
  const row = await db.selectFrom('api_keys').select(listed).where('id', '=', id).where('kind', '=', 'service').where('account_id', '=', accountId).executeTakeFirst();
  return row && decoded(row);
}

/** Limits a runner key to these projects (its row must say limited_to_projects). */
export async function insertKeyProjects(db: Executor, apiKeyId: number, projectIds: readonly number[]): Promise<void> {
  if (projectIds.length === 0) return;
  await db
    .insertInto('service_key_projects')
    .values(projectIds.map((project_id) => ({ api_key_id: apiKeyId, project_id })))
    .execute();
}

/** The projects each of these keys is limited to, in a stable order. */
export async function listKeyProjects(db: Executor, apiKeyIds: readonly number[]) {
  if (apiKeyIds.length === 0) return [];
  return db
    .selectFrom('service_key_projects')
    .innerJoin('projects', 'projects.id', 'service_key_projects.project_id')
    .select(['service_key_projects.api_key_id', 'projects.vcs', 'projects.name'])
    .where('service_key_projects.api_key_id', 'in', apiKeyIds)
    .orderBy('projects.vcs')
    .orderBy('projects.name_lower')
    .execute();
}

/** Whether the key is limited to projects, and if so whether this one is among them; undefined: no such key. */
export async function findProjectLimit(db: Executor, apiKeyId: number, projectId: number) {
  return db
    .selectFrom('api_keys')
    .leftJoin('service_key_projects', (join) => join.onRef('service_key_projects.api_key_id', '=', 'api_keys.id').on('service_key_projects.project_id', '=', projectId))
    .select(['api_keys.limited_to_projects', 'service_key_projects.project_id'])
    .where('api_keys.id', '=', apiKeyId)
    .executeTakeFirst()
    .then((row) => row && { ...row, limited_to_projects: readBool(row.limited_to_projects) });
}

export async function deleteApiKey(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('api_keys').where('id', '=', id).execute();
}

/** Moves `last_used_at` forward only, so a late flush never winds it back. */
export async function touchLastUsed(db: Executor, id: number, at: string): Promise<void> {
  await db
    .updateTable('api_keys')
    .set({ last_used_at: at })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
    .execute();
}

/** API keys a policy covers: an account's service keys, or every key (accountId null). */
export async function listForPolicy(db: Executor, accountId: number | null) {
  let query = db.selectFrom('api_keys').select(['id', 'kind', 'name', 'start', 'created_at', 'expires_at']);
  if (accountId !== null) query = query.where('kind', '=', 'service').where('account_id', '=', accountId);
  return query.orderBy('id').limit(10_000).execute();
}

/** The keys behind these token hashes, with their owner's name: one indexed read for a whole leak report. */
export async function findKeysByHashes(db: Executor, tokenHashes: readonly string[]) {
  if (tokenHashes.length === 0) return [];
  return keysByHashes(db, tokenHashes).execute();
}

/** The query itself, for the plan test: the unique token_hash index, then owners by primary key. */
export function keysByHashes(db: Executor, tokenHashes: readonly string[]) {
  return db
    .selectFrom('api_keys')
    .leftJoin('users', 'users.id', 'api_keys.user_id')
    .leftJoin('accounts', 'accounts.id', 'api_keys.account_id')
    .select(['api_keys.id', 'api_keys.kind', 'api_keys.name', 'api_keys.start', 'api_keys.user_id', 'api_keys.account_id', 'users.login', 'accounts.name as account_name'])
    .where('api_keys.token_hash', 'in', tokenHashes)
    .orderBy('api_keys.id');
}

/** Deletes these keys; returns the ids this call deleted (a concurrent delete of the same key wins once). */
export async function deleteApiKeys(db: Executor, ids: readonly number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await db.deleteFrom('api_keys').where('id', 'in', ids).returning('id').execute();
  return rows.map((r) => r.id);
}

/** Keys the scheduler looks at: owner ids and what it needs to name them; rotated-out and disabled keys are left out. */
function lifecycleRows(db: Executor) {
  return db
    .selectFrom('api_keys')
    .select(['id', 'kind', 'user_id', 'account_id', 'name', 'start', 'expires_at', 'created_at', 'last_used_at', 'enabled_at'])
    .where('revoked_after', 'is', null)
    .where('disabled_at', 'is', null);
}

/** Keys whose expiry lies in [from, to]. */
export async function listExpiring(db: Executor, from: string, to: string) {
  return lifecycleRows(db).where('expires_at', '>=', from).where('expires_at', '<=', to).orderBy('id').execute();
}

/** Enabled keys made, last used and last enabled before `before`. */
export async function listUnusedSince(db: Executor, before: string) {
  return lifecycleRows(db)
    .where('created_at', '<', before)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', before)]))
    .where((eb) => eb.or([eb('enabled_at', 'is', null), eb('enabled_at', '<', before)]))
    .orderBy('id')
    .execute();
}

/** Disables the key if it is enabled and neither used nor enabled after `activeAt`; says whether it did. */
export const disableIfUnused = (db: Executor, id: number, activeAt: string, at: string) => dormancy.disableIfUnused(db, 'api_keys', id, activeAt, at);

/** Enables a disabled key; says whether it was disabled. */
export const enable = (db: Executor, id: number, at: string) => dormancy.enable(db, 'api_keys', id, at);
