// Credential policies (README: Credential lifecycle → Policies): the instance's, set by site admins,
// holds for every credential; an account's, set by its owners and admins, for what the account owns
// and for what its ssh_servers accept. Where both apply, the stricter limit of each field holds.
// Other modules ask this service before they create a credential; a refusal is a 422
// policy_violation naming the rule and the limit. Tightening a policy deletes nothing.
import type { Db, Executor } from '../../db/schema.ts';
import type { AccessService } from '../access/access.service.ts';
import type { RequestContext } from '../access/actor.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { requireSiteAdmin } from '../users/users.service.ts';
import { apiKeyViolation, defaultExpiry, noLimits, policyFields, sshKeyViolation, stricter, validatePolicy, violationError, type Policy, type SshKeyFacts } from './policy-rules.ts';
import * as repo from './policies.repo.ts';

/** What the policy reads of the modules that own credentials, for its violations list (wired in services.ts). */
export interface PolicyInventory {
  sshKeys(
    accountId: number | null,
  ): Promise<
    { id: number; kind: 'user' | 'deploy'; title: string; fingerprint_sha256: string; key_type: string; bits: number; created_at: string; expires_at: string | null; verified_at: string | null }[]
  >;
  hostKeys(accountId: number | null): Promise<{ id: number; hostname: string; fingerprint_sha256: string; key_type: string; bits: number; created_at: string; expires_at: string | null }[]>;
  apiKeys(accountId: number | null): Promise<{ id: number; kind: 'user' | 'service'; name: string; start: string; created_at: string; expires_at: string | null }[]>;
}

export type { PolicyViolation } from './policy.types.ts';
import type { PolicyViolation } from './policy.types.ts';

interface Deps {
  inventory: PolicyInventory;
  db: Db;
  access: Pick<AccessService, 'resolve' | 'authorize'>;
  audit: AuditService;
  clock: { now(): Date };
}

export function createPolicyService({ db, inventory, access, audit, clock }: Deps) {
  /** Everything the policy covers that breaks it now; nothing is changed or deleted. */
  async function violationsOf(accountId: number | null, p: Policy): Promise<PolicyViolation[]> {
    const now = clock.now();
    const [ssh, hosts, apis] = await Promise.all([inventory.sshKeys(accountId), inventory.hostKeys(accountId), inventory.apiKeys(accountId)]);
    const found: PolicyViolation[] = [];
    for (const k of ssh) {
      const v = sshKeyViolation(p, { type: k.key_type, bits: k.bits, createdAt: k.created_at, expiresAt: k.expires_at, verifiedAt: k.verified_at, kind: k.kind }, now, 'list');
      if (v) found.push({ kind: k.kind === 'user' ? 'ssh_key' : 'deploy_key', id: k.id, name: k.title, fingerprint: k.fingerprint_sha256, rule: v.rule, limit: v.limit });
    }
    for (const k of hosts) {
      // Asked as at creation: a per-host key is a private key Keysmith holds, so there is no holder to verify.
      const v = sshKeyViolation(p, { type: k.key_type, bits: k.bits, createdAt: k.created_at, expiresAt: k.expires_at, verifiedAt: null }, now, 'create');
      if (v) found.push({ kind: 'host_key', id: k.id, name: k.hostname === '' ? '(every host)' : k.hostname, fingerprint: k.fingerprint_sha256, rule: v.rule, limit: v.limit });
    }
    for (const k of apis) {
      const v = apiKeyViolation(p, k.created_at, k.expires_at);
      if (v) found.push({ kind: k.kind === 'user' ? 'user_api_key' : 'service_api_key', id: k.id, name: k.name, fingerprint: k.start, rule: v.rule, limit: v.limit });
    }
    return found;
  }

  /** The policy that holds for an account's credentials (null: a person's own, the instance's alone). */
  async function effective(accountId: number | null, exec: Executor = db): Promise<Policy> {
    const { instance, account } = await repo.findPolicies(exec, accountId);
    return stricter(instance ?? noLimits, account);
  }

  async function save(ctx: RequestContext, scope: string, accountId: number | null, label: string, input: Partial<Record<keyof Policy, unknown>>) {
    const policy = validatePolicy(input);
    const at = clock.now().toISOString();
    await db.transaction().execute(async (trx) => {
      await repo.savePolicy(trx, scope, accountId, policy, ctx.actor.type === 'user' ? ctx.actor.userId : null, at);
      const details: Record<string, string | number | boolean | null> = {};
      for (const field of policyFields) {
        const value = policy[field];
        details[field] = Array.isArray(value) ? value.join(',') : value;
      }
      await audit.record(trx, ctx, { action: 'policy.update', accountId, target: { type: 'policy', id: scope, label }, details });
    });
    return { ...policy, updated_at: at };
  }

  return {
    effective,

    async getInstance(ctx: RequestContext) {
      requireSiteAdmin(ctx, 'reading the instance policy', "Only a site admin may read or change the instance's credential policy.");
      return (await repo.findPolicy(db, repo.INSTANCE_SCOPE)) ?? { ...noLimits, updated_at: null };
    },

    async instanceViolations(ctx: RequestContext) {
      requireSiteAdmin(ctx, 'reading the instance policy', "Only a site admin may read or change the instance's credential policy.");
      const { instance } = await repo.findPolicies(db, null);
      return violationsOf(null, instance ?? noLimits);
    },

    async accountViolations(ctx: RequestContext, name: string) {
      const acc = await access.resolve(ctx.actor, { from: 'path', name });
      access.authorize(ctx.actor, acc, 'policy.read');
      return violationsOf(acc.accountId, await effective(acc.accountId));
    },

    async putInstance(ctx: RequestContext, input: Partial<Record<keyof Policy, unknown>>) {
      requireSiteAdmin(ctx, 'changing the instance policy', "Only a site admin may read or change the instance's credential policy.");
      return save(ctx, repo.INSTANCE_SCOPE, null, 'instance', input);
    },

    async getAccount(ctx: RequestContext, name: string) {
      const acc = await access.resolve(ctx.actor, { from: 'path', name });
      access.authorize(ctx.actor, acc, 'policy.read');
      return (await repo.findPolicy(db, repo.accountScope(acc.accountId))) ?? { ...noLimits, updated_at: null };
    },

    async putAccount(ctx: RequestContext, name: string, input: Partial<Record<keyof Policy, unknown>>) {
      const acc = await access.resolve(ctx.actor, { from: 'path', name });
      access.authorize(ctx.actor, acc, 'policy.manage');
      return save(ctx, repo.accountScope(acc.accountId), acc.accountId, acc.accountName, input);
    },

    /**
     * A new SSH key (user key: accountId null, the instance policy; deploy or checkout key: its
     * account's too). Returns the expiry to store: the one asked for, else the longest allowed.
     */
    async admitSshKey(accountId: number | null, key: Omit<SshKeyFacts, 'createdAt' | 'verifiedAt'>): Promise<string | null> {
      const p = await effective(accountId);
      const now = clock.now();
      const expiresAt = defaultExpiry(p.ssh_key_max_lifetime_days, key.expiresAt, now);
      const broken = sshKeyViolation(p, { ...key, expiresAt, createdAt: now.toISOString(), verifiedAt: null }, now, 'create');
      if (broken) throw violationError(broken, broken.rule === 'ssh_key_max_lifetime_days' ? 'expires_at' : 'key');
      return expiresAt;
    },

    /** A new API key (user key: accountId null; service key: its account's too); returns the expiry to store. */
    /**
     * disable_unused_after_days wherever it is set, for the credential scheduler: the instance's
     * (a person's own keys) and each account's (what the account owns, beside the instance's).
     */
    async dormancyLimits(): Promise<DormancyLimits> {
      const rows = await repo.listDormancyLimits(db);
      const byAccount = new Map<number, number>();
      let instance: number | null = null;
      for (const r of rows) {
        if (r.account_id === null) instance = r.disable_unused_after_days;
        else byAccount.set(r.account_id, r.disable_unused_after_days!);
      }
      return { instance, byAccount };
    },

    async admitApiKey(accountId: number | null, expiresAt: string | null, exec: Executor = db): Promise<string | null> {
      const p = await effective(accountId, exec);
      const now = clock.now();
      const stored = defaultExpiry(p.api_key_max_lifetime_days, expiresAt, now);
      const broken = apiKeyViolation(p, now.toISOString(), stored);
      if (broken) throw violationError(broken, 'expires_at');
      return stored;
    },

    /** A certificate's ttl_seconds against certificate_max_ttl_seconds of the instance and the account. */
    async admitCertificateTtl(accountId: number, ttlSeconds: number, asked: boolean): Promise<number> {
      const max = (await effective(accountId)).certificate_max_ttl_seconds;
      if (max === null || ttlSeconds <= max) return ttlSeconds;
      // Left out, the default shrinks to the policy's limit; asked for, a longer one is refused.
      if (!asked) return max;
      throw violationError(
        { rule: 'certificate_max_ttl_seconds', limit: max, message: `The policy rule certificate_max_ttl_seconds lets a certificate live at most ${max} seconds, and ${ttlSeconds} were asked for.` },
        'ttl_seconds',
      );
    },
  };
}

/** Days unused after which credentials are disabled: the instance's limit, and each account's that sets one. */
export interface DormancyLimits {
  instance: number | null;
  byAccount: ReadonlyMap<number, number>;
}

export type PolicyService = ReturnType<typeof createPolicyService>;
/** What the modules that create credentials ask of the policy service. */
export type PolicyGate = Pick<PolicyService, 'admitSshKey' | 'admitApiKey' | 'admitCertificateTtl'>;
