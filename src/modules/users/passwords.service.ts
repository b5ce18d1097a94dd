// Console passwords after the first run: a user changes their own, a site admin issues a one-time
// set-password link (24 h, single use, only its SHA-256 stored), and the operator at the shell sets
// one with the CLI. Setting a password ends the user's sessions (changing your own keeps the session
// you changed it from). Hashing happens before any transaction opens.
import { hashPassword, verifyPassword } from '../../crypto/password.ts';
import { randomSecret, sha256Hex } from '../../crypto/random.ts';
import type { Db } from '../../db/schema.ts';
import { AppError } from '../../errors.ts';
import { requireUnrestricted, requireUser } from '../access/access.service.ts';
import type { RequestContext, UserActor } from '../access/actor.ts';
import type { AuditOrigin, AuditService } from '../audit/audit.service.ts';
import type { SessionTerminator } from '../sessions/sessions.service.ts';
import { MIN_PASSWORD_LENGTH, requireSiteAdmin } from './users.service.ts';
import * as repo from './users.repo.ts';

/** How long a set-password link works. */
export const RESET_LINK_TTL_MS = 24 * 60 * 60 * 1000;
// Our tokens are 43 characters; the bound keeps a hostile value from being hashed at length.
const MAX_TOKEN_LENGTH = 512;

interface Deps {
  db: Db;
  audit: AuditService;
  clock: { now(): Date };
  publicUrl: string;
  sessions: SessionTerminator;
}

const linkInvalid = () =>
  new AppError(
    'reset_link_invalid',
    'This set-password link is unknown, expired or already used; ask a site admin for a new one.',
    'Ask a site admin of this Keysmith instance for a new set-password link.',
  );

function assertLength(password: string, field: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new AppError('validation_failed', `The ${field} must be at least ${MIN_PASSWORD_LENGTH} characters long.`, 'Choose a longer password; a few unrelated words make a good one.', { field });
  }
}

export function createPasswordService({ db, audit, clock, publicUrl, sessions }: Deps) {
  /** The link behind a token if it can still be used; one refusal otherwise (unknown, used and expired are not told apart). */
  async function findUsable(executor: Parameters<typeof repo.findPasswordReset>[0], token: string) {
    if (!token || token.length > MAX_TOKEN_LENGTH) throw linkInvalid();
    const link = await repo.findPasswordReset(executor, sha256Hex(token));
    if (!link || link.used_at !== null || link.expires_at <= clock.now().toISOString()) throw linkInvalid();
    return link;
  }

  return {
    /** A site admin's one-time link for the user to set a password; older unused links of the user stop working. */
    async issueResetLink(origin: AuditOrigin, login: string) {
      requireSiteAdmin(origin, 'issuing set-password links', 'Only a site admin can issue set-password links.');
      const token = randomSecret();
      const now = clock.now();
      const expiresAt = new Date(now.getTime() + RESET_LINK_TTL_MS).toISOString();
      const user = await db.transaction().execute(async (trx) => {
        const user = await repo.findUserByLogin(trx, login);
        if (!user) throw new AppError('not_found', `There is no user with the login "${login.slice(0, 39)}".`, 'Check the spelling of the login; GET /v1/admin/users lists them.');
        await repo.deletePasswordResetsOf(trx, user.id);
        await repo.insertPasswordReset(trx, {
          token_hash: sha256Hex(token),
          user_id: user.id,
          created_by: 'cli' in origin || origin.actor.type !== 'user' ? null : origin.actor.userId,
          created_at: now.toISOString(),
          expires_at: expiresAt,
        });
        // Never the token: the trail is read by more people than the link is meant for.
        await audit.record(trx, origin, { action: 'user.password_reset_issue', target: { type: 'user', id: user.id, label: user.login }, details: { expires_at: expiresAt } });
        return user;
      });
      return { user, url: `${publicUrl}/set-password?token=${encodeURIComponent(token)}`, expiresAt };
    },

    /** What the set-password page shows before asking for a password: whose link it is, until when. */
    async checkResetLink(token: string) {
      const link = await findUsable(db, token);
      return { login: link.login, expiresAt: link.expires_at };
    },

    /** Sets the password with a link: uses the link up and ends every session of the user. */
    async setPasswordWithLink(token: string, newPassword: string, origin: { remoteAddr: string | null; userAgent: string | null }) {
      assertLength(newPassword, 'new_password');
      await findUsable(db, token);
      const passwordHash = await hashPassword(newPassword);
      return db.transaction().execute(async (trx) => {
        const link = await findUsable(trx, token);
        if (!(await repo.usePasswordReset(trx, link.token_hash, clock.now().toISOString()))) throw linkInvalid();
        await repo.updateUser(trx, link.user_id, { password_hash: passwordHash });
        const ended = await sessions.endSessionsOf(trx, link.user_id);
        // The holder of the link acts as the user it was issued for.
        const actor: UserActor = { type: 'user', userId: link.user_id, login: link.login, isSiteAdmin: false, profile: { name: null, email: null, createdAt: '' }, credential: { kind: 'session' } };
        await audit.record(trx, { actor, ...origin }, { action: 'user.password_set', target: { type: 'user', id: link.user_id, label: link.login }, details: { by: 'link', sessions_ended: ended } });
        return { login: link.login };
      });
    },

    /**
     * A user changes their own password. The current one is needed when one is set; the user's other
     * sessions end (the one it was changed from, if any, stays).
     */
    async changeOwnPassword(ctx: RequestContext, input: { currentPassword?: string | undefined; newPassword: string }, sessionId: string | undefined): Promise<void> {
      const actor = requireUser(ctx.actor, 'A password', 'belongs to a person');
      requireUnrestricted(actor, 'changing your password');
      assertLength(input.newPassword, 'new_password');
      const user = await repo.findUserById(db, actor.userId);
      if (!user) throw new AppError('token_invalid', 'The user of this credential no longer exists.', 'Sign in again.');
      if (user.password_hash !== null) {
        if (input.currentPassword === undefined) {
          throw new AppError(
            'validation_failed',
            'The current_password field is needed: you already have a password, and changing it takes the current one.',
            'Send current_password, or ask a site admin for a set-password link.',
            {
              field: 'current_password',
            },
          );
        }
        if (!(await verifyPassword(input.currentPassword, user.password_hash))) {
          throw new AppError('password_incorrect', 'The current password is not right.', 'Type your current password again, or ask a site admin for a set-password link.', {
            field: 'current_password',
          });
        }
      }
      const passwordHash = await hashPassword(input.newPassword);
      const keep = actor.credential.kind === 'session' ? sessionId : undefined;
      await db.transaction().execute(async (trx) => {
        await repo.updateUser(trx, user.id, { password_hash: passwordHash });
        const ended = await sessions.endSessionsOf(trx, user.id, keep);
        await audit.record(trx, ctx, { action: 'user.password_change', target: { type: 'user', id: user.id, label: user.login }, details: { sessions_ended: ended } });
      });
    },

    /** The operator at the shell (keysmith users set-password) sets a user's password; every session of theirs ends. */
    async setPasswordByOperator(origin: AuditOrigin, login: string, newPassword: string) {
      requireSiteAdmin(origin, 'setting passwords', "Only a site admin can set another user's password.");
      assertLength(newPassword, 'password');
      const passwordHash = await hashPassword(newPassword);
      return db.transaction().execute(async (trx) => {
        const user = await repo.findUserByLogin(trx, login);
        if (!user) throw new AppError('not_found', `There is no user with the login "${login.slice(0, 39)}".`, 'Check the spelling of the login.');
        await repo.updateUser(trx, user.id, { password_hash: passwordHash });
        await repo.deletePasswordResetsOf(trx, user.id);
        const ended = await sessions.endSessionsOf(trx, user.id);
        await audit.record(trx, origin, {
          action: 'user.password_set',
          target: { type: 'user', id: user.id, label: user.login },
          details: { by: 'cli' in origin ? 'cli' : 'site_admin', sessions_ended: ended },
        });
        return { login: user.login, sessionsEnded: ended };
      });
    },
  };
}

export type PasswordService = ReturnType<typeof createPasswordService>;
