import type { Insertable } from 'kysely';
import { readBool } from '../../db/dialect.ts';
import type { Executor, UsersTable } from '../../db/schema.ts';

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
