// The sign-in throttle's counts (sign_in_failures): every node reads and adds to the same rows.
import { sql } from 'kysely';
import type { Executor } from '../../db/schema.ts';

export type Scope = 'address' | 'login' | 'pair';

export interface FailureCount {
  scope: string;
  key: string;
  failures: number;
  last_failure_ms: number;
}

/** The live counts among `wanted` (a count whose last failure is before `liveAfterMs` is forgotten). */
export async function findCounts(db: Executor, wanted: { scope: Scope; key: string }[], liveAfterMs: number): Promise<FailureCount[]> {
  return db
    .selectFrom('sign_in_failures')
    .select(['scope', 'key', 'failures', 'last_failure_ms'])
    .where((eb) => eb.or(wanted.map((w) => eb.and([eb('scope', '=', w.scope), eb('key', '=', w.key)]))))
    .where('last_failure_ms', '>', liveAfterMs)
    .execute();
}

/** One more failure, atomically; a forgotten count starts again from one. */
export async function addFailure(db: Executor, row: { scope: Scope; key: string; login: string | null }, nowMs: number, liveAfterMs: number): Promise<void> {
  await db
    .insertInto('sign_in_failures')
    .values({ ...row, failures: 1, last_failure_ms: nowMs })
    .onConflict((oc) =>
      oc.columns(['scope', 'key']).doUpdateSet({
        failures: sql<number>`case when sign_in_failures.last_failure_ms > ${liveAfterMs} then sign_in_failures.failures + 1 else 1 end`,
        last_failure_ms: nowMs,
      }),
    )
    .execute();
}

/** Takes `n` failures off a live count, deleting it when none remain. */
export async function subtractFailures(db: Executor, scope: Scope, key: string, n: number, liveAfterMs: number): Promise<void> {
  await db
    .updateTable('sign_in_failures')
    .set({ failures: sql<number>`failures - ${n}` })
    .where('scope', '=', scope)
    .where('key', '=', key)
    .where('last_failure_ms', '>', liveAfterMs)
    .execute();
  await db.deleteFrom('sign_in_failures').where('scope', '=', scope).where('key', '=', key).where('failures', '<=', 0).execute();
}

export async function deleteCount(db: Executor, scope: Scope, key: string): Promise<void> {
  await db.deleteFrom('sign_in_failures').where('scope', '=', scope).where('key', '=', key).execute();
}

export async function findPairsOfLogin(db: Executor, login: string): Promise<{ key: string }[]> {
  return db.selectFrom('sign_in_failures').select('key').where('scope', '=', 'pair').where('login', '=', login).execute();
}

export async function deleteForgotten(db: Executor, liveAfterMs: number): Promise<void> {
  await db.deleteFrom('sign_in_failures').where('last_failure_ms', '<=', liveAfterMs).execute();
}
