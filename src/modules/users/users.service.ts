import type { Db, Executor } from '../../db/schema.ts';
import { isUniqueViolation } from '../../db/dialect.ts';
import { hashPassword } from '../../crypto/password.ts';
import { AppError } from '../../errors.ts';
import { requireUnrestricted } from '../access/access.service.ts';
import type { Actor } from '../access/actor.ts';
import type { AuditOrigin, AuditService } from '../audit/audit.service.ts';
import { assertOwnerName, nameTaken } from './owner-names.ts';
import * as repo from './users.repo.ts';

export interface NewUser {
  login: string;
  name?: string | null;
  email?: string | null;
  password?: string | null;
  isSiteAdmin?: boolean;
  /** Refuse (inside the transaction) if any user exists: `keysmith init` on a used database. */
  onlyIfFirst?: boolean;
}

export type UserRow = NonNullable<Awaited<ReturnType<typeof repo.findUserById>>>;

export const MIN_PASSWORD_LENGTH = 12;

export function toUserView(row: Pick<UserRow, 'id' | 'login' | 'name' | 'email' | 'is_site_admin' | 'created_at'>) {
  return {
    id: row.id,
    login: row.login,
    name: row.name,
    email: row.email,
    site_admin: row.is_site_admin,
    created_at: row.created_at,
  };
}

export function createUserService({ db, audit, clock }: { db: Db; audit: AuditService; clock: { now(): Date } }) {
  return {
    /** Validates, hashes the password outside the transaction, then claims the login and writes the user. */
    async prepare(input: NewUser) {
      assertOwnerName('login', input.login);
      if (input.password != null && input.password.length < MIN_PASSWORD_LENGTH) {
        throw new AppError('validation_failed', `The password must be at least ${MIN_PASSWORD_LENGTH} characters long.`, undefined, { field: 'password' });
      }
      const passwordHash = input.password != null ? await hashPassword(input.password) : null;
      return async (trx: Executor, origin: AuditOrigin) => {
        if (input.onlyIfFirst && (await repo.countUsers(trx)) > 0) {
          throw new AppError('conflict', 'Keysmith already has users; init only sets up an empty database.', 'Add more users with POST /v1/admin/users as a site admin.');
        }
        try {
          await repo.claimOwnerName(trx, input.login.toLowerCase(), 'user');
        } catch (err) {
          if (isUniqueViolation(err)) throw nameTaken('login', input.login);
          throw err;
        }
        const user = await repo.insertUser(trx, {
          login: input.login,
          login_lower: input.login.toLowerCase(),
          name: input.name ?? null,
          email: input.email ?? null,
          password_hash: passwordHash,
          is_site_admin: input.isSiteAdmin ?? false,
          created_at: clock.now().toISOString(),
        });
        await audit.record(trx, origin, {
          action: 'user.create',
          target: { type: 'user', id: user.id, label: user.login },
          details: { site_admin: input.isSiteAdmin ?? false },
        });
        return user;
      };
    },

    async createBySiteAdmin(origin: AuditOrigin & { actor: Actor }, input: NewUser) {
      if (origin.actor.type !== 'user' || !origin.actor.isSiteAdmin) {
        throw new AppError('site_admin_required', 'Only a site admin can create users.', 'Ask a site admin of this Keysmith instance to create the user.');
      }
      requireUnrestricted(origin.actor, 'creating users');
      const write = await this.prepare({ ...input, isSiteAdmin: false });
      return db.transaction().execute((trx) => write(trx, origin));
    },

    /** A user by login (any case), with their password hash: for sign-in and for naming members. */
    async findByLogin(trx: Executor, login: string) {
      return repo.findUserByLogin(trx, login);
    },

    /** Claims a name in the namespace users and accounts share; throws a unique violation if taken. */
    claimOwnerName: repo.claimOwnerName,
    releaseOwnerName: repo.releaseOwnerName,

    async countUsers(): Promise<number> {
      return repo.countUsers(db);
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;
