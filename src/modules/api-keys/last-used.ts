// `last_used_at` without a database write per request: uses are noted in memory and written in one
// transaction every few seconds (and at shutdown). Lists merge the pending values, so callers see
// the truth at once.
import type { Db } from '../../db/schema.ts';
import * as repo from './api-keys.repo.ts';

export function createLastUsedTracker({ db, clock }: { db: Db; clock: { now(): Date } }) {
  let pending = new Map<number, string>();

  return {
    touch(keyId: number): void {
      pending.set(keyId, clock.now().toISOString());
    },

    /** The later of the stored value and a use not yet written. */
    merge(keyId: number, stored: string | null): string | null {
      const noted = pending.get(keyId);
      return noted !== undefined && (stored === null || noted > stored) ? noted : stored;
    },

    async flush(): Promise<void> {
      if (pending.size === 0) return;
      const batch = pending;
      pending = new Map();
      await db.transaction().execute(async (trx) => {
        for (const [id, at] of batch) await repo.touchLastUsed(trx, id, at);
      });
    },
  };
}

export type LastUsedTracker = ReturnType<typeof createLastUsedTracker>;
