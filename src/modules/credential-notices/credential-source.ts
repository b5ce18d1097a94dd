// What the scheduler (credential-notices.service.ts) asks of each module that owns credentials: the
// ones whose expiry is near or just past, the ones unused since a cut-off, and to disable one that
// went dormant. The owning module answers from its own table; the scheduler never reads it.
import type { Executor } from '../../db/schema.ts';
import type { CredentialKind } from '../webhooks/webhook-events.ts';

/** Who is told about a credential: a person (by email) or an account (by its webhooks). */
export type CredentialOwner = { type: 'user'; userId: number } | { type: 'account'; accountId: number };

export interface CredentialFacts {
  /** The event vocabulary's kind (user_api_key, service_api_key, ssh_key, deploy_key, host_key). */
  kind: CredentialKind;
  id: number;
  /** The title, name or host. */
  name: string;
  /** An SSH key's SHA256 fingerprint, or an API key's start: never a secret. */
  fingerprint: string;
  owner: CredentialOwner;
  expiresAt: string | null;
  /** The latest of its creation, its last use and its last enabling: being unused counts from here. */
  activeAt: string;
}

export interface CredentialSource {
  /** The table the credentials are rows of, which names them in credential_notices. */
  table: 'api_key' | 'ssh_key' | 'host_key';
  /** Live credentials whose expiry lies in [from, to]. */
  listExpiring(exec: Executor, from: string, to: string): Promise<CredentialFacts[]>;
  /** Dormancy, for the credentials whose use Keysmith sees (API keys, SSH keys); absent for the rest. */
  dormancy?: {
    /** Enabled credentials created, last used and last enabled before `before`. */
    listUnusedSince(exec: Executor, before: string): Promise<CredentialFacts[]>;
    /**
     * Disables it if it is still enabled and unused since `activeAt` (a use or an enabling since then
     * wins); audited as the scheduler, in the caller's transaction. Says whether it did.
     */
    disable(trx: Executor, credential: CredentialFacts, at: string, unusedDays: number): Promise<boolean>;
    /** After the commit: stop honouring it wherever it is cached (every node). */
    afterDisable?(credential: CredentialFacts): Promise<void>;
  };
}

/** The latest of a row's timestamps, as the ISO string it is stored as. */
export function latestOf(...times: Array<string | null>): string {
  let best = '';
  let bestMs = -Infinity;
  for (const t of times) {
    if (t === null) continue;
    const ms = Date.parse(t);
    if (ms > bestMs) {
      best = t;
      bestMs = ms;
    }
  }
  return best;
}
