// API keys' `last_used_at` without a database write per request: every use is noted in memory
// (db/last-used-buffer.ts) and written in one transaction every few seconds and at shutdown.
import type { Db } from '../../db/schema.ts';
import { createLastUsedBuffer, type LastUsedBuffer } from '../../db/last-used-buffer.ts';
import * as repo from './api-keys.repo.ts';

export function createLastUsedTracker({ db, clock }: { db: Db; clock: { now(): Date } }): LastUsedBuffer {
  return createLastUsedBuffer({ db, clock, write: repo.touchLastUsed });
}

export type LastUsedTracker = LastUsedBuffer;
