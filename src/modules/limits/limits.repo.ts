import { sql } from 'kysely';
import type { Executor } from '../../db/schema.ts';

/** One atomic increment (insert, or add one to the existing row); returns the window's hits. */
export async function incrementHits(db: Executor, w: { bucket: string; key: string; windowStartMs: number; windowEndMs: number }): Promise<number> {
  const row = await db
    .insertInto('rate_limit_hits')
    .values({ bucket: w.bucket, key: w.key, window_start_ms: w.windowStartMs, window_end_ms: w.windowEndMs, hits: 1 })
    .onConflict((oc) => oc.columns(['bucket', 'key', 'window_start_ms']).doUpdateSet({ hits: sql<number>`rate_limit_hits.hits + 1` }))
    .returning('hits')
    .executeTakeFirstOrThrow();
  return Number(row.hits);
}

export async function deleteEndedWindows(db: Executor, nowMs: number): Promise<number> {
  const result = await db.deleteFrom('rate_limit_hits').where('window_end_ms', '<=', nowMs).executeTakeFirst();
  return Number(result.numDeletedRows);
}
