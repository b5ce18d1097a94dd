// The one place a credential stops being trusted from the cache. Every change that ends a cached
// credential's use (a key deleted, a user disabled or deleted, an account deleted) calls one of these
// after its transaction commits; this node forgets the entries at once, and on PostgreSQL the change
// is announced with NOTIFY so every other node sharing the database forgets them too
// (db/invalidation-listener.ts). The cache's TTL stays the backstop for a missed announcement.
import type { CachedCredential } from './api-keys.service.ts';
import type { CredentialCache } from './credential-cache.ts';

/** What to forget: small JSON, far under PostgreSQL's 8000-byte NOTIFY payload limit. */
export type Eviction = { all: true } | { key: number } | { user: number } | { account: number };

export const INVALIDATION_CHANNEL = 'keysmith_invalidate';
/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; past this we announce "clear all". */
const MAX_PAYLOAD_BYTES = 7_000;

export function encodeEviction(eviction: Eviction): string {
  const payload = JSON.stringify(eviction);
  return Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES ? JSON.stringify({ all: true }) : payload;
}

/** Reads an announcement; anything not in the vocabulary means "clear all" (the safe reading). */
export function decodeEviction(payload: string): Eviction {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return { all: true };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { all: true };
  const entries: [string, unknown][] = Object.entries(value);
  if (entries.length !== 1) return { all: true };
  const [name, id] = entries[0]!;
  if (!Number.isSafeInteger(id)) return { all: true };
  switch (name) {
    case 'key':
      return { key: id as number };
    case 'user':
      return { user: id as number };
    case 'account':
      return { account: id as number };
    default:
      return { all: true };
  }
}

function matcher(eviction: Eviction): ((c: CachedCredential) => boolean) | undefined {
  if ('key' in eviction) return (c) => c.keyId === eviction.key;
  if ('user' in eviction) return (c) => c.actor.type === 'user' && c.actor.userId === eviction.user;
  if ('account' in eviction) return (c) => c.actor.type === 'service' && c.actor.accountId === eviction.account;
  return undefined;
}

export interface CredentialInvalidationDeps {
  cache: CredentialCache<CachedCredential>;
  /** Tells the other nodes (PostgreSQL NOTIFY); absent on SQLite, which serves one process. */
  announce?: (payload: string) => Promise<void>;
  logger?: { warn(obj: object, msg: string): void };
}

export function createCredentialInvalidation({ cache, announce, logger }: CredentialInvalidationDeps) {
  /** Forgets on this node only: what an announcement from another node asks. */
  const apply = (eviction: Eviction): void => {
    const matches = matcher(eviction);
    if (matches) cache.evict(matches);
    else cache.clear();
  };
  const forget = async (eviction: Eviction): Promise<void> => {
    apply(eviction);
    if (!announce) return;
    try {
      await announce(encodeEviction(eviction));
    } catch (err) {
      // The change is committed; the other nodes' TTL still ends the credential's use.
      logger?.warn({ err }, 'could not announce a credential invalidation to the other nodes; their cache forgets it within its TTL');
    }
  };
  return {
    apply,
    forgetKey: (keyId: number) => forget({ key: keyId }),
    forgetUser: (userId: number) => forget({ user: userId }),
    forgetAccount: (accountId: number) => forget({ account: accountId }),
    forgetAll: () => forget({ all: true }),
  };
}

export type CredentialInvalidation = ReturnType<typeof createCredentialInvalidation>;
