// The one error catalogue. Services throw AppError; each HTTP dialect renders it in its own shape.
// Every code maps to exactly one status, here and nowhere else.

export const errorStatus = {
  bad_request: 400,
  validation_failed: 400,
  credentials_required: 401,
  token_invalid: 401,
  token_expired: 401,
  login_failed: 401,
  forbidden: 403,
  role_required: 403,
  scope_required: 403,
  unrestricted_key_required: 403,
  account_mismatch: 403,
  csrf_required: 403,
  site_admin_required: 403,
  grant_required: 403,
  user_key_required: 403,
  account_required: 400,
  not_found: 404,
  method_not_allowed: 405,
  name_taken: 409,
  last_owner: 409,
  conflict: 409,
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
  rate_limited: 429,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof errorStatus;

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

export const notFound = (what: string): AppError =>
  new AppError('not_found', `${what} was not found, or you do not have access to it.`);

export const isAppError = (err: unknown): err is AppError => err instanceof AppError;
