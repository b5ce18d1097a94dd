// Rate limits counted in the database, so every node sharing it counts the same hits: three nodes
// allow no more than one. A fixed window per (bucket, key): each hit is one atomic upsert that
// increments the window's row and returns the new count (SQLite and PostgreSQL alike).
//
//   const limiter = createRateLimiter({ db, clock });
//   const { allowed, retryAfterSeconds } = await limiter.hit('credentials.revoke', address, 60, 3600);
//
// Rows of ended windows are deleted by `prune()` (a periodic job's work) and, meanwhile, now and then
// by a hit itself.
import type { Db } from '../../db/schema.ts';
import * as repo from './limits.repo.ts';

export interface RateLimitResult {
  allowed: boolean;
  /** 0 when allowed; otherwise whole seconds until the window ends (at least 1). */
  retryAfterSeconds: number;
  /** Hits counted in this window, this one included. */
  hits: number;
}

/** Bucket names are ours (code constants); keys come from requests and are bounded here. */
const MAX_KEY_LENGTH = 512;
const PRUNE_EVERY_HITS = 1_000;

export function createRateLimiter({ db, clock }: { db: Db; clock: { now(): Date } }) {
  let sincePrune = 0;
  const prune = async (): Promise<number> => repo.deleteEndedWindows(db, clock.now().getTime());
  return {
    /** Counts one hit of `key` in `bucket`; allowed while the window's hits are at most `limit`. */
    async hit(bucket: string, key: string, limit: number, windowSeconds: number): Promise<RateLimitResult> {
      if (!Number.isInteger(limit) || limit < 0 || !Number.isInteger(windowSeconds) || windowSeconds <= 0) throw new Error(`bad rate limit ${limit} per ${windowSeconds} s`);
      const now = clock.now().getTime();
      const windowMs = windowSeconds * 1000;
      const start = now - (now % windowMs);
      const hits = await repo.incrementHits(db, { bucket, key: key.slice(0, MAX_KEY_LENGTH), windowStartMs: start, windowEndMs: start + windowMs });
      if (++sincePrune >= PRUNE_EVERY_HITS) {
        sincePrune = 0;
        await prune();
      }
      const allowed = hits <= limit;
      return { allowed, hits, retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((start + windowMs - now) / 1000)) };
    },
    /** Deletes the rows of windows that have ended; returns how many. */
    prune,
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
