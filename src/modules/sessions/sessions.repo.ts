import { readBool } from '../../db/dialect.ts';
import type { Executor } from '../../db/schema.ts';

export async function insertSession(db: Executor, s: { id_hash: string; user_id: number; csrf_hash: string; created_at: string; expires_at: string }) {
  await db.insertInto('sessions').values(s).execute();
}

export async function findSession(db: Executor, idHash: string) {
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select(['sessions.user_id', 'sessions.csrf_hash', 'sessions.expires_at', 'users.login', 'users.name', 'users.email', 'users.created_at', 'users.is_site_admin', 'users.disabled_at'])
    .select((eb) => eb('users.password_hash', 'is not', null).as('has_password'))
    .where('sessions.id_hash', '=', idHash)
    .executeTakeFirst();
  return row && { ...row, is_site_admin: readBool(row.is_site_admin), has_password: readBool(row.has_password) };
}

export async function deleteSession(db: Executor, idHash: string): Promise<void> {
  await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
}

export async function deleteExpiredSessions(db: Executor, now: string): Promise<void> {
  await db.deleteFrom('sessions').where('expires_at', '<', now).execute();
}

/** Ends every session of the user but the one whose hash is `keepIdHash`, if given. */
export async function deleteSessionsOf(db: Executor, userId: number, keepIdHash?: string): Promise<number> {
  let query = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (keepIdHash !== undefined) query = query.where('id_hash', '!=', keepIdHash);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}
