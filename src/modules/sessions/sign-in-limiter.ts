// Slows password guessing without letting a guesser lock the real user out. Failed sign-ins are
// counted per client address and per login; past a number of free failures each further failure
// makes the next attempt wait, the wait doubling up to a cap:
// - per address (any login): the tight curve, so one address cannot guess for long;
// - per login (any address): a gentler curve that starts later and is capped low, so failures from
//   elsewhere only ever delay the owner by a little, never lock them out.
// A successful sign-in forgives the failures that login made from that address (in both counts);
// a site admin can clear a login's throttle. Attempts refused here are not counted as failures.
// The state is in memory and bounded; a restart forgets it.
//
// The numbers, in one place (README: Sign-in throttling):
export const THROTTLE = {
  address: { freeFailures: 5, firstDelayMs: 1_000, maxDelayMs: 15 * 60_000 },
  login: { freeFailures: 20, firstDelayMs: 1_000, maxDelayMs: 60_000 },
  /** Failures are forgotten this long after the last one for the same address, login or pair. */
  forgetAfterMs: 60 * 60_000,
  /** At most this many addresses, logins and pairs each are remembered; the stalest go first. */
  maxEntries: 100_000,
} as const;

interface Count {
  failures: number;
  lastFailureAt: number;
}

type Curve = { freeFailures: number; firstDelayMs: number; maxDelayMs: number };

/** How long after the last failure the next attempt must wait, for `failures` failures. */
export function delayFor(curve: Curve, failures: number): number {
  if (failures < curve.freeFailures) return 0;
  const doublings = failures - curve.freeFailures;
  // 2^31 ms is beyond any cap; stop doubling before the number grows without need.
  return doublings >= 31 ? curve.maxDelayMs : Math.min(curve.maxDelayMs, curve.firstDelayMs * 2 ** doublings);
}

function boundedCounts(now: () => number) {
  const counts = new Map<string, Count>();
  const live = (key: string): Count | undefined => {
    const entry = counts.get(key);
    if (entry && now() - entry.lastFailureAt >= THROTTLE.forgetAfterMs) {
      counts.delete(key);
      return undefined;
    }
    return entry;
  };
  return {
    get: live,
    add(key: string, n = 1): void {
      const entry = live(key);
      // Re-inserting keeps the map in order of last failure, so the stalest entry is first.
      counts.delete(key);
      counts.set(key, { failures: (entry?.failures ?? 0) + n, lastFailureAt: now() });
      while (counts.size > THROTTLE.maxEntries) counts.delete(counts.keys().next().value!);
    },
    subtract(key: string, n: number): void {
      const entry = live(key);
      if (!entry) return;
      if (entry.failures <= n) counts.delete(key);
      else entry.failures -= n;
    },
    delete: (key: string) => counts.delete(key),
    keys: () => counts.keys(),
  };
}

export interface Refusal {
  /** Which count refused the attempt. */
  by: 'address' | 'login';
  retryAfterMs: number;
}

export function createSignInLimiter(clock: { now(): Date }) {
  const now = () => clock.now().getTime();
  const byAddress = boundedCounts(now);
  const byLogin = boundedCounts(now);
  const byPair = boundedCounts(now);
  const pairKey = (login: string, address: string) => JSON.stringify([login, address]);
  const norm = (login: string) => login.toLowerCase();

  const wait = (curve: Curve, entry: Count | undefined): number => (entry ? Math.max(0, entry.lastFailureAt + delayFor(curve, entry.failures) - now()) : 0);

  /** Forgets the failures `login` made from `address`, in the pair's, the address's and the login's counts. */
  const forgive = (login: string, address: string) => {
    const key = pairKey(login, address);
    const pair = byPair.get(key);
    if (!pair) return;
    byPair.delete(key);
    byAddress.subtract(address, pair.failures);
    byLogin.subtract(login, pair.failures);
  };

  return {
    /** Why an attempt must wait now, or undefined when it may go ahead. */
    check(login: string, address: string): Refusal | undefined {
      const fromAddress = wait(THROTTLE.address, byAddress.get(address));
      const forLogin = wait(THROTTLE.login, byLogin.get(norm(login)));
      if (fromAddress === 0 && forLogin === 0) return undefined;
      return fromAddress >= forLogin ? { by: 'address', retryAfterMs: fromAddress } : { by: 'login', retryAfterMs: forLogin };
    },
    fail(login: string, address: string): void {
      byAddress.add(address);
      byLogin.add(norm(login));
      byPair.add(pairKey(norm(login), address));
    },
    succeed(login: string, address: string): void {
      forgive(norm(login), address);
    },
    /** A site admin's clear: the login's count, and its failures' share of every address's count. */
    clearLogin(login: string): void {
      const name = norm(login);
      for (const key of [...byPair.keys()]) {
        const [pairLogin, address] = JSON.parse(key) as [string, string];
        if (pairLogin === name) forgive(name, address);
      }
      byLogin.delete(name);
    },
  };
}
