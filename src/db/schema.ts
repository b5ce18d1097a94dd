// Kysely's view of the tables. Timestamps are ISO 8601 UTC strings on both databases
// (db/dialect.ts makes PostgreSQL hand them back that way); booleans read as boolean or 0/1.
import type { Generated, Kysely, SqlBool, Transaction } from 'kysely';

export interface OwnerNamesTable {
  name_lower: string;
  kind: 'user' | 'account';
}

export interface UsersTable {
  id: Generated<number>;
  login: string;
  login_lower: string;
  name: string | null;
  email: string | null;
  password_hash: string | null;
  is_site_admin: SqlBool;
  /** Set while a site admin has disabled the user: none of their credentials work. */
  disabled_at: string | null;
  created_at: string;
}

export interface AccountsTable {
  id: Generated<number>;
  name: string;
  name_lower: string;
  created_at: string;
}

export interface MembershipsTable {
  account_id: number;
  user_id: number;
  role: 'owner' | 'admin' | 'read_write' | 'read_only';
  created_at: string;
}

export interface ProjectsTable {
  id: Generated<number>;
  account_id: number;
  vcs: 'gh' | 'bb';
  name: string;
  name_lower: string;
  created_at: string;
}

export interface ApiKeysTable {
  id: Generated<number>;
  kind: 'user' | 'service';
  user_id: number | null;
  account_id: number | null;
  name: string;
  role: 'admin' | 'read_write' | 'read_only' | 'runner' | 'ssh_server' | null;
  token_hash: string;
  start: string;
  /** JSON array of scope names, or null for an unrestricted key. */
  scopes: string | null;
  expires_at: string | null;
  last_used_at: string | null;
  created_by: number | null;
  created_at: string;
  /** A runner key limited to the projects in service_key_projects (none left: it reads nothing). */
  limited_to_projects: Generated<SqlBool>;
  /** The key this one replaced by rotation. */
  rotated_from: number | null;
  /** Set on a rotated key: its successor, and when it stops working (the end of the grace period). */
  superseded_by: number | null;
  revoked_after: string | null;
  /** Set while the key is disabled for going unused (dormant); its owner can enable it again. */
  disabled_at: string | null;
  /** When its owner last enabled it again: the unused period counts from the latest of this, last use and creation. */
  enabled_at: string | null;
}

/** The sealed answer of a rotate sent with an Idempotency-Key, kept ten minutes for retries. */
export interface ApiKeyRotationReplaysTable {
  id: Generated<number>;
  caller: string;
  idempotency_key_hash: string;
  request_hash: string;
  old_key_id: number;
  new_key_id: number;
  sealed: string;
  created_at: string;
  expires_at: string;
}

/** The projects a limited runner key may fetch checkout credentials for. */
export interface ServiceKeyProjectsTable {
  api_key_id: number;
  project_id: number;
}

export interface SessionsTable {
  id_hash: string;
  user_id: number;
  csrf_hash: string;
  created_at: string;
  expires_at: string;
}

export interface AuditEventsTable {
  id: Generated<number>;
  occurred_at: string;
  actor_type: 'user' | 'service_key' | 'anonymous' | 'system';
  actor_id: number | null;
  actor_label: string | null;
  account_id: number | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  target_label: string | null;
  remote_addr: string | null;
  user_agent: string | null;
  /** JSON object with non-secret details. */
  details: string | null;
  /** How many identical events this row stands for (refused authentications are counted per window). */
  count: Generated<number>;
  /** The last of the counted events; null when the row is one event. */
  last_occurred_at: string | null;
  /** A refused sign-in's login tried, lower-cased (for the user's security log); null otherwise. */
  login_tried: string | null;
}

export interface SshKeysTable {
  id: Generated<number>;
  kind: 'user' | 'deploy';
  user_id: number | null;
  project_id: number | null;
  title: string;
  key_type: string;
  /** `<type> <base64>`, canonical, without comment. */
  public_key: string;
  fingerprint_sha256: string;
  fingerprint_md5: string;
  bits: number;
  read_only: SqlBool;
  added_by: number | null;
  created_at: string;
  last_used_at: string | null;
  /** Null: never expires. */
  expires_at: string | null;
  /** When the holder proved possession by signing a challenge; null until then. */
  verified_at: string | null;
  /** Set while the key is disabled for going unused (dormant); SSH lookups skip it until it is enabled again. */
  disabled_at: string | null;
  /** When its owner last enabled it again. */
  enabled_at: string | null;
}

/** A user's request to prove possession of an SSH key: the challenge's hashes, never the challenge. */
export interface SshKeyChallengesTable {
  ssh_key_id: number;
  challenge_sha256: string;
  challenge_sha512: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface CheckoutKeysTable {
  id: Generated<number>;
  project_id: number;
  /** The public half, registered as a deploy key of the project or as the user's own key. */
  ssh_key_id: number;
  kind: 'deploy' | 'user';
  user_id: number | null;
  public_key: string;
  fingerprint_md5: string;
  fingerprint_sha256: string;
  /** envelope.seal() output; the associated data is the record's identity (checkoutKeyAad). */
  private_key_sealed: string;
  created_by: number | null;
  created_at: string;
}

export interface HostKeysTable {
  id: Generated<number>;
  project_id: number;
  /** Empty means every host. */
  hostname: string;
  key_type: string;
  public_key: string;
  fingerprint_md5: string;
  fingerprint_sha256: string;
  private_key_sealed: string;
  created_by: number | null;
  created_at: string;
  /** Null: never expires. */
  expires_at: string | null;
}

export interface HerokuKeysTable {
  user_id: number;
  sealed: string;
  last4: string;
  created_at: string;
}

export interface GrantsTable {
  user_id: number;
  scope: string;
  created_at: string;
}

/** A set-password link: the SHA-256 of its token, single use, until expires_at. */
export interface PasswordResetsTable {
  token_hash: string;
  user_id: number;
  created_by: number | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface SshCaKeysTable {
  id: Generated<number>;
  account_id: number;
  state: 'active' | 'previous';
  public_key: string;
  fingerprint_sha256: string;
  private_key_sealed: string;
  created_at: string;
}

export interface SshCertificatesTable {
  id: Generated<number>;
  account_id: number;
  /** Unique per account, from 1, increasing. */
  serial: number;
  kind: 'user' | 'runner';
  user_id: number | null;
  project_id: number | null;
  service_key_id: number | null;
  requested_by: string;
  key_id: string;
  /** JSON array of strings. */
  principals: string;
  key_type: string;
  key_fingerprint_sha256: string;
  ca_fingerprint_sha256: string;
  valid_after: string;
  valid_before: string;
  created_at: string;
  revoked_at: string | null;
}

/** A credential policy: the instance's (scope 'instance') or an account's (scope 'account:<id>'); null = no limit. */
export interface PoliciesTable {
  scope: string;
  account_id: number | null;
  api_key_max_lifetime_days: number | null;
  ssh_key_max_lifetime_days: number | null;
  /** JSON array of allowed SSH key types. */
  ssh_key_types: string | null;
  rsa_min_bits: number | null;
  certificate_max_ttl_seconds: number | null;
  /** Credentials unused this many days are disabled (modules/credential-notices), warned 7 days before. */
  disable_unused_after_days: number | null;
  require_verified_ssh_keys: SqlBool | null;
  updated_by: number | null;
  updated_at: string;
}

export interface Database {
  owner_names: OwnerNamesTable;
  users: UsersTable;
  accounts: AccountsTable;
  memberships: MembershipsTable;
  projects: ProjectsTable;
  api_keys: ApiKeysTable;
  service_key_projects: ServiceKeyProjectsTable;
  api_key_rotation_replays: ApiKeyRotationReplaysTable;
  sessions: SessionsTable;
  audit_events: AuditEventsTable;
  ssh_keys: SshKeysTable;
  ssh_key_challenges: SshKeyChallengesTable;
  checkout_keys: CheckoutKeysTable;
  host_keys: HostKeysTable;
  heroku_keys: HerokuKeysTable;
  grants: GrantsTable;
  password_resets: PasswordResetsTable;
  ssh_ca_keys: SshCaKeysTable;
  ssh_certificates: SshCertificatesTable;
  rate_limit_hits: RateLimitHitsTable;
  sign_in_failures: SignInFailuresTable;
  policies: PoliciesTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  mail_outbox: MailOutboxTable;
  credential_notices: CredentialNoticesTable;
}

export type Db = Kysely<Database>;
/** What every repository function takes first: the database or an open transaction. */
export type Executor = Kysely<Database> | Transaction<Database>;

/** Hits per bucket, key and fixed window, shared by every node (modules/limits). */
export interface RateLimitHitsTable {
  bucket: string;
  key: string;
  window_start_ms: number;
  window_end_ms: number;
  hits: number;
}

/** The sign-in throttle's counts, shared by every node (modules/sessions). */
export interface SignInFailuresTable {
  /** 'address', 'login' or 'pair' (key: JSON [login, address]). */
  scope: string;
  key: string;
  /** Pairs only: the normalised login, so a site admin's clear finds its pairs. */
  login: string | null;
  failures: number;
  last_failure_ms: number;
}

/** An account's webhook (modules/webhooks). */
export interface WebhooksTable {
  id: Generated<number>;
  account_id: number;
  url: string;
  description: string;
  /** JSON array of event names. */
  events: string;
  secret_sealed: string;
  created_by: string;
  created_at: string;
}

/** One event for one webhook: the outbox row, written with the change it reports. */
export interface WebhookDeliveriesTable {
  /** A UUID, sent as X-Keysmith-Delivery. */
  id: string;
  webhook_id: number;
  event: string;
  /** The exact body sent (JSON). */
  payload: string;
  state: 'pending' | 'delivered' | 'failed';
  attempts: number;
  /** When the next attempt is due; null once delivered or given up. */
  next_attempt_at: string | null;
  last_status_code: number | null;
  created_at: string;
  delivered_at: string | null;
}

export interface WebhookAttemptsTable {
  id: Generated<number>;
  delivery_id: string;
  attempted_at: string;
  /** The receiver's HTTP status; null when it could not be reached or timed out. */
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

/** One email to a person about their own credential, rendered when the change was made (modules/mail). */
export interface MailOutboxTable {
  id: Generated<number>;
  user_id: number;
  to_address: string;
  subject: string;
  /** The plain-text body, exactly as sent. */
  body: string;
  created_at: string;
  /** When the next attempt is due; null once sent or given up. */
  next_attempt_at: string | null;
  attempts: number;
  /** While a node is sending it: until when the attempt is that node's alone. */
  claimed_until: string | null;
  sent_at: string | null;
  /** The SMTP server's answer to the last failed attempt (the recipient's address left out). */
  last_error: string | null;
}

/** A time-based notice the scheduler has given (modules/credential-notices): one row, so never twice. */
export interface CredentialNoticesTable {
  /** 'api_key', 'ssh_key' or 'host_key': the table the credential is a row of. */
  credential_type: string;
  credential_id: number;
  /** 'expiring_30', 'expiring_7', 'expiring_1', 'expired' or 'dormant_warning'. */
  notice: string;
  /** The expiry announced, or the last activity a dormant warning counted from. */
  basis: string;
  given_at: string;
}
