import { sql } from 'kysely';
import type { Executor } from '../../db/schema.ts';

export async function findHerokuKey(db: Executor, userId: number) {
  return db.selectFrom('heroku_keys').select(['last4', 'created_at']).where('user_id', '=', userId).executeTakeFirst();
}

export async function putHerokuKey(db: Executor, row: { user_id: number; sealed: string; last4: string; created_at: string }): Promise<void> {
  await db.deleteFrom('heroku_keys').where('user_id', '=', row.user_id).execute();
  await db.insertInto('heroku_keys').values(row).execute();
}

export async function deleteHerokuKey(db: Executor, userId: number): Promise<boolean> {
  const result = await db.deleteFrom('heroku_keys').where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function findSealed(db: Executor, userId: number) {
  return db.selectFrom('heroku_keys').select('sealed').where('user_id', '=', userId).executeTakeFirst();
}

/** The distinct first `length` characters of the sealed values (which name their master key), no secret read. */
export async function distinctSealedPrefixes(db: Executor, length: number): Promise<string[]> {
  const rows = await db
    .selectFrom('heroku_keys')
    .select(sql<string>`substr(sealed, 1, ${sql.lit(length)})`.as('prefix'))
    .distinct()
    .execute();
  return rows.map((r) => r.prefix);
}

export async function listAllSealed(db: Executor) {
  return db.selectFrom('heroku_keys').select(['user_id', 'sealed']).execute();
}

export async function replaceSealed(db: Executor, userId: number, before: string, after: string): Promise<boolean> {
  const result = await db.updateTable('heroku_keys').set({ sealed: after }).where('user_id', '=', userId).where('sealed', '=', before).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
