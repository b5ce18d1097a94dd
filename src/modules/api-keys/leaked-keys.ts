// Revoking API keys someone reported as leaked (README: Leaked credentials). The reporter is anyone
// (no credential), so nothing here may tell them which strings were real keys: every string that is a
// well-formed Keysmith token costs the same one shared read, whatever it turns out to be, and the
// caller answers the same whatever was revoked. Strings that are not Keysmith tokens (shape or
// checksum) cost nothing and are ignored. Revoking deletes the key, so it answers 401 token_invalid
// from then on, here and (through the invalidation announcement) on every other node.
import { parseToken } from '../../crypto/token.ts';
import type { Db, Executor } from '../../db/schema.ts';
import type { AnonymousOrigin, AuditEntry, AuditService } from '../audit/audit.service.ts';
import * as repo from './api-keys.repo.ts';
import type { CredentialInvalidation } from './credential-invalidation.ts';

/** One revoked key, as the owner's notification (webhook, email) will need it; never the secret. */
export interface ApiKeyRevoked {
  event: 'credential.revoked';
  reason: 'leaked';
  key: { id: number; kind: 'user' | 'service'; name: string; start: string };
  /** Whose key it was: a user's own key, or an account's service key. */
  owner: { type: 'user'; userId: number; login: string } | { type: 'account'; accountId: number; name: string };
  revokedAt: string;
  /** The address the report came from. */
  reportedFrom: string | null;
}

/**
 * Where "its owner is told" plugs in. Notifications subscribe here: `inTransaction` runs inside the
 * revoking transaction (an outbox row commits with the revocation or not at all); `afterCommit` runs
 * once it has committed (mail, logs). Neither may see a secret: none is passed.
 */
export interface RevocationHooks {
  inTransaction?(trx: Executor, revoked: readonly ApiKeyRevoked[]): Promise<void>;
  afterCommit?(revoked: readonly ApiKeyRevoked[]): void;
}

interface Deps {
  db: Db;
  invalidation: Pick<CredentialInvalidation, 'forgetKey'>;
  audit: Pick<AuditService, 'recordMany'>;
  hooks: RevocationHooks;
  clock: { now(): Date };
  logger: { error(obj: object, msg: string): void };
}

/** The distinct token hashes among the strings: only well-formed Keysmith tokens with a right checksum, surrounding whitespace aside. */
export function leakCandidates(strings: readonly string[]): string[] {
  const hashes = new Set<string>();
  for (const s of strings) {
    // A scanner's match may carry the line's whitespace; the token itself never has any.
    const parsed = parseToken(s.trim());
    if (parsed.ok) hashes.add(parsed.hash);
  }
  return [...hashes];
}

export function createLeakedKeyRevocation({ db, invalidation, audit, hooks, clock, logger }: Deps) {
  return {
    /** Revokes every API key among the strings; returns how many (for the caller's logs only, never the reporter). */
    async revokeLeaked(origin: AnonymousOrigin, strings: readonly string[]): Promise<number> {
      const hashes = leakCandidates(strings);
      if (hashes.length === 0) return 0;
      const revokedAt = clock.now().toISOString();
      const revoked = await db.transaction().execute(async (trx) => {
        const found = await repo.findKeysByHashes(trx, hashes);
        if (found.length === 0) return [];
        // A key another report (or its owner) deleted meanwhile is not revoked twice.
        const deleted = new Set(
          await repo.deleteApiKeys(
            trx,
            found.map((k) => k.id),
          ),
        );
        const events: ApiKeyRevoked[] = found
          .filter((k) => deleted.has(k.id))
          .map((k) => ({
            event: 'credential.revoked',
            reason: 'leaked',
            key: { id: k.id, kind: k.kind, name: k.name, start: k.start },
            owner: k.kind === 'user' ? { type: 'user', userId: k.user_id!, login: k.login! } : { type: 'account', accountId: k.account_id!, name: k.account_name! },
            revokedAt,
            reportedFrom: origin.remoteAddr,
          }));
        const entries: AuditEntry[] = events.map((e) => ({
          action: 'api_key.revoke',
          accountId: e.owner.type === 'account' ? e.owner.accountId : null,
          target: { type: 'api_key', id: e.key.id, label: e.key.name },
          details: { reason: 'leaked', kind: e.key.kind, start: e.key.start, ...(e.owner.type === 'user' ? { user: e.owner.login } : { account: e.owner.name }) },
        }));
        await audit.recordMany(trx, origin, entries);
        if (events.length > 0) await hooks.inTransaction?.(trx, events);
        return events;
      });
      // After commit, so a request racing the revocation cannot put a key back in any node's cache.
      for (const e of revoked) await invalidation.forgetKey(e.key.id);
      if (revoked.length > 0) {
        try {
          hooks.afterCommit?.(revoked);
        } catch (err) {
          // The keys are revoked and audited; a failing subscriber must not turn that into an error.
          logger.error({ err }, 'a subscriber to revoked API keys failed');
        }
      }
      return revoked.length;
    },
  };
}

export type LeakedKeyRevocation = ReturnType<typeof createLeakedKeyRevocation>;
