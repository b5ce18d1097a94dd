// Rotation's writes to api_keys (the claim on the old key, its successor) and the replay table of
// rotates sent with an Idempotency-Key. Timestamps are ISO 8601 text, compared as text.
import { sql, type Insertable } from 'kysely';
import type { ApiKeyRotationReplaysTable, Executor } from '../../db/schema.ts';

/**
 * Marks the key rotated, ending at `revokedAfter`, only if no rotation got there first: on
 * PostgreSQL a concurrent rotation waits for this row and then finds it claimed. True if claimed.
 */
export async function claimRotation(db: Executor, id: number, revokedAfter: string): Promise<boolean> {
  const result = await db.updateTable('api_keys').set({ revoked_after: revokedAfter }).where('id', '=', id).where('revoked_after', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function setSuccessor(db: Executor, id: number, successorId: number): Promise<void> {
  await db.updateTable('api_keys').set({ superseded_by: successorId }).where('id', '=', id).execute();
}

/** The successor of a rotated key (its start, to name it), or undefined if it was deleted since. */
export async function findSuccessor(db: Executor, id: number) {
  return db
    .selectFrom('api_keys as old')
    .innerJoin('api_keys as successor', 'successor.id', 'old.superseded_by')
    .select(['successor.id', 'successor.start', 'successor.name'])
    .where('old.id', '=', id)
    .executeTakeFirst();
}

/** The projects a limited runner key reads, to copy onto its successor. */
export async function listProjectIds(db: Executor, apiKeyId: number): Promise<number[]> {
  const rows = await db.selectFrom('service_key_projects').select('project_id').where('api_key_id', '=', apiKeyId).execute();
  return rows.map((r) => r.project_id);
}

/** A replay still inside its window; an expired row is never read, even before the sweep removes it. */
export async function findReplay(db: Executor, caller: string, idempotencyKeyHash: string, now: string) {
  return db
    .selectFrom('api_key_rotation_replays')
    .select(['id', 'request_hash', 'old_key_id', 'new_key_id', 'sealed', 'expires_at'])
    .where('caller', '=', caller)
    .where('idempotency_key_hash', '=', idempotencyKeyHash)
    .where('expires_at', '>', now)
    .executeTakeFirst();
}

export async function insertReplay(db: Executor, replay: Insertable<ApiKeyRotationReplaysTable>): Promise<void> {
  await db.insertInto('api_key_rotation_replays').values(replay).execute();
}

/** Removes this caller's expired replay under the same header, so the header can be used again. */
export async function deleteExpiredReplay(db: Executor, caller: string, idempotencyKeyHash: string, now: string): Promise<void> {
  await db.deleteFrom('api_key_rotation_replays').where('caller', '=', caller).where('idempotency_key_hash', '=', idempotencyKeyHash).where('expires_at', '<=', now).execute();
}

/** The sweep: destroys every sealed secret whose window has ended. Returns how many. */
export async function deleteExpiredReplays(db: Executor, now: string): Promise<number> {
  const result = await db.deleteFrom('api_key_rotation_replays').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** For master-key rotation: every sealed replay, and the compare-and-swap that re-wraps one. */
export async function listAllSealed(db: Executor) {
  return db.selectFrom('api_key_rotation_replays').select(['id', 'caller', 'idempotency_key_hash', 'sealed']).orderBy('id').execute();
}

export async function findSealed(db: Executor, id: number) {
  return db.selectFrom('api_key_rotation_replays').select(['sealed']).where('id', '=', id).executeTakeFirst();
}

export async function replaceSealed(db: Executor, id: number, before: string, after: string): Promise<boolean> {
  const result = await db.updateTable('api_key_rotation_replays').set({ sealed: after }).where('id', '=', id).where('sealed', '=', before).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function distinctSealedPrefixes(db: Executor, length: number): Promise<string[]> {
  const rows = await db
    .selectFrom('api_key_rotation_replays')
    .select(sql<string>`substr(sealed, 1, ${sql.lit(length)})`.as('prefix'))
    .distinct()
    .execute();
  return rows.map((r) => r.prefix);
}
