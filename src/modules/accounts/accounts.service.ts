// Accounts and memberships: who belongs where, with which role; the last owner is never removed.
import type { Db, Executor } from '../../db/schema.ts';
import { isUniqueViolation } from '../../db/dialect.ts';
import { AppError, notFound } from '../../errors.ts';
import type { RequestContext } from '../access/actor.ts';
import { requireUnrestricted, requireUser, type AccessService, type AccountAccess, type MembershipLookup } from '../access/access.service.ts';
import type { MemberRole } from '../access/roles.ts';
import type { AuditOrigin, AuditService } from '../audit/audit.service.ts';
import { assertOwnerName, nameTaken } from '../users/owner-names.ts';
import type { UserKeyRemoval } from '../checkout-keys/checkout-keys.service.ts';
import type { UserService } from '../users/users.service.ts';
import * as repo from './accounts.repo.ts';

interface Deps {
  db: Db;
  /** Cleared when an account goes: its service keys go with it. */
  credentials: { forgetAccount(accountId: number): Promise<void> };
  access: AccessService;
  users: Pick<UserService, 'findByLogin' | 'claimOwnerName' | 'releaseOwnerName'>;
  /** A leaving member's user checkout keys go with them. */
  checkoutKeys: UserKeyRemoval;
  audit: AuditService;
  clock: { now(): Date };
}

/** Memberships as the access module reads them on every request that touches an account. */
export function createMembershipLookup(db: Db): MembershipLookup {
  return {
    findAccountWithRole: (name, userId) => repo.findAccountWithRole(db, name, userId),
    listAccountsOfUser: (userId) => repo.listAccountsOfUser(db, userId),
  };
}

/** What deleting a user asks of the accounts module: the accounts they alone own (read in the caller's transaction). */
export interface OwnershipLookup {
  soleOwnedAccounts(trx: Executor, userId: number): Promise<string[]>;
}

export const ownershipLookup: OwnershipLookup = { soleOwnedAccounts: (trx, userId) => repo.listSoleOwnedAccounts(trx, userId) };

/** An account's name by id, read in the caller's transaction (a webhook payload names its account). */
export const accountNames = { nameOf: (exec: Executor, accountId: number): Promise<string | undefined> => repo.findAccountName(exec, accountId) };

/** The accounts a user is a member of, read in the caller's transaction (a grant's events reach each). */
export const memberAccounts = { idsOf: async (exec: Executor, userId: number): Promise<number[]> => (await repo.listAccountsOfUser(exec, userId)).map((a) => a.id) };

export function createAccountService({ db, credentials, access, users, checkoutKeys, audit, clock }: Deps) {
  const lastOwner = (accountName: string) => new AppError('last_owner', `That would leave account ${accountName} without an owner.`, 'Make another member an owner first.');

  async function resolveMember(trx: Executor, login: string, adding: boolean) {
    const user = await users.findByLogin(trx, login);
    if (user) return user;
    if (!adding) throw notFound(`User ${login}`);
    // Users are not created by adding them to an account: say so, and who can create one.
    throw new AppError(
      'not_found',
      `There is no user "${login}" in this Keysmith instance: a user must be created before they can be added to an account.`,
      'Ask a site admin of this Keysmith instance to create the user, then add them here again.',
      { field: 'login' },
    );
  }

  return {
    /** Creates the account with `ownerId` as its owner, inside the caller's transaction. */
    async write(trx: Executor, origin: AuditOrigin, ownerId: number, name: string) {
      assertOwnerName('name', name);
      try {
        await users.claimOwnerName(trx, name.toLowerCase(), 'account');
      } catch (err) {
        if (isUniqueViolation(err)) throw nameTaken('name', name);
        throw err;
      }
      const now = clock.now().toISOString();
      const account = await repo.insertAccount(trx, { name, name_lower: name.toLowerCase(), created_at: now });
      await repo.insertMembership(trx, { account_id: account.id, user_id: ownerId, role: 'owner', created_at: now });
      await audit.record(trx, origin, { action: 'account.create', accountId: account.id, target: { type: 'account', id: account.id, label: name } });
      return account;
    },

    async create(ctx: RequestContext, name: string) {
      const user = requireUser(ctx.actor, 'Accounts', 'are created by people');
      requireUnrestricted(user, 'creating accounts');
      const userId = user.userId;
      return db.transaction().execute((trx) => this.write(trx, ctx, userId, name));
    },

    async listMine(ctx: RequestContext) {
      if (ctx.actor.type === 'service') {
        return [{ id: ctx.actor.accountId, name: ctx.actor.accountName, role: ctx.actor.role, created_at: null }];
      }
      return repo.listAccountsOfUser(db, ctx.actor.userId);
    },

    async listMembers(ctx: RequestContext, accountName: string) {
      const acc = await access.resolve(ctx.actor, { from: 'path', name: accountName });
      access.authorize(ctx.actor, acc, 'member.read');
      return repo.listMembers(db, acc.accountId);
    },

    /** Adds a member or changes their role. Owners alone make, unmake or re-role owners. */
    async setRole(ctx: RequestContext, accountName: string, login: string, role: MemberRole) {
      const acc = await access.resolve(ctx.actor, { from: 'path', name: accountName });
      access.authorize(ctx.actor, acc, 'member.manage');
      return db.transaction().execute(async (trx) => {
        const user = await resolveMember(trx, login, true);
        await repo.lockAccount(trx, acc.accountId);
        const current = await repo.findMembership(trx, acc.accountId, user.id);
        if (role === 'owner' || current?.role === 'owner') access.authorize(ctx.actor, acc, 'owner.manage');
        if (current?.role === role) return { user, role, added: false };
        if (current?.role === 'owner' && (await repo.countOwners(trx, acc.accountId)) <= 1) throw lastOwner(acc.accountName);
        if (current) await repo.updateMembershipRole(trx, acc.accountId, user.id, role);
        else await repo.insertMembership(trx, { account_id: acc.accountId, user_id: user.id, role, created_at: clock.now().toISOString() });
        await audit.record(trx, ctx, {
          action: current ? 'member.role_change' : 'member.add',
          accountId: acc.accountId,
          target: { type: 'user', id: user.id, label: user.login },
          details: current ? { from: current.role, to: role } : { role },
        });
        return { user, role, added: current === undefined };
      });
    },

    /** Removes a member (anyone may leave on their own). Their user API keys stop working here at once. */
    async removeMember(ctx: RequestContext, accountName: string, login: string) {
      const acc = await access.resolve(ctx.actor, { from: 'path', name: accountName });
      const leaving = ctx.actor.type === 'user' && ctx.actor.login.toLowerCase() === login.toLowerCase();
      if (leaving) requireUnrestricted(ctx.actor, 'leaving an account');
      else access.authorize(ctx.actor, acc, 'member.manage');
      await db.transaction().execute(async (trx) => {
        const user = await resolveMember(trx, login, false);
        await repo.lockAccount(trx, acc.accountId);
        const current = await repo.findMembership(trx, acc.accountId, user.id);
        if (!current) throw notFound(`${user.login}'s membership of ${acc.accountName}`);
        if (current.role === 'owner') {
          if (!leaving) access.authorize(ctx.actor, acc, 'owner.manage');
          if ((await repo.countOwners(trx, acc.accountId)) <= 1) throw lastOwner(acc.accountName);
        }
        await repo.deleteMembership(trx, acc.accountId, user.id);
        // Their user checkout keys act as them: they leave with them (public half and private half).
        await checkoutKeys.removeKeys(trx, ctx, await checkoutKeys.listUserKeys(trx, user.id, acc.accountId), 'member removed');
        await audit.record(trx, ctx, {
          action: 'member.remove',
          accountId: acc.accountId,
          target: { type: 'user', id: user.id, label: user.login },
          details: { role: current.role },
        });
      });
    },

    async deleteAccount(ctx: RequestContext, accountName: string) {
      const acc: AccountAccess = await access.resolve(ctx.actor, { from: 'path', name: accountName });
      access.authorize(ctx.actor, acc, 'account.delete');
      await db.transaction().execute(async (trx) => {
        await repo.deleteAccount(trx, acc.accountId);
        await users.releaseOwnerName(trx, acc.accountName.toLowerCase());
        await audit.record(trx, ctx, { action: 'account.delete', accountId: acc.accountId, target: { type: 'account', id: acc.accountId, label: acc.accountName } });
      });
      await credentials.forgetAccount(acc.accountId);
    },
  };
}

export type AccountService = ReturnType<typeof createAccountService>;
