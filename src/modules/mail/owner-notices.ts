// What a person is emailed about their own credentials (a user's SSH keys and user API keys): the
// services that make the change, and the scheduler, queue an OwnerNotice in the transaction of the
// change; the mail module (mail.service.ts) turns it into a short plain-text message to the user's
// address and sends it after commit. Nothing here ever carries a secret.
import type { Executor } from '../../db/schema.ts';
import type { CredentialKind } from '../webhooks/webhook-events.ts';

export type OwnerNoticeKind =
  /** A new SSH key or API key was added to your account. */
  | 'created'
  /** Expires in `daysLeft` days (30, 7 or 1), at `expiresAt`. */
  | 'expiring'
  /** Expired at `expiresAt`. */
  | 'expired'
  /** Revoked because it was reported as leaked. */
  | 'revoked_leaked'
  /** Unused so long that it will be disabled at `disablesAt` unless it is used. */
  | 'dormant_warning'
  /** Disabled because it was unused for `unusedDays` days; its owner can enable it again. */
  | 'disabled_dormant';

export interface NoticeCredential {
  type: Extract<CredentialKind, 'ssh_key' | 'user_api_key'>;
  id: number;
  /** The key's title or name. */
  name: string;
  /** An SSH key's SHA256 fingerprint, or an API key's start. */
  fingerprint: string;
}

export interface OwnerNotice {
  kind: OwnerNoticeKind;
  /** The user whose credential it is; emailed at their address if they have one. */
  userId: number;
  credential: NoticeCredential;
  expiresAt?: string;
  daysLeft?: number;
  disablesAt?: string;
  unusedDays?: number;
}

/** Queues notices in the caller's transaction; sent after commit. A no-op when email is not configured. */
export interface OwnerMailer {
  enqueue(trx: Executor, notice: OwnerNotice): Promise<void>;
  /** Asks for a delivery run soon (after a commit that queued something). */
  kick(): void;
}
