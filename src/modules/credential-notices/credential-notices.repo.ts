import type { Executor } from '../../db/schema.ts';

export interface NoticeKey {
  credential_type: string;
  credential_id: number;
  notice: string;
  basis: string;
}

/**
 * Records that this notice is given, in the caller's transaction; false when it was given already
 * (by this node earlier or by another one now: the primary key decides, and the loser writes nothing).
 */
export async function claim(db: Executor, key: NoticeKey, givenAt: string): Promise<boolean> {
  const rows = await db
    .insertInto('credential_notices')
    .values({ ...key, given_at: givenAt })
    .onConflict((oc) => oc.columns(['credential_type', 'credential_id', 'notice', 'basis']).doNothing())
    .returning('notice')
    .execute();
  return rows.length > 0;
}

/** Forgets notices that can no longer be given again: expiry notices of expiries long past, and old warnings. */
export async function prune(db: Executor, expiryNotices: readonly string[], expiredBefore: string, warningsGivenBefore: string): Promise<number> {
  const a = await db.deleteFrom('credential_notices').where('notice', 'in', expiryNotices).where('basis', '<', expiredBefore).executeTakeFirst();
  const b = await db.deleteFrom('credential_notices').where('notice', '=', 'dormant_warning').where('given_at', '<', warningsGivenBefore).executeTakeFirst();
  return Number(a.numDeletedRows) + Number(b.numDeletedRows);
}
