import type { Executor } from '../../db/schema.ts';
import type { MemberRole } from '../access/roles.ts';

export async function insertAccount(db: Executor, account: { name: string; name_lower: string; created_at: string }) {
  return db.insertInto('accounts').values(account).returningAll().executeTakeFirstOrThrow();
}

export async function findAccountName(db: Executor, id: number): Promise<string | undefined> {
  return (await db.selectFrom('accounts').select('name').where('id', '=', id).executeTakeFirst())?.name;
}

export async function deleteAccount(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('accounts').where('id', '=', id).execute();
}

export async function listAccountsOfUser(db: Executor, userId: number) {
  return db
    .selectFrom('memberships')
    .innerJoin('accounts', 'accounts.id', 'memberships.account_id')
    .select(['accounts.id', 'accounts.name', 'accounts.created_at', 'memberships.role'])
    .where('memberships.user_id', '=', userId)
    .orderBy('accounts.name_lower')
    .execute();
}

export async function findMembership(db: Executor, accountId: number, userId: number) {
  return db.selectFrom('memberships').select(['role', 'created_at']).where('account_id', '=', accountId).where('user_id', '=', userId).executeTakeFirst();
}

/** The caller's role in the account named `name`, or undefined when they are not a member. */
export async function findAccountWithRole(db: Executor, name: string, userId: number) {
  return db
    .selectFrom('accounts')
    .innerJoin('memberships', 'memberships.account_id', 'accounts.id')
    .select(['accounts.id', 'accounts.name', 'memberships.role'])
    .where('accounts.name_lower', '=', name.toLowerCase())
    .where('memberships.user_id', '=', userId)
    .executeTakeFirst();
}

export async function insertMembership(db: Executor, m: { account_id: number; user_id: number; role: MemberRole; created_at: string }) {
  await db.insertInto('memberships').values(m).execute();
}

export async function updateMembershipRole(db: Executor, accountId: number, userId: number, role: MemberRole): Promise<void> {
  await db.updateTable('memberships').set({ role }).where('account_id', '=', accountId).where('user_id', '=', userId).execute();
}

export async function deleteMembership(db: Executor, accountId: number, userId: number): Promise<void> {
  await db.deleteFrom('memberships').where('account_id', '=', accountId).where('user_id', '=', userId).execute();
}

export async function listMembers(db: Executor, accountId: number) {
  return db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select(['users.id', 'users.login', 'users.name', 'memberships.role', 'memberships.created_at'])
    .where('memberships.account_id', '=', accountId)
    .orderBy('users.login_lower')
    .execute();
}

export async function countOwners(db: Executor, accountId: number): Promise<number> {
  const row = await db
    .selectFrom('memberships')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_id', '=', accountId)
    .where('role', '=', 'owner')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Serialises changes to one account's owners (a no-op on SQLite, whose writers already queue). */
export async function lockAccount(db: Executor, id: number): Promise<void> {
  await db.selectFrom('accounts').select('id').where('id', '=', id).forUpdate().execute();
}

/** The accounts this user is the only owner of, their rows locked (so no owner leaves meanwhile). */
export async function listSoleOwnedAccounts(db: Executor, userId: number): Promise<string[]> {
  const owned = await db
    .selectFrom('accounts')
    .innerJoin('memberships', 'memberships.account_id', 'accounts.id')
    .select(['accounts.id', 'accounts.name'])
    .where('memberships.user_id', '=', userId)
    .where('memberships.role', '=', 'owner')
    .orderBy('accounts.name_lower')
    .forUpdate()
    .execute();
  const sole: string[] = [];
  for (const account of owned) if ((await countOwners(db, account.id)) <= 1) sole.push(account.name);
  return sole;
}
