// Credential → actor. Accepts every scheme the contract names: Authorization Bearer/token/Basic,
// the Circle-Token header, the circle-token query parameter, and the console's session cookie
// (which must bring X-CSRF-Token on any change).
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { AppError } from '../errors.ts';
import type { Actor, RequestContext } from '../modules/access/actor.ts';
import type { AccountSelector } from '../modules/access/access.service.ts';
import { RefusedCredential } from '../modules/api-keys/api-keys.service.ts';
import type { Services } from '../services.ts';

export const SESSION_COOKIE = 'keysmith_session';
/** Methods that only read: they need no CSRF token, and queue no webhook delivery or email (app.ts). */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
const MAX_CREDENTIAL_LENGTH = 512;

/** `required`: no credential is a 401. `optional`: checked if given. `none`: not even looked at. */
export type AuthMode = 'required' | 'optional' | 'none';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
  }
  interface FastifyContextConfig {
    auth?: AuthMode;
  }
}

type Presented =
  { scheme: 'bearer' | 'token' | 'circle-token' | 'circle-token-query'; token: string } | { scheme: 'basic'; token: string; login: string | null } | { scheme: 'cookie'; sessionId: string };

/** The key of a Basic credential, and the user name when it is a name beside the key (for the audit trail). */
function fromBasic(encoded: string): { token: string; login: string | null } {
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon === -1 ? decoded : decoded.slice(0, colon);
  const password = colon === -1 ? '' : decoded.slice(colon + 1);
  if (/^ks[us]_/.test(user)) return { token: user, login: null };
  if (/^ks[us]_/.test(password)) return { token: password, login: user || null };
  if (password) return { token: password, login: user || null };
  return { token: user, login: null };
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      // A malformed escape cannot be one of our session ids; the session check refuses it.
      return part.slice(eq + 1).trim();
    }
  }
  return undefined;
}

function presented(request: FastifyRequest): Presented | undefined {
  const authorization = request.headers.authorization;
  if (authorization) {
    const space = authorization.indexOf(' ');
    const scheme = (space === -1 ? authorization : authorization.slice(0, space)).toLowerCase();
    const value = space === -1 ? '' : authorization.slice(space + 1).trim();
    if (scheme === 'bearer') return { scheme: 'bearer', token: value };
    if (scheme === 'token') return { scheme: 'token', token: value };
    if (scheme === 'basic') return { scheme: 'basic', ...fromBasic(value) };
    throw new AppError('token_invalid', 'The Authorization header must be "Bearer <API key>", "token <API key>" or HTTP Basic.', 'Send Authorization: Bearer <your API key>.');
  }
  const circleHeader = request.headers['circle-token'];
  if (typeof circleHeader === 'string' && circleHeader) return { scheme: 'circle-token', token: circleHeader.trim() };
  const query = request.query as Record<string, unknown> | undefined;
  const circleQuery = query?.['circle-token'];
  if (typeof circleQuery === 'string' && circleQuery) return { scheme: 'circle-token-query', token: circleQuery };
  const sessionId = readCookie(request.headers.cookie, SESSION_COOKIE);
  if (sessionId) return { scheme: 'cookie', sessionId };
  return undefined;
}

/**
 * Gives every route one onRequest hook of its own, built when the route is registered: `first` (the
 * checks every request passes before anything else; an error it returns refuses the request), then
 * the credential check. The route's auth mode is read once rather than on each request, public routes
 * check no credential, and a key found in the credential cache is accepted without a promise (this is
 * the hot path of every API call). Paths that match no route get no hook, so they answer 404 whatever
 * the credential.
 */
export function registerAuth(
  app: FastifyInstance,
  services: Pick<Services, 'apiKeys' | 'sessions' | 'audit' | 'metrics'>,
  first: (request: FastifyRequest, reply: FastifyReply) => Error | undefined,
): void {
  app.decorateRequest('actor', null);

  const refused = (request: FastifyRequest, reason: string, scheme: string, login: string | null = null) =>
    services.audit.refusedAuthentication({ reason, scheme, remoteAddr: request.ip, userAgent: request.headers['user-agent'] ?? null, login });

  async function viaSession(request: FastifyRequest, sessionId: string): Promise<void> {
    const session = await services.sessions.authenticate(sessionId).catch((err: unknown) => {
      if (err instanceof RefusedCredential) refused(request, String(err.details.extra?.reason ?? err.code), 'cookie');
      throw err;
    });
    if (!session) {
      refused(request, 'session_unknown_or_expired', 'cookie');
      throw new AppError('token_invalid', 'Your console session has ended.', 'Sign in again.');
    }
    if (!SAFE_METHODS.has(request.method)) {
      const csrf = request.headers['x-csrf-token'];
      if (typeof csrf !== 'string' || csrf.length > MAX_CREDENTIAL_LENGTH || !session.csrfMatches(csrf)) {
        refused(request, 'csrf_token_missing_or_wrong', 'cookie');
        throw new AppError('csrf_required', 'A change made with the console session cookie must carry the X-CSRF-Token header.', 'Send X-CSRF-Token with the csrf_token returned by POST /v1/session.');
      }
    }
    request.actor = session.actor;
  }

  /** Sets request.actor, synchronously when the key is cached; returns a promise otherwise. */
  function check(request: FastifyRequest, mode: AuthMode): void | Promise<void> {
    let credential: Presented | undefined;
    try {
      credential = presented(request);
    } catch (err) {
      refused(request, 'unknown_authorization_scheme', 'authorization');
      throw err;
    }
    if (!credential) {
      if (mode === 'required') {
        services.metrics.authentication('credentials_required');
        throw new AppError('credentials_required', 'This request needs an API key.', 'Send Authorization: Bearer <API key>; create keys in the console under Settings → API keys.');
      }
      return;
    }
    if (credential.scheme === 'cookie') return viaSession(request, credential.sessionId);
    let actor: Actor | Promise<Actor>;
    try {
      if (!credential.token || credential.token.length > MAX_CREDENTIAL_LENGTH) {
        throw new RefusedCredential('token_invalid', 'The credential is empty or too long to be a Keysmith API key.', 'Copy the whole key again.', { extra: { reason: 'not_a_keysmith_token' } });
      }
      actor = services.apiKeys.authenticate(credential.token);
    } catch (err) {
      return onRefusal(request, credential, err);
    }
    if (!(actor instanceof Promise)) {
      // The hot path (a cached key): no closure and no promise.
      request.actor = actor;
      return;
    }
    return actor.then(
      (a) => {
        request.actor = a;
      },
      (err: unknown) => onRefusal(request, credential, err),
    );
  }

  /** Notes a refused key for the audit trail, then rethrows. */
  function onRefusal(request: FastifyRequest, credential: Exclude<Presented, { scheme: 'cookie' }>, err: unknown): never {
    if (err instanceof RefusedCredential) {
      refused(request, String(err.details.extra?.reason ?? err.code), credential.scheme, credential.scheme === 'basic' ? credential.login : null);
    }
    throw err;
  }

  app.addHook('onRoute', (route) => {
    // Read when the first request arrives: plugins may still adjust the route's config after this hook.
    let mode: AuthMode | undefined;
    const hook: onRequestHookHandler = (request, reply, done) => {
      const refusal = first(request, reply);
      if (refusal) return done(refusal);
      mode ??= (route.config as { auth?: AuthMode } | undefined)?.auth ?? 'required';
      if (mode === 'none') return done();
      let pending: void | Promise<void>;
      try {
        pending = check(request, mode);
      } catch (err) {
        return done(err as Error);
      }
      if (pending) {
        pending.then(() => {
          if (request.actor) services.metrics.authentication('ok');
          done();
        }, done);
      } else {
        if (request.actor) services.metrics.authentication('ok');
        done();
      }
    };
    route.onRequest = route.onRequest === undefined ? [hook] : [hook, ...(Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest])];
  });
}

/** The authenticated actor of a route whose auth mode is `required`. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new AppError('credentials_required', 'This request needs an API key.', 'Send Authorization: Bearer <API key>.');
  return request.actor;
}

export function contextOf(request: FastifyRequest): RequestContext {
  return { actor: actorOf(request), remoteAddr: request.ip, userAgent: request.headers['user-agent'] ?? null };
}

/** The account named by X-Keysmith-Account, if any. */
export function headerSelector(request: FastifyRequest): AccountSelector {
  const value = request.headers['x-keysmith-account'];
  if (typeof value !== 'string' || value.trim() === '') return { from: 'none' };
  if (value.length > 39) throw new AppError('validation_failed', 'The X-Keysmith-Account header must be an account name of at most 39 characters.', undefined, { field: 'X-Keysmith-Account' });
  return { from: 'header', name: value.trim() };
}
