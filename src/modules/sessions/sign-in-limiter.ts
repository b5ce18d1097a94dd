// Slows password guessing: after too many failed sign-ins for one login from one address in a
// window, further attempts are refused with 429 until the window ends.
const WINDOW_MS = 15 * 60 * 1000;
const MAX_FAILURES = 10;

export function createSignInLimiter(clock: { now(): Date }) {
  const failures = new Map<string, { count: number; resetAt: number }>();

  return {
    /** Milliseconds until attempts are allowed again, or 0 when they are allowed now. */
    retryAfterMs(key: string): number {
      const entry = failures.get(key);
      const now = clock.now().getTime();
      if (!entry || entry.resetAt <= now) return 0;
      return entry.count >= MAX_FAILURES ? entry.resetAt - now : 0;
    },
    fail(key: string): void {
      const now = clock.now().getTime();
      const entry = failures.get(key);
      if (!entry || entry.resetAt <= now) failures.set(key, { count: 1, resetAt: now + WINDOW_MS });
      else entry.count++;
      if (failures.size > 100_000) {
        for (const [k, v] of failures) if (v.resetAt <= now) failures.delete(k);
      }
    },
    succeed(key: string): void {
      failures.delete(key);
    },
  };
}
