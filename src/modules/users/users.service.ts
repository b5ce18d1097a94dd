import type { Db, Executor } from '../../db/schema.ts';
import { isUniqueViolation } from '../../db/dialect.ts';
import { hashPassword } from '../../crypto/password.ts';
import { AppError } from '../../errors.ts';
import { requireUnrestricted } from '../access/access.service.ts';
import type { OwnershipLookup } from '../accounts/accounts.service.ts';
import type { AuditEntry, AuditOrigin, AuditService } from '../audit/audit.service.ts';
import type { UserKeyRemoval } from '../checkout-keys/checkout-keys.service.ts';
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

/** What a user view is built from: a user row, or a session's user (which says has_password itself). */
export type UserViewSource = Pick<UserRow, 'id' | 'login' | 'name' | 'email' | 'is_site_admin' | 'created_at' | 'disabled_at'> & ({ password_hash: string | null } | { has_password: boolean });

export function toUserView(row: UserViewSource) {
  return {
    id: row.id,
    login: row.login,
    name: row.name,
    email: row.email,
    site_admin: row.is_site_admin,
    disabled: row.disabled_at !== null,
    has_password: 'has_password' in row ? row.has_password : row.password_hash !== null,
    created_at: row.created_at,
  };
}

/** The changes PATCH /v1/admin/users/{login} (and the CLI) may make; absent fields stay as they are. */
export interface UserChanges {
  name?: string | null;
  email?: string | null;
  siteAdmin?: boolean;
  disabled?: boolean;
}

interface Deps {
  db: Db;
  audit: AuditService;
  clock: { now(): Date };
  /** Forgets the user's cached API keys (the cache lives in api-keys; a change must be seen at once). */
  credentials: { forgetUser(userId: number): Promise<void> };
  /** The accounts module's answer to "which accounts does this user alone own?" */
  ownership: OwnershipLookup;
  /** Deleting a user removes their user checkout keys through the checkout-keys module (each audited). */
  checkoutKeys: UserKeyRemoval;
}

/** Where a user is emailed (the mail module reads it in the transaction of the change it tells of). */
export const userContacts = {
  async contactOf(exec: Executor, userId: number): Promise<{ login: string; email: string | null } | undefined> {
    const user = await repo.findUserById(exec, userId);
    return user ? { login: user.login, email: user.email } : undefined;
  },
};

/** Site-admin actions from the API need an unrestricted site admin; the CLI (an operator at the shell) may do them all. */
export function requireSiteAdmin(origin: AuditOrigin, doing: string, refusal: string): void {
  if ('cli' in origin) return;
  const { actor } = origin;
  if (actor.type !== 'user' || !actor.isSiteAdmin) throw new AppError('site_admin_required', refusal, 'Ask a site admin of this Keysmith instance to do it.');
  requireUnrestricted(actor, doing);
}

const lastSiteAdmin = (login: string, change: string) =>
  new AppError(
    'last_site_admin',
    `${login} is the last site admin who is not disabled, so they cannot be ${change}: the instance would have no one left to administer it.`,
    'Make another user a site admin first (PATCH /v1/admin/users/<login> with {"site_admin": true}, or keysmith users make-admin <login>).',
  );

// The API's schemas check these too; the CLI reaches the service without them.
function assertProfile(input: { name?: string | null | undefined; email?: string | null | undefined }): void {
  if (input.name != null && (input.name.length > 255 || /[\u0000-\u001f\u007f]/.test(input.name))) {
    throw new AppError('validation_failed', 'The name must be at most 255 characters, without control characters.', undefined, { field: 'name' });
  }
  if (input.email != null && (input.email.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(input.email))) {
    throw new AppError('validation_failed', `The email "${input.email.slice(0, 254)}" is not an email address such as alice@example.com.`, undefined, { field: 'email' });
  }
}

const noSuchUser = (login: string) => new AppError('not_found', `There is no user with the login "${login.slice(0, 39)}".`, 'Check the spelling of the login; GET /v1/admin/users lists them.');

export function createUserService({ db, audit, clock, credentials, ownership, checkoutKeys }: Deps) {
  const forget = (userId: number) => credentials.forgetUser(userId);

  async function existing(trx: Executor, login: string) {
    const user = await repo.findUserByLogin(trx, login);
    if (!user) throw noSuchUser(login);
    return user;
  }

  return {
    /** Validates, hashes the password outside the transaction, then claims the login and writes the user. */
    async prepare(input: NewUser) {
      assertOwnerName('login', input.login);
      assertProfile(input);
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

    /** A site admin (or the CLI, which alone may make a site admin at once) creates a user. */
    async createBySiteAdmin(origin: AuditOrigin, input: NewUser) {
      requireSiteAdmin(origin, 'creating users', 'Only a site admin can create users.');
      const write = await this.prepare({ ...input, isSiteAdmin: 'cli' in origin ? (input.isSiteAdmin ?? false) : false, onlyIfFirst: false });
      return db.transaction().execute((trx) => write(trx, origin));
    },

    /** Users ordered by login, optionally those whose login starts with `prefix`. */
    async list(origin: AuditOrigin, prefix: string | undefined, limit: number, offset: number) {
      requireSiteAdmin(origin, 'listing users', 'Only a site admin can list the users of this instance.');
      const [rows, total] = await Promise.all([repo.listUsers(db, prefix, limit, offset), repo.countUsersWithPrefix(db, prefix)]);
      return { rows, total };
    },

    async get(origin: AuditOrigin, login: string) {
      requireSiteAdmin(origin, 'reading users', 'Only a site admin can read other users.');
      return existing(db, login);
    },

    /**
     * Changes a user's name, email, site-admin flag or disabled state in one transaction. The last
     * site admin who is not disabled can be neither demoted nor disabled. Disabling cuts off every
     * credential of the user at once (nothing is deleted); enabling brings them back.
     */
    async update(origin: AuditOrigin, login: string, changes: UserChanges) {
      requireSiteAdmin(origin, 'changing users', 'Only a site admin can change users.');
      assertProfile(changes);
      const updated = await db.transaction().execute(async (trx) => {
        const found = await existing(trx, login);
        const activeAdmins = await repo.lockUserAndActiveSiteAdmins(trx, found.id);
        // Read again under the lock: a change committed while this one waited is seen.
        const user = await repo.findUserById(trx, found.id);
        if (!user) throw noSuchUser(login);
        const wasDisabled = user.disabled_at !== null;
        const siteAdmin = changes.siteAdmin ?? user.is_site_admin;
        const disabled = changes.disabled ?? wasDisabled;
        if (user.is_site_admin && !wasDisabled && activeAdmins.length <= 1) {
          if (!siteAdmin) throw lastSiteAdmin(user.login, 'demoted');
          if (disabled) throw lastSiteAdmin(user.login, 'disabled');
        }
        const set: Parameters<typeof repo.updateUser>[2] = {};
        const fields: string[] = [];
        if (changes.name !== undefined && changes.name !== user.name) {
          set.name = changes.name;
          fields.push('name');
        }
        if (changes.email !== undefined && changes.email !== user.email) {
          set.email = changes.email;
          fields.push('email');
        }
        if (siteAdmin !== user.is_site_admin) {
          set.is_site_admin = siteAdmin;
          fields.push('site_admin');
        }
        if (disabled !== wasDisabled) set.disabled_at = disabled ? clock.now().toISOString() : null;
        if (Object.keys(set).length === 0) return user;
        const row = (await repo.updateUser(trx, user.id, set))!;
        const target = { type: 'user', id: user.id, label: user.login };
        const entries: AuditEntry[] = [];
        if (fields.length) entries.push({ action: 'user.update', target, details: { fields: fields.join(', '), ...(fields.includes('site_admin') ? { site_admin: siteAdmin } : {}) } });
        if (disabled !== wasDisabled) entries.push({ action: disabled ? 'user.disable' : 'user.enable', target });
        await audit.recordMany(trx, origin, entries);
        return row;
      });
      // After commit: the cached keys carry the old profile, flags and disabled state.
      await forget(updated.id);
      return updated;
    },

    /**
     * Removes the user and everything they own (memberships, sessions, API keys, SSH keys, user
     * checkout keys, grants, Heroku key, set-password links, the login's claim), in one transaction.
     */
    async remove(origin: AuditOrigin, login: string): Promise<void> {
      requireSiteAdmin(origin, 'deleting users', 'Only a site admin can delete users.');
      const userId = await db.transaction().execute(async (trx) => {
        const found = await existing(trx, login);
        const activeAdmins = await repo.lockUserAndActiveSiteAdmins(trx, found.id);
        // Read again under the lock: a change committed while this one waited is seen.
        const user = await repo.findUserById(trx, found.id);
        if (!user) throw noSuchUser(login);
        if (user.is_site_admin && user.disabled_at === null && activeAdmins.length <= 1) throw lastSiteAdmin(user.login, 'deleted');
        const sole = await ownership.soleOwnedAccounts(trx, user.id);
        if (sole.length > 0) {
          const names = sole.length === 1 ? `account ${sole[0]}` : `accounts ${sole.join(', ')}`;
          throw new AppError('last_owner', `${user.login} is the only owner of ${names}, so deleting them would leave it without an owner.`, 'Make another owner first or delete the account.', {
            extra: { accounts: sole.join(', ') },
          });
        }
        const userKeys = await checkoutKeys.listUserKeys(trx, user.id);
        await checkoutKeys.removeKeys(trx, origin, userKeys, 'user deleted');
        // The rest goes by ON DELETE CASCADE from users; the name is free for a new user or account.
        await repo.deleteUser(trx, user.id);
        await repo.releaseOwnerName(trx, user.login_lower);
        await audit.record(trx, origin, {
          action: 'user.delete',
          target: { type: 'user', id: user.id, label: user.login },
          details: { site_admin: user.is_site_admin, checkout_keys: userKeys.length },
        });
        return user.id;
      });
      await forget(userId);
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
