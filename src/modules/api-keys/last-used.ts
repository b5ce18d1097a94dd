// `last_used_at` without a database write per request: uses are noted in memory and written in one
// transaction every few seconds (and at shutdown). Lists merge the pending values, so callers see
// the truth at once.
import type { Db } from '../../db/schema.ts';
import * as repo from './api-keys.repo.ts';

export function createLastUsedTracker({ db, clock }: { db: Db; clock: { now(): Date } }) {
  // Epoch milliseconds: formatting a date on every request costs more than the rest of the note.
  let pending = new Map<number, number>();

  return {
    touch(keyId: number): void {
      pending.set(keyId, clock.now().getTime());
    },

    /** The later of the stored value and a use not yet written. */
    merge(keyId: number, stored: string | null): string | null {
      const noted = pending.get(keyId);
      if (noted === undefined) return stored;
      const iso = new Date(noted).toISOString();
      return stored === null || iso > stored ? iso : stored;
    },

    async flush(): Promise<void> {
      if (pending.size === 0) return;
      const batch = pending;
      pending = new Map();
      try {
        await db.transaction().execute(async (trx) => {
          for (const [id, at] of batch) await repo.touchLastUsed(trx, id, new Date(at).toISOString());
        });
      } catch (err) {
        // Keep the uses for the next flush; a newer use of the same key wins.
        for (const [id, at] of batch) if ((pending.get(id) ?? 0) < at) pending.set(id, at);
        throw err;
      }
    },
  };
}

export type LastUsedTracker = ReturnType<typeof createLastUsedTracker>;
