// The one error catalogue. Services throw AppError; each HTTP dialect renders it in its own shape.
// Every code maps to exactly one status, here and nowhere else.

export const errorStatus = {
  bad_request: 400,
  validation_failed: 400,
  credentials_required: 401,
  token_invalid: 401,
  token_expired: 401,
  token_rotated: 401,
  token_disabled: 401,
  login_failed: 401,
  forbidden: 403,
  role_required: 403,
  scope_required: 403,
  unrestricted_key_required: 403,
  account_mismatch: 403,
  csrf_required: 403,
  site_admin_required: 403,
  user_disabled: 403,
  password_incorrect: 403,
  grant_required: 403,
  user_key_required: 403,
  account_required: 400,
  reset_link_invalid: 400,
  not_found: 404,
  method_not_allowed: 405,
  name_taken: 409,
  last_owner: 409,
  last_site_admin: 409,
  conflict: 409,
  already_rotated: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  key_malformed: 422,
  key_type_refused: 422,
  key_too_weak: 422,
  key_is_private: 422,
  key_in_use_by_you: 422,
  key_in_use_elsewhere: 422,
  key_passphrase_protected: 422,
  key_is_public: 422,
  policy_violation: 422,
  idempotency_key_reused: 422,
  signature_invalid: 422,
  challenge_invalid: 422,
  rate_limited: 429,
  internal: 500,
  not_ready: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;
export const errorCodes = Object.keys(errorStatus) as ErrorCode[];

/**
 * The published catalogue: what each code means and what to do about it, one sentence each. Served
 * at /docs/errors with an anchor per code; every native error's docs_url points at its entry.
 */
export const errorCatalogue: Record<ErrorCode, { meaning: string; remedy: string }> = {
  bad_request: {
    meaning: 'The request could not be read: broken JSON, an empty body that claims to be JSON, or a character that cannot be stored.',
    remedy: 'Fix the request as the message says and send it again.',
  },
  validation_failed: {
    meaning: 'A field, query parameter or path segment breaks a rule; `field` names it.',
    remedy: 'Change that value as the message says; the API description at /docs lists every rule.',
  },
  credentials_required: { meaning: 'The request carries no credential, and this route needs one.', remedy: 'Send an API key as `Authorization: Bearer <key>`, or sign in to the console.' },
  token_invalid: { meaning: 'The credential is not a Keysmith API key, is mistyped (its checksum does not match), or has been deleted.', remedy: 'Copy the whole key again, or create a new one.' },
  token_expired: { meaning: 'The API key has passed its expiry date.', remedy: 'Create a new API key and use it instead.' },
  token_rotated: {
    meaning: 'The API key was rotated and its grace period has ended; the message names the start of the key that replaced it.',
    remedy: 'Use the new key (the one shown when the key was rotated); if it was lost, rotate or create another key.',
  },
  token_disabled: {
    meaning: 'The API key was disabled because it went unused longer than the policy allows (disable_unused_after_days); it was not deleted.',
    remedy: 'Its owner enables it again: POST /v1/user/api-keys/{id}/enable for your own key, or an owner or admin of the account with POST /v1/service-api-keys/{id}/enable.',
  },
  login_failed: { meaning: 'The login or the password is wrong.', remedy: 'Check the login and password and sign in again; after many failures, wait for the time Retry-After gives.' },
  forbidden: { meaning: 'The caller is known but may not do this.', remedy: 'Use a credential that may, as the message says.' },
  role_required: {
    meaning: "The caller's role in the account does not include this action (runner keys, which read private keys, are an owner's to create or delete).",
    remedy: 'Ask an owner or admin of the account for the role the message names, or use a service key with that role.',
  },
  scope_required: {
    meaning: 'The API key is limited to a list of scopes, and this action needs a scope it lacks.',
    remedy: 'Create a key with the scope the message names (or no scope list) and use it.',
  },
  unrestricted_key_required: { meaning: 'Keys limited to scopes cannot create keys, change grants or accounts.', remedy: 'Use an API key without a scope list, or the console.' },
  account_mismatch: { meaning: 'The X-Keysmith-Account header names an account other than the service key’s own.', remedy: 'Drop the header, or use a key of the account it names.' },
  csrf_required: {
    meaning: 'A change made with the session cookie lacks the X-CSRF-Token header that proves it comes from the console.',
    remedy: 'Send the CSRF token from POST /v1/session in X-CSRF-Token, or use an API key.',
  },
  site_admin_required: { meaning: 'Only a site administrator of this Keysmith instance may do this.', remedy: 'Ask a site administrator to do it.' },
  user_disabled: {
    meaning: 'A site admin has disabled this user: none of their sessions, API keys, SSH keys, checkout keys or grants work until they are enabled again (nothing was deleted).',
    remedy: 'Ask a site admin of this Keysmith instance to enable the user again.',
  },
  password_incorrect: {
    meaning: 'Changing your password needs your current one, and the one given is not right.',
    remedy: 'Send your current password as current_password, or ask a site admin for a set-password link.',
  },
  grant_required: {
    meaning: 'Keysmith acts on your own account (a user key as a checkout key) only under a standing grant you give.',
    remedy: 'Give the grant the message names under Settings → Permissions in the console (or PUT /v1/user/grants/<scope>), then try again.',
  },
  user_key_required: { meaning: "The thing asked for belongs to a person, so it needs a user's own key; this is a service key.", remedy: 'Use your own user API key, or the console.' },
  account_required: {
    meaning: 'The request does not say which account it is for, and the caller belongs to more than one (or none).',
    remedy: 'Send `X-Keysmith-Account: <account name>`, or create an account first.',
  },
  reset_link_invalid: {
    meaning: 'The set-password link is unknown, has expired (links last 24 hours) or has already been used.',
    remedy: 'Ask a site admin for a new set-password link.',
  },
  not_found: {
    meaning: 'There is nothing at this address, or it belongs to an account you cannot see (the two are not told apart).',
    remedy: 'Check the address and the account; ask a member of the account for access if it should be yours to see.',
  },
  method_not_allowed: { meaning: 'The address exists but does not take this HTTP method.', remedy: 'Use a method the Allow header lists.' },
  name_taken: { meaning: 'The name is already in use where it must be unique.', remedy: 'Choose another name, or use the existing one.' },
  last_owner: { meaning: 'The change would leave the account without an owner.', remedy: 'Make another member an owner first.' },
  last_site_admin: {
    meaning: 'The change would leave the instance without a site admin who is not disabled (the last one can be neither disabled, demoted nor deleted).',
    remedy: 'Make another user a site admin first (PATCH /v1/admin/users/<login> with site_admin true, or keysmith users make-admin <login>).',
  },
  already_rotated: {
    meaning: 'The API key has already been rotated; a key is rotated once, and the message names its successor.',
    remedy: 'Use the successor (rotate that one if you need a fresh secret), or retry with the same Idempotency-Key within ten minutes to see the new key again.',
  },
  conflict: { meaning: 'The request conflicts with the current state, for instance with a change made at the same moment.', remedy: 'Read the current state and try again.' },
  payload_too_large: { meaning: 'The request body is larger than 64 KiB.', remedy: 'Send a smaller body: no key or field needs that much.' },
  unsupported_media_type: { meaning: 'The request body is not sent as JSON.', remedy: 'Send it with `Content-Type: application/json`.' },
  key_malformed: { meaning: 'The text is not an SSH public key that ssh-keygen would accept.', remedy: 'Paste the whole line of your .pub file (type, base64 and optional comment).' },
  key_type_refused: {
    meaning: 'The key is of a type Keysmith does not accept: DSA, an SSH certificate, or an algorithm outside the accepted list.',
    remedy: 'Use an ed25519 key (`ssh-keygen -t ed25519`), or another type the message lists; for a certificate, paste the plain public key it was issued for.',
  },
  key_too_weak: { meaning: 'The RSA key is shorter than 2048 bits.', remedy: 'Generate a new key: `ssh-keygen -t ed25519`.' },
  key_is_private: {
    meaning: 'The text is a private key; only the public half belongs here.',
    remedy: 'Paste the contents of the .pub file instead, and treat the private key as exposed if you sent it anywhere.',
  },
  key_in_use_by_you: {
    meaning: 'This public key is already registered, on your account or one of your projects.',
    remedy: 'Use the existing registration, or delete it first to register the key elsewhere.',
  },
  key_in_use_elsewhere: { meaning: 'This public key is already registered by someone else in this instance; a key can be registered only once.', remedy: 'Generate a new key pair for this use.' },
  key_passphrase_protected: {
    meaning: 'The private key is encrypted with a passphrase, which Keysmith cannot use.',
    remedy: 'Remove the passphrase from a copy (`ssh-keygen -p -N "" -f <copy>`) and send that, or generate a new key.',
  },
  key_is_public: { meaning: 'A private key was expected, and this is a public key.', remedy: 'Send the private key file (the one without .pub).' },
  policy_violation: {
    meaning: "Creating this credential would break the instance's or the account's credential policy; `rule` names the policy field and `limit` its value.",
    remedy: 'Change the request to fit the limit (a nearer expires_at, another key type, a larger RSA key, a shorter ttl_seconds), or ask whoever sets the policy to change it.',
  },
  idempotency_key_reused: {
    meaning: 'The Idempotency-Key header was already used, in the last ten minutes, for a different request (another key or another body).',
    remedy: 'Send a fresh Idempotency-Key for a new request, or repeat the first request exactly to get its answer again.',
  },
  signature_invalid: {
    meaning: 'The SSH signature sent to prove possession of a key is not an OpenSSH signature, was made with another key or namespace, or does not cover the challenge.',
    remedy: 'Run the command the challenge came with (ssh-keygen -Y sign -n keysmith with the private key of this SSH key) and paste its whole output.',
  },
  challenge_invalid: {
    meaning: 'There is no challenge to answer for this SSH key: none was asked for, it has expired (challenges last 10 minutes) or it has been used.',
    remedy: 'Ask for a new challenge (POST …/verification), sign it and send the signature within 10 minutes.',
  },
  rate_limited: { meaning: 'Too many attempts in a short time.', remedy: 'Wait the number of seconds the Retry-After header gives, then try again.' },
  not_ready: {
    meaning: 'This node is not ready for work: it is shutting down, a database migration is still pending, or its database does not answer.',
    remedy: 'Send the request to another node, or wait until GET /readyz answers 200.',
  },
  internal: { meaning: 'Something went wrong on the server; it has been logged.', remedy: 'Try again; if it keeps happening, give the operator of this Keysmith instance the request_id.' },
};

/** Where a code is explained: its anchor on the served error catalogue. */
export const errorDocsUrl = (publicUrl: string, code: ErrorCode): string => `${publicUrl}/docs/errors#${code}`;

export interface ErrorDetails {
  /** The request field the error is about, when there is one. */
  field?: string;
  /** Extra machine-readable fields a dialect may render (never secrets). */
  extra?: Record<string, string | number | boolean | null>;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly remedy: string | undefined;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, remedy?: string, details: ErrorDetails = {}) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.remedy = remedy;
    this.details = details;
  }

  get status(): number {
    return errorStatus[this.code];
  }
}

export const notFound = (what: string): AppError => new AppError('not_found', `${what} was not found, or you do not have access to it.`);

export const isAppError = (err: unknown): err is AppError => err instanceof AppError;
