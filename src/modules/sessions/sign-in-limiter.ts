// Slows password guessing without letting a guesser lock the real user out. Failed sign-ins are
// counted per client address and per login; past a number of free failures each further failure
// makes the next attempt wait, the wait doubling up to a cap:
// - per address (any login): the tight curve, so one address cannot guess for long;
// - per login (any address): a gentler curve that starts later and is capped low, so failures from
//   elsewhere only ever delay the owner by a little, never lock them out.
// A successful sign-in forgives the failures that login made from that address (in both counts);
// a site admin can clear a login's throttle. Attempts refused here are not counted as failures.
// The counts live in the database (sign_in_failures), so every node sharing it counts the same
// failures: three nodes allow no more guesses than one. Each failure is an atomic upsert.
//
import type { Db } from '../../db/schema.ts';
import * as repo from './sign-in-failures.repo.ts';

// The numbers, in one place (README: Sign-in throttling):
export const THROTTLE = {
  address: { freeFailures: 5, firstDelayMs: 1_000, maxDelayMs: 15 * 60_000 },
  login: { freeFailures: 20, firstDelayMs: 1_000, maxDelayMs: 60_000 },
  /** Failures are forgotten this long after the last one for the same address, login or pair. */
  forgetAfterMs: 60 * 60_000,
} as const;

type Curve = { freeFailures: number; firstDelayMs: number; maxDelayMs: number };

/** How long after the last failure the next attempt must wait, for `failures` failures. */
export function delayFor(curve: Curve, failures: number): number {
  if (failures < curve.freeFailures) return 0;
  const doublings = failures - curve.freeFailures;
  // 2^31 ms is beyond any cap; stop doubling before the number grows without need.
  return doublings >= 31 ? curve.maxDelayMs : Math.min(curve.maxDelayMs, curve.firstDelayMs * 2 ** doublings);
}

export interface Refusal {
  /** Which count refused the attempt. */
  by: 'address' | 'login';
  retryAfterMs: number;
}

/** Forgotten counts are deleted every this many failures noted by a node. */
const PRUNE_EVERY_FAILURES = 500;

export function createSignInLimiter({ db, clock }: { db: Db; clock: { now(): Date } }) {
  const now = () => clock.now().getTime();
  const liveAfter = () => now() - THROTTLE.forgetAfterMs;
  const pairKey = (login: string, address: string) => JSON.stringify([login, address]);
  const norm = (login: string) => login.toLowerCase();
  let sincePrune = 0;

  const wait = (curve: Curve, entry: repo.FailureCount | undefined): number => (entry ? Math.max(0, entry.last_failure_ms + delayFor(curve, entry.failures) - now()) : 0);

  /** Forgets the failures `login` made from `address`, in the pair's, the address's and the login's counts. */
  const forgive = (login: string, address: string) =>
    db.transaction().execute(async (trx) => {
      const key = pairKey(login, address);
      const [pair] = await repo.findCounts(trx, [{ scope: 'pair', key }], liveAfter());
      await repo.deleteCount(trx, 'pair', key);
      if (!pair) return;
      await repo.subtractFailures(trx, 'address', address, pair.failures, liveAfter());
      await repo.subtractFailures(trx, 'login', login, pair.failures, liveAfter());
    });

  return {
    /** Why an attempt must wait now, or undefined when it may go ahead. */
    async check(login: string, address: string): Promise<Refusal | undefined> {
      const rows = await repo.findCounts(
        db,
        [
          { scope: 'address', key: address },
          { scope: 'login', key: norm(login) },
        ],
        liveAfter(),
      );
      const fromAddress = wait(
        THROTTLE.address,
        rows.find((r) => r.scope === 'address'),
      );
      const forLogin = wait(
        THROTTLE.login,
        rows.find((r) => r.scope === 'login'),
      );
      if (fromAddress === 0 && forLogin === 0) return undefined;
      return fromAddress >= forLogin ? { by: 'address', retryAfterMs: fromAddress } : { by: 'login', retryAfterMs: forLogin };
    },
    async fail(login: string, address: string): Promise<void> {
      const name = norm(login);
      const at = now();
      await db.transaction().execute(async (trx) => {
        await repo.addFailure(trx, { scope: 'address', key: address, login: null }, at, liveAfter());
        await repo.addFailure(trx, { scope: 'login', key: name, login: null }, at, liveAfter());
        await repo.addFailure(trx, { scope: 'pair', key: pairKey(name, address), login: name }, at, liveAfter());
      });
      if (++sincePrune >= PRUNE_EVERY_FAILURES) {
        sincePrune = 0;
        await repo.deleteForgotten(db, liveAfter());
      }
    },
    async succeed(login: string, address: string): Promise<void> {
      await forgive(norm(login), address);
    },
    /** A site admin's clear: the login's count, and its failures' share of every address's count. */
    async clearLogin(login: string): Promise<void> {
      const name = norm(login);
      for (const { key } of await repo.findPairsOfLogin(db, name)) {
        const [, address] = JSON.parse(key) as [string, string];
        await forgive(name, address);
      }
      await repo.deleteCount(db, 'login', name);
    },
  };
}
