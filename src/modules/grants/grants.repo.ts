import type { Executor } from '../../db/schema.ts';

export async function listGrants(db: Executor, userId: number) {
  return db.selectFrom('grants').select(['scope', 'created_at']).where('user_id', '=', userId).execute();
}

export async function findGrant(db: Executor, userId: number, scope: string) {
  return db.selectFrom('grants').select(['scope', 'created_at']).where('user_id', '=', userId).where('scope', '=', scope).executeTakeFirst();
}

export async function insertGrant(db: Executor, grant: { user_id: number; scope: string; created_at: string }): Promise<void> {
  await db.insertInto('grants').values(grant).execute();
}

export async function deleteGrant(db: Executor, userId: number, scope: string): Promise<void> {
  await db.deleteFrom('grants').where('user_id', '=', userId).where('scope', '=', scope).execute();
}
