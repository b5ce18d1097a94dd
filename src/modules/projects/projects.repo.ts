import type { Executor } from '../../db/schema.ts';

export type Vcs = 'gh' | 'bb';

export async function insertProject(db: Executor, p: { account_id: number; vcs: Vcs; name: string; name_lower: string; created_at: string }) {
  return db.insertInto('projects').values(p).returningAll().executeTakeFirstOrThrow();
}

export async function findProject(db: Executor, accountId: number, vcs: Vcs, name: string) {
  return db.selectFrom('projects').selectAll().where('account_id', '=', accountId).where('vcs', '=', vcs).where('name_lower', '=', name.toLowerCase()).executeTakeFirst();
}

export async function listProjects(db: Executor, accountId: number, limit: number, offset: number) {
  return db.selectFrom('projects').selectAll().where('account_id', '=', accountId).orderBy('vcs').orderBy('name_lower').limit(limit).offset(offset).execute();
}

export async function countProjects(db: Executor, accountId: number): Promise<number> {
  const row = await db
    .selectFrom('projects')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_id', '=', accountId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function deleteProject(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('projects').where('id', '=', id).execute();
}
