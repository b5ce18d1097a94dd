// The credential look-up is the one query on every authenticated request. Its result is kept here
// for a few seconds so the hot path costs a hash and a map read. Entries are forgotten through
// credential-invalidation.ts the moment a key, its user or its account changes, on this node and
// (by NOTIFY) on every other node sharing a PostgreSQL database; the TTL is the backstop.
// Memberships are never cached: leaving an account takes effect at once everywhere.
export interface CredentialCache<T> {
  /** `nowMs`: the caller's reading of the clock, when it has one (one clock read per request). */
  get(hash: string, nowMs?: number): T | undefined;
  /** Taken before a database read; set() ignores a value read before a later clear(). */
  generation(): number;
  set(hash: string, value: T, readAt: number): void;
  clear(): void;
  /** Forgets the entries `matches` picks (a disabled user's keys), and any look-up in flight. */
  evict(matches: (value: T) => boolean): void;
}

/** Told of each get(): a fresh entry (hit) or none (miss). Metrics bind these once; they must stay cheap. */
export interface CacheCounts {
  hit(): void;
  miss(): void;
}

const uncounted: CacheCounts = { hit: () => {}, miss: () => {} };

export function createCredentialCache<T>({ clock, ttlMs, maxEntries, counts = uncounted }: { clock: { now(): Date }; ttlMs: number; maxEntries: number; counts?: CacheCounts }): CredentialCache<T> {
  const entries = new Map<string, { value: T; until: number }>();
  let generation = 0;
  return {
    generation: () => generation,
    get(hash, nowMs) {
      const entry = entries.get(hash);
      if (!entry) {
        counts.miss();
        return undefined;
      }
      if (entry.until <= (nowMs ?? clock.now().getTime())) {
        entries.delete(hash);
        counts.miss();
        return undefined;
      }
      counts.hit();
      return entry.value;
    },
    set(hash, value, readAt) {
      // A key deleted while this look-up was in flight must not come back.
      if (readAt !== generation) return;
      // Maps iterate in insertion order, so the first key is the oldest entry.
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
      entries.set(hash, { value, until: clock.now().getTime() + ttlMs });
    },
    clear() {
      generation++;
      entries.clear();
    },
    evict(matches) {
      generation++;
      for (const [hash, entry] of entries) if (matches(entry.value)) entries.delete(hash);
    },
  };
}
