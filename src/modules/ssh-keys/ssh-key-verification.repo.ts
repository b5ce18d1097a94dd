// Proof-of-possession challenges (ssh_key_challenges): Kysely queries only.
import type { Insertable } from 'kysely';
import type { Executor, SshKeyChallengesTable } from '../../db/schema.ts';

export async function findChallenge(db: Executor, sshKeyId: number) {
  return db.selectFrom('ssh_key_challenges').selectAll().where('ssh_key_id', '=', sshKeyId).executeTakeFirst();
}

/** Replaces the key's challenge (asking again makes the earlier one worthless). */
export async function replaceChallenge(db: Executor, row: Insertable<SshKeyChallengesTable>): Promise<void> {
  await db.deleteFrom('ssh_key_challenges').where('ssh_key_id', '=', row.ssh_key_id).execute();
  await db.insertInto('ssh_key_challenges').values(row).execute();
}

/**
 * Marks this very challenge used, if nobody has: the row lock (PostgreSQL) or the one writer (SQLite)
 * lets exactly one of two racing answers through. Returns whether this call was the one.
 */
export async function useChallenge(db: Executor, sshKeyId: number, challengeSha256: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable('ssh_key_challenges')
    .set({ used_at: at })
    .where('ssh_key_id', '=', sshKeyId)
    .where('challenge_sha256', '=', challengeSha256)
    .where('used_at', 'is', null)
    .where('expires_at', '>', at)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
