// Console sign-in: a random session id in an HttpOnly cookie (stored hashed) plus a CSRF token
// that every cookie-authenticated change must echo in X-CSRF-Token.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Db, Executor } from '../../db/schema.ts';
import { DUMMY_PASSWORD_HASH, verifyPassword } from '../../crypto/password.ts';
import { randomSecret, sha256Hex } from '../../crypto/random.ts';
import { AppError } from '../../errors.ts';
import { requireUnrestricted } from '../access/access.service.ts';
import type { RequestContext, UserActor } from '../access/actor.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { userDisabled } from '../api-keys/api-keys.service.ts';
import type { UserService } from '../users/users.service.ts';
import * as repo from './sessions.repo.ts';
import { createSignInLimiter } from './sign-in-limiter.ts';

interface Origin {
  remoteAddr: string | null;
  userAgent: string | null;
}

interface SessionUser {
  user_id: number;
  login: string;
  name: string | null;
  email: string | null;
  created_at: string;
  is_site_admin: boolean;
}

/**
 * A session's CSRF token is derived from its id, so a reloaded console can ask for it again
 * (GET /v1/session) without the server keeping it in plain text. Only a page that can send the
 * cookie and read the answer (the same origin) learns it; a cross-site form can do neither.
 */
const csrfTokenOf = (sessionId: string): string => createHmac('sha256', sessionId).update('keysmith csrf token').digest('base64url');

/** "1 second", "40 seconds", "15 minutes": a wait in the unit a person reads. */
function waitInWords(seconds: number): string {
  if (seconds < 120) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minutes`;
}

const sessionActor = (user: SessionUser): UserActor => ({
  type: 'user',
  userId: user.user_id,
  login: user.login,
  isSiteAdmin: user.is_site_admin,
  profile: { name: user.name, email: user.email, createdAt: user.created_at },
  credential: { kind: 'session' },
});

// Our session ids are 43 characters; the bound only keeps a hostile cookie from being hashed at length.
const MAX_SESSION_ID_LENGTH = 512;

/** The console session a request came with; a request made with an API key has none. */
function sessionOf(ctx: RequestContext, sessionId: string | undefined, message: string, remedy: string): { actor: UserActor; sessionId: string } {
  const { actor } = ctx;
  if (actor.type !== 'user' || actor.credential.kind !== 'session' || !sessionId) throw new AppError('bad_request', message, remedy);
  return { actor, sessionId };
}

export function createSessionService({ db, users, audit, clock, ttlSeconds }: { db: Db; users: Pick<UserService, 'findByLogin'>; audit: AuditService; clock: { now(): Date }; ttlSeconds: number }) {
  const limiter = createSignInLimiter({ db, clock });

  /** The unexpired session behind a cookie value; a value too long to be one of ours is not looked up. */
  async function findLive(sessionId: string) {
    if (sessionId.length > MAX_SESSION_ID_LENGTH) return undefined;
    const row = await repo.findSession(db, sha256Hex(sessionId));
    return row && row.expires_at > clock.now().toISOString() ? row : undefined;
  }

  return {
    async signIn(login: string, password: string, origin: Origin) {
      const address = origin.remoteAddr ?? '';
      const refusal = await limiter.check(login, address);
      if (refusal) {
        audit.refusedAuthentication({ reason: 'sign_in_throttled', scheme: 'password', login, ...origin });
        const seconds = Math.max(1, Math.ceil(refusal.retryAfterMs / 1000));
        const who = refusal.by === 'address' ? 'from your address' : `for ${login.slice(0, 39)}`;
        throw new AppError(
          'rate_limited',
          `Too many failed sign-ins ${who}; try again in ${waitInWords(seconds)}.`,
          refusal.by === 'address' ? 'Wait, then sign in again; the wait grows with each further failure.' : 'Wait, then sign in again; a site admin can clear this throttle.',
          { extra: { retry_after_seconds: seconds } },
        );
      }
      const user = await users.findByLogin(db, login);
      // Verify against a dummy hash for unknown logins so timing does not reveal which logins exist.
      const ok = await verifyPassword(password, user?.password_hash ?? DUMMY_PASSWORD_HASH);
      if (!user || !user.password_hash || !ok) {
        await limiter.fail(login, address);
        audit.refusedAuthentication({ reason: 'wrong_login_or_password', scheme: 'password', login, ...origin });
        throw new AppError('login_failed', 'The login or password is wrong.', 'Check both and try again; a site admin can reset a forgotten password.');
      }
      await limiter.succeed(login, address);
      // Said only after the right password, so the refusal tells a stranger nothing about the account.
      if (user.disabled_at !== null) {
        audit.refusedAuthentication({ reason: 'user_disabled', scheme: 'password', login, ...origin });
        throw new AppError('user_disabled', 'This account is disabled; ask a site admin.', 'A site admin of this Keysmith instance can enable it again.');
      }
      const sessionId = randomSecret();
      const csrfToken = csrfTokenOf(sessionId);
      const now = clock.now();
      const actor = sessionActor({ ...user, user_id: user.id });
      await db.transaction().execute(async (trx) => {
        await repo.insertSession(trx, {
          id_hash: sha256Hex(sessionId),
          user_id: user.id,
          csrf_hash: sha256Hex(csrfToken),
          created_at: now.toISOString(),
          expires_at: new Date(now.getTime() + ttlSeconds * 1000).toISOString(),
        });
        await audit.record(trx, { actor, ...origin }, { action: 'session.create', target: { type: 'user', id: user.id, label: user.login } });
      });
      return { user, sessionId, csrfToken, maxAgeSeconds: ttlSeconds };
    },

    /**
     * The actor behind a session cookie, and a check for the CSRF token; undefined when the session is
     * gone. A disabled user's session is refused (RefusedCredential) but kept, for when they are enabled.
     */
    async authenticate(sessionId: string) {
      const row = await findLive(sessionId);
      if (!row) return undefined;
      if (row.disabled_at !== null) throw userDisabled(row.login);
      const actor = sessionActor(row);
      const csrfMatches = (token: string): boolean => {
        const a = Buffer.from(sha256Hex(token), 'hex');
        return timingSafeEqual(a, Buffer.from(row.csrf_hash, 'hex'));
      };
      return { actor, csrfMatches };
    },

    /**
     * The session a console page holds, if any, with its CSRF token: what a reloaded page asks first.
     * No session, or an ended one, is an ordinary answer here, not a refusal.
     */
    async current(sessionId: string | undefined) {
      if (!sessionId) return undefined;
      const row = await findLive(sessionId);
      if (!row) return undefined;
      // Signed out as far as the console can tell, but the cookie is kept: enabling the user brings it back.
      if (row.disabled_at !== null) return { disabled: true as const };
      // A session whose stored token is not the derived one (made before tokens were derived) cannot
      // hand its token out again: to the console it is over, and signing in again mends it.
      const csrfToken = csrfTokenOf(sessionId);
      if (sha256Hex(csrfToken) !== row.csrf_hash) return undefined;
      const { user_id: id, login, name, email, is_site_admin, created_at, has_password } = row;
      return { disabled: false as const, user: { id, login, name, email, is_site_admin, created_at, disabled_at: null, has_password }, csrfToken };
    },

    /** Ends the console session the request came with. */
    async signOut(ctx: RequestContext, sessionId: string | undefined) {
      const { actor, sessionId: id } = sessionOf(
        ctx,
        sessionId,
        'There is no console session to sign out of: this request was made with an API key.',
        'Delete API keys with DELETE /v1/user/api-keys/{id}.',
      );
      await db.transaction().execute(async (trx) => {
        await repo.deleteSession(trx, sha256Hex(id));
        await audit.record(trx, ctx, { action: 'session.delete', target: { type: 'user', id: actor.userId, label: actor.login } });
      });
    },

    /** A site admin clears a login's sign-in throttle (its failures from every address). */
    async clearSignInThrottle(ctx: RequestContext, login: string): Promise<void> {
      const { actor } = ctx;
      if (actor.type !== 'user' || !actor.isSiteAdmin) {
        throw new AppError('site_admin_required', "Only a site admin can clear a login's sign-in throttle.", 'Ask a site admin of this Keysmith instance to clear it.');
      }
      requireUnrestricted(actor, "clearing a login's sign-in throttle");
      const user = await users.findByLogin(db, login);
      if (!user) throw new AppError('not_found', `There is no user with the login "${login}".`, 'Check the spelling of the login.');
      await limiter.clearLogin(user.login);
      await audit.record(db, ctx, { action: 'sign_in_throttle.clear', target: { type: 'user', id: user.id, label: user.login } });
    },

    async deleteExpired(): Promise<void> {
      await repo.deleteExpiredSessions(db, clock.now().toISOString());
    },
  };
}

export type SessionService = ReturnType<typeof createSessionService>;

/** What ending a user's sessions needs (users.service, for passwords): one call inside the caller's transaction. */
export interface SessionTerminator {
  /** Ends the user's sessions, except the one with cookie value `keepSessionId`; returns how many ended. */
  endSessionsOf(trx: Executor, userId: number, keepSessionId?: string): Promise<number>;
}

export const sessionTerminator: SessionTerminator = {
  endSessionsOf: (trx, userId, keepSessionId) => repo.deleteSessionsOf(trx, userId, keepSessionId === undefined ? undefined : sha256Hex(keepSessionId)),
};
