// The shapes the console reads, as the native /v1 API describes them at /openapi.json (and /docs).
import type { Policy as ServerPolicy } from '../../../src/modules/policies/policy.types.ts';
export type { AuditAction } from '../../../src/modules/audit/audit.actions.ts';
export type { MemberRole, ServiceRole, Scope } from '../../../src/modules/access/roles.ts';
import type { MemberRole, Scope, ServiceRole } from '../../../src/modules/access/roles.ts';

export interface User {
  id: number;
  login: string;
  name: string | null;
  email: string | null;
  site_admin: boolean;
  /** A disabled user's sessions, keys and grants do not work until a site admin enables them again. */
  disabled: boolean;
  /** Whether a console password is set (changing it then needs the current one). */
  has_password: boolean;
  created_at: string;
}

/** POST /v1/admin/users/{login}/password-reset: a one-time link to set a password. */
export interface PasswordLink {
  url: string;
  expires_at: string;
}

export interface Account {
  name: string;
  role: MemberRole | 'runner';
  created_at: string | null;
}

export interface Member {
  login: string;
  name: string | null;
  role: MemberRole;
  created_at: string;
}

export interface ApiKey {
  id: number;
  name: string;
  start: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  scopes: Scope[] | null;
  /** The key this one replaced by rotation. */
  rotated_from: number | null;
  /** Once rotated: the key that replaced it, and when this one stops working. */
  rotated_to: number | null;
  stops_working_at: string | null;
  /** Set while the key is disabled for going unused. */
  disabled_at: string | null;
}

export interface ServiceKey extends ApiKey {
  role: ServiceRole;
  created_by: string | null;
  /** A runner key limited to these projects' private keys; null: every project of the account. */
  projects: string[] | null;
}

export type Created<T> = T & { key: string };

/** GET /v1/user/ssh-keys */
export interface SshKey {
  id: number;
  title: string;
  key: string;
  type: string;
  bits: number | null;
  fingerprint_sha256: string;
  fingerprint_md5: string;
  read_only: boolean;
  url: string;
  created_at: string;
  last_used_at: string | null;
  /** Null: never expires. */
  expires_at: string | null;
  expired: boolean;
  /** True once the holder proved possession (PUT /v1/user/ssh-keys/{id}/verification). */
  verified: boolean;
  verified_at: string | null;
  /** Set while the key is disabled for going unused: SSH servers refuse it until it is enabled again. */
  disabled_at: string | null;
}

/** POST /v1/user/ssh-keys/{id}/verification */
export interface VerificationChallenge {
  challenge: string;
  namespace: 'keysmith';
  expires_at: string;
  command: string;
}

/** GET /v1/projects/{vcs}/{account}/{name}/deploy-keys */
export interface DeployKey extends SshKey {
  added_by: string | null;
}

export interface GrantKey {
  fingerprint: string;
  fingerprint_sha256: string;
  project: string;
  ssh_key_id: number;
}

export interface Grant {
  scope: string;
  title: string;
  allows: string;
  granted: boolean;
  granted_at: string | null;
  keys?: GrantKey[];
}

export interface Heroku {
  configured: boolean;
  last4: string | null;
}

export interface Project {
  slug: string;
  vcs_type: string;
  name: string;
  account: string;
  created_at: string;
}

/** GET /v1/projects/{vcs}/{account}/{name}/checkout-keys */
export interface CheckoutKey {
  public_key: string;
  type: 'deploy' | 'user';
  fingerprint_md5: string;
  fingerprint_sha256: string;
  preferred: boolean;
  url: string;
  created_at: string;
}

/** GET /v1/projects/{vcs}/{account}/{name}/ssh-keys */
export interface HostKey {
  hostname: string;
  fingerprint: string;
  fingerprint_sha256: string;
  public_key: string;
  created_at: string;
  expires_at: string | null;
  expired: boolean;
}

export interface AuditEvent {
  id: number;
  occurred_at: string;
  /** How many identical events the row stands for (refused sign-ins are counted); 1 otherwise. */
  count: number;
  last_occurred_at: string | null;
  action: string;
  actor: { type: string; id: number | null; label: string | null };
  target: { type: string; id: string | null; label: string | null } | null;
  remote_addr: string | null;
  user_agent: string | null;
  details: Record<string, string | number | boolean | null> | null;
}

/** GET /v1/admin/policy, GET /v1/accounts/{account}/policy: null is no limit. */
export interface Policy extends ServerPolicy {
  updated_at: string | null;
}

/** GET …/policy/violations */
export type { PolicyViolation } from '../../../src/modules/policies/policy.types.ts';

/** GET /v1/accounts/{account}/webhooks; POST adds `secret`, shown that once. */
export interface Webhook {
  id: number;
  url: string;
  description: string;
  events: string[];
  created_by: string;
  created_at: string;
}

export interface DeliveryAttempt {
  attempted_at: string;
  /** The receiver's HTTP status; null when it never answered (see `error`). */
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

/** GET …/webhooks/{id}/deliveries, newest first. `pending` is queued (no attempt yet) or retrying. */
export interface Delivery {
  id: string;
  event: string;
  event_id: string;
  state: 'pending' | 'delivered' | 'failed';
  created_at: string;
  delivered_at: string | null;
  next_attempt_at: string | null;
  last_status_code: number | null;
  attempts: DeliveryAttempt[];
}

/** POST …/ping and …/redeliver: the new delivery, queued. */
export interface QueuedDelivery {
  id: string;
  event: string;
  state: 'pending';
}

/** GET /v1/user/email-notices */
export interface EmailNotices {
  /** Whether anything is emailed to you: the server sends email and you have an address. */
  email_enabled: boolean;
  /** Whether this server sends email at all (SMTP settings). */
  mail_configured: boolean;
  address: string | null;
  notices: Array<{ kind: string; description: string }>;
}
