import type { Insertable } from 'kysely';
import type { Executor, MailOutboxTable } from '../../db/schema.ts';

export async function insertMessage(db: Executor, row: Insertable<MailOutboxTable>): Promise<number> {
  const { id } = await db.insertInto('mail_outbox').values(row).returning('id').executeTakeFirstOrThrow();
  return id;
}

/** Unsent messages whose next attempt is due and that no node holds a live lease on, oldest first. */
export const dueMessages = (db: Executor, now: string, limit: number) =>
  db
    .selectFrom('mail_outbox')
    .select(['id', 'to_address', 'subject', 'body', 'attempts', 'claimed_until'])
    .where('sent_at', 'is', null)
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(limit)
    .execute();

/**
 * Takes a due message for one attempt (compare-and-swap on the lease seen): only one node wins it.
 * PostgreSQL re-reads the row after a concurrent winner commits, so the loser's WHERE no longer matches.
 */
export async function claimMessage(db: Executor, id: number, seen: { attempts: number; claimed_until: string | null }, now: string, leaseUntil: string): Promise<boolean> {
  const result = await db
    .updateTable('mail_outbox')
    .set({ claimed_until: leaseUntil })
    .where('id', '=', id)
    .where('sent_at', 'is', null)
    .where('attempts', '=', seen.attempts)
    .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function markSent(db: Executor, id: number, attempts: number, at: string): Promise<void> {
  await db.updateTable('mail_outbox').set({ attempts, sent_at: at, next_attempt_at: null, claimed_until: null, last_error: null }).where('id', '=', id).execute();
}

/** A failed attempt: the next one at `nextAttemptAt`, or none (null: given up). */
export async function markFailed(db: Executor, id: number, attempts: number, nextAttemptAt: string | null, error: string): Promise<void> {
  await db.updateTable('mail_outbox').set({ attempts, next_attempt_at: nextAttemptAt, claimed_until: null, last_error: error }).where('id', '=', id).execute();
}

/** Sent messages sent before `before`, and given-up ones made before it. */
export async function deleteOld(db: Executor, before: string): Promise<number> {
  const result = await db
    .deleteFrom('mail_outbox')
    .where((eb) => eb.or([eb('sent_at', '<', before), eb.and([eb('sent_at', 'is', null), eb('next_attempt_at', 'is', null), eb('created_at', '<', before)])]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
