// A `last_used` column without a database write per use: uses are noted in memory and written in one
// transaction every few seconds (and at shutdown). Lists merge the pending values, so callers see
// the truth at once. With `minIntervalMs`, a key whose last use was written (or is waiting to be)
// less than that long ago is not noted again, so a busy key costs one write per interval.
// The owning module hands in its own write: the buffer knows no table.
import type { Db, Executor } from './schema.ts';

export interface LastUsedBufferDeps {
  db: Db;
  clock: { now(): Date };
  /** Writes one key's time, inside the flush's transaction (the owning module's repository). */
  write: (trx: Executor, id: number, at: string) => Promise<void>;
  /** 0 (the default): every use moves the time; otherwise at most one write per key per interval. */
  minIntervalMs?: number;
}

export function createLastUsedBuffer({ db, clock, write, minIntervalMs = 0 }: LastUsedBufferDeps) {
  // Epoch milliseconds: formatting a date on every request costs more than the rest of the note.
  let pending = new Map<number, number>();
  /** With an interval: what was written in the last interval, so a flush in flight is not repeated. */
  let written = new Map<number, number>();

  return {
    /**
     * Notes a use now; `stored` is the value the caller read with the key, when it has it; `nowMs` the
     * caller's reading of the clock, when it has one.
     */
    touch(id: number, stored?: string | null, nowMs?: number): void {
      const now = nowMs ?? clock.now().getTime();
      if (minIntervalMs > 0) {
        const last = Math.max(pending.get(id) ?? 0, written.get(id) ?? 0, stored ? Date.parse(stored) : 0);
        if (now - last < minIntervalMs) return;
      }
      pending.set(id, now);
    },

    /** The later of the stored value and a use not yet written. */
    merge(id: number, stored: string | null): string | null {
      const noted = pending.get(id);
      if (noted === undefined) return stored;
      const iso = new Date(noted).toISOString();
      return stored === null || iso > stored ? iso : stored;
    },

    async flush(): Promise<void> {
      if (minIntervalMs > 0) {
        const horizon = clock.now().getTime() - minIntervalMs;
        for (const [id, at] of written) if (at <= horizon) written.delete(id);
      }
      if (pending.size === 0) return;
      const batch = pending;
      pending = new Map();
      try {
        await db.transaction().execute(async (trx) => {
          for (const [id, at] of batch) await write(trx, id, new Date(at).toISOString());
        });
      } catch (err) {
        // Keep the uses for the next flush; a newer use of the same key wins.
        for (const [id, at] of batch) if ((pending.get(id) ?? 0) < at) pending.set(id, at);
        throw err;
      }
      if (minIntervalMs > 0) {
        if (written.size === 0) written = batch;
        else for (const [id, at] of batch) written.set(id, at);
      }
    },
  };
}

export type LastUsedBuffer = ReturnType<typeof createLastUsedBuffer>;
