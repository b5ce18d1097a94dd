import { sql, type Insertable, type Updateable } from 'kysely';
import { readBool } from '../../db/dialect.ts';
import type { Executor, PasswordResetsTable, UsersTable } from '../../db/schema.ts';

/** Rows leave with is_site_admin as a boolean on both databases. */
const normalised = <R extends { is_site_admin: boolean | number }>(row: R | undefined) => (row ? { ...row, is_site_admin: readBool(row.is_site_admin) } : undefined);

/** Claims a name in the namespace users and accounts share; throws a unique violation if taken. */
export async function claimOwnerName(db: Executor, nameLower: string, kind: 'user' | 'account'): Promise<void> {
  await db.insertInto('owner_names').values({ name_lower: nameLower, kind }).execute();
}

export async function releaseOwnerName(db: Executor, nameLower: string): Promise<void> {
  await db.deleteFrom('owner_names').where('name_lower', '=', nameLower).execute();
}

export async function insertUser(db: Executor, user: Insertable<UsersTable>) {
  return normalised(await db.insertInto('users').values(user).returningAll().executeTakeFirstOrThrow())!;
}

export async function findUserById(db: Executor, id: number) {
  return normalised(await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst());
}

export async function findUserByLogin(db: Executor, login: string) {
  return normalised(await db.selectFrom('users').selectAll().where('login_lower', '=', login.toLowerCase()).executeTakeFirst());
}

export async function countUsers(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Characters LIKE treats specially, escaped so a login prefix matches only itself. */
const likePrefix = (prefix: string): string => `${prefix.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

function withPrefix(db: Executor, prefix: string | undefined) {
  let query = db.selectFrom('users');
  if (prefix) query = query.where(sql<boolean>`login_lower like ${likePrefix(prefix)} escape '\\'`);
  return query;
}

/** Users ordered by login, optionally only those whose login starts with `prefix` (any case). */
export async function listUsers(db: Executor, prefix: string | undefined, limit: number, offset: number) {
  const rows = await withPrefix(db, prefix).selectAll().orderBy('login_lower').limit(limit).offset(offset).execute();
  return rows.map((r) => normalised(r)!);
}

export async function countUsersWithPrefix(db: Executor, prefix: string | undefined): Promise<number> {
  const row = await withPrefix(db, prefix)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Locks the user's row and every active (not disabled) site admin's, so two admins demoting,
 * disabling or deleting each other at once cannot both pass the last-site-admin check.
 */
export async function lockUserAndActiveSiteAdmins(db: Executor, userId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('users')
    .select(['id', 'is_site_admin', 'disabled_at'])
    .where((eb) => eb.or([eb('id', '=', userId), eb.and([eb('is_site_admin', '=', true), eb('disabled_at', 'is', null)])]))
    .orderBy('id')
    .forUpdate()
    .execute();
  return rows.filter((r) => readBool(r.is_site_admin) && r.disabled_at === null).map((r) => r.id);
}

export async function updateUser(db: Executor, id: number, changes: Updateable<UsersTable>) {
  return normalised(await db.updateTable('users').set(changes).where('id', '=', id).returningAll().executeTakeFirst());
}

export async function deleteUser(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('users').where('id', '=', id).execute();
}

export async function insertPasswordReset(db: Executor, row: Insertable<PasswordResetsTable>): Promise<void> {
  await db.insertInto('password_resets').values(row).execute();
}

export async function deletePasswordResetsOf(db: Executor, userId: number): Promise<void> {
  await db.deleteFrom('password_resets').where('user_id', '=', userId).execute();
}

/** A link with its user's login, locked for the transaction that uses it. */
export async function findPasswordReset(db: Executor, tokenHash: string) {
  return db
    .selectFrom('password_resets')
    .innerJoin('users', 'users.id', 'password_resets.user_id')
    .select(['password_resets.token_hash', 'password_resets.user_id', 'password_resets.expires_at', 'password_resets.used_at', 'users.login'])
    .where('password_resets.token_hash', '=', tokenHash)
    .forUpdate()
    .executeTakeFirst();
}

/** Marks a link used; false if another request used it first. */
export async function usePasswordReset(db: Executor, tokenHash: string, at: string): Promise<boolean> {
  const result = await db.updateTable('password_resets').set({ used_at: at }).where('token_hash', '=', tokenHash).where('used_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
