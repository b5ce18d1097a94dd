// The console's only way to the server: Keysmith's native /v1 API, signed in with the session cookie.
// Every change carries the session's CSRF token; every error arrives in the native shape and becomes
// one ApiError whose message is the server's own sentence.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    readonly remedy?: string,
    /** For grant_required: the console page where the grant is given (the server's grant_url). */
    readonly grantUrl?: string,
    /** For grant_required: the grant the request needs. */
    readonly grant?: string,
    /** The request field the error is about, when the server names one. */
    readonly field?: string,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
let onSessionEnded: (() => void) | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when the server says the session is gone (expired, or signed out in another tab). */
export function whenSessionEnds(callback: (() => void) | null): void {
  onSessionEnded = callback;
}

type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  body?: unknown;
  /** Sent as X-Keysmith-Account, for the native routes that act on "the selected account". */
  account?: string;
  query?: Query;
  /** Sent as Idempotency-Key: a retry of the same change (a rotate) gets the first answer again. */
  idempotencyKey?: string;
}

export interface Answer<T> {
  data: T;
  headers: Headers;
}

/** The one error shape the console meets: the native /v1 one. */
interface ErrorBody {
  error?: { code?: string; message?: string; remedy?: string; field?: string; grant?: string; grant_url?: string };
}

function toApiError(status: number, body: ErrorBody | null): ApiError {
  const error = body?.error;
  if (error?.message) {
    const grantUrl = error.code === 'grant_required' ? error.grant_url : undefined;
    return new ApiError(status, error.message, error.code, error.remedy, grantUrl, grantUrl ? error.grant : undefined, error.field);
  }
  return new ApiError(status, `Keysmith answered ${status} without an explanation. Try again; if it keeps happening, ask your administrator to check the server log.`);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export async function call<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, options: RequestOptions = {}): Promise<Answer<T>> {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
  }
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  if (options.account) headers['x-keysmith-account'] = options.account;
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;

  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError(0, 'Keysmith could not be reached. Check your connection and try again.');
  }
  const text = await response.text();
  const body = text ? parse(text) : null;
  if (!response.ok) {
    const error = toApiError(response.status, body as ErrorBody | null);
    if (response.status === 401 && path !== '/v1/session') onSessionEnded?.();
    throw error;
  }
  return { data: body as T, headers: response.headers };
}

export const get = async <T>(path: string, options?: RequestOptions): Promise<T> => (await call<T>('GET', path, options)).data;
export const post = async <T>(path: string, body?: unknown, options?: RequestOptions): Promise<T> => (await call<T>('POST', path, { ...options, body })).data;
export const put = async <T>(path: string, body?: unknown, options?: RequestOptions): Promise<T> => (await call<T>('PUT', path, { ...options, body })).data;
export const patch = async <T>(path: string, body?: unknown, options?: RequestOptions): Promise<T> => (await call<T>('PATCH', path, { ...options, body })).data;
export const del = async <T = void>(path: string, options?: RequestOptions): Promise<T> => (await call<T>('DELETE', path, options)).data;

/** A path segment, escaped. */
export const seg = (value: string): string => encodeURIComponent(value);

/** Reads the native lists' pagination: the total from X-Total-Count and whether a next page exists. */
export function pageInfo(headers: Headers): { total: number | null; hasNext: boolean } {
  const total = headers.get('x-total-count');
  return { total: total === null ? null : Number(total), hasNext: /rel="next"/.test(headers.get('link') ?? '') };
}
