// API keys going dormant and coming back: what the credential scheduler asks of this module (keys
// whose expiry is near, keys unused since a cut-off, disabling one), and the owner's way back
// (POST …/enable). A disabled key is kept, refused with 401 token_disabled, and forgotten by every
// node's credential cache the moment it is disabled.
import type { Db, Executor } from '../../db/schema.ts';
import { notFound } from '../../errors.ts';
import type { RequestContext } from '../access/actor.ts';
import { requireUnrestricted, requireUser, type AccessService, type AccountSelector } from '../access/access.service.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { latestOf, type CredentialFacts, type CredentialSource } from '../credential-notices/credential-source.ts';
import type { ApiKeyService } from './api-keys.service.ts';
import type { CredentialInvalidation } from './credential-invalidation.ts';
import * as repo from './api-keys.repo.ts';

interface Deps {
  db: Db;
  access: AccessService;
  audit: AuditService;
  invalidation: Pick<CredentialInvalidation, 'forgetKey'>;
  keys: Pick<ApiKeyService, 'view' | 'listServiceKeys'>;
  clock: { now(): Date };
}

type LifecycleRow = Awaited<ReturnType<typeof repo.listExpiring>>[number];

function facts(row: LifecycleRow): CredentialFacts {
  return {
    kind: row.kind === 'user' ? 'user_api_key' : 'service_api_key',
    id: row.id,
    name: row.name,
    fingerprint: row.start,
    owner: row.kind === 'user' ? { type: 'user', userId: row.user_id! } : { type: 'account', accountId: row.account_id! },
    expiresAt: row.expires_at,
    activeAt: latestOf(row.created_at, row.last_used_at, row.enabled_at),
  };
}

export function createApiKeyLifecycle({ db, access, audit, invalidation, keys, clock }: Deps) {
  const source: CredentialSource = {
    table: 'api_key',
    listExpiring: async (exec, from, to) => (await repo.listExpiring(exec, from, to)).map(facts),
    dormancy: {
      listUnusedSince: async (exec, before) => (await repo.listUnusedSince(exec, before)).map(facts),
      async disable(trx: Executor, key: CredentialFacts, at: string, unusedDays: number) {
        if (!(await repo.disableIfUnused(trx, key.id, key.activeAt, at))) return false;
        const details = { kind: key.owner.type === 'user' ? 'user' : 'service', start: key.fingerprint, reason: 'dormant', unused_days: unusedDays, last_active_at: key.activeAt };
        if (key.owner.type === 'user') {
          await audit.record(trx, { job: 'scheduler' }, { action: 'api_key.disable', target: { type: 'api_key', id: key.id, label: key.name }, details });
        } else {
          await audit.record(trx, { job: 'scheduler' }, { action: 'service_key.disable', accountId: key.owner.accountId, target: { type: 'api_key', id: key.id, label: key.name }, details });
        }
        return true;
      },
      afterDisable: (key) => invalidation.forgetKey(key.id),
    },
  };

  return {
    source,

    /** The owner turns their own disabled key back on; the unused period starts again from now. */
    async enableUserKey(ctx: RequestContext, id: number) {
      const actor = requireUser(ctx.actor, 'User API keys');
      requireUnrestricted(actor, 'enabling API keys');
      const row = await db.transaction().execute(async (trx) => {
        const key = await repo.findUserKey(trx, actor.userId, id);
        if (!key) throw notFound(`API key ${id}`);
        if (await repo.enable(trx, id, clock.now().toISOString())) {
          await audit.record(trx, ctx, { action: 'api_key.enable', target: { type: 'api_key', id, label: key.name }, details: { kind: 'user', start: key.start, was_disabled_at: key.disabled_at } });
        }
        return repo.findUserKey(trx, actor.userId, id);
      });
      // The cache may hold the disabled state (here and on other nodes).
      await invalidation.forgetKey(id);
      return keys.view(row!);
    },

    /** Owners and admins enable the account's service keys (a runner key: owners only). */
    async enableServiceKey(ctx: RequestContext, selector: AccountSelector, id: number) {
      const acc = await access.resolve(ctx.actor, selector);
      access.authorize(ctx.actor, acc, 'service_key.manage');
      requireUnrestricted(ctx.actor, 'enabling API keys');
      await db.transaction().execute(async (trx) => {
        const key = await repo.findServiceKey(trx, acc.accountId, id);
        if (!key) throw notFound(`Service API key ${id}`);
        if (key.role === 'runner') access.authorize(ctx.actor, acc, 'runner_key.manage');
        if (await repo.enable(trx, id, clock.now().toISOString())) {
          await audit.record(trx, ctx, {
            action: 'service_key.enable',
            accountId: acc.accountId,
            target: { type: 'api_key', id, label: key.name },
            details: { role: key.role, start: key.start, was_disabled_at: key.disabled_at },
          });
        }
      });
      await invalidation.forgetKey(id);
      const enabled = (await keys.listServiceKeys(ctx, selector)).find((k) => k.id === id);
      if (!enabled) throw notFound(`Service API key ${id}`);
      return enabled;
    },
  };
}

export type ApiKeyLifecycle = ReturnType<typeof createApiKeyLifecycle>;
