// The composition root: every service, wired to its narrow dependencies. Routes, the CLI and tests
// all build the domain through here.
import { PostgresAdapter, sql } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { KeyRing } from './crypto/envelope.ts';
import { checkoutKeySealedValues, createCheckoutKeyService, type CheckoutKeyService } from './modules/checkout-keys/checkout-keys.service.ts';
import { createGrantService } from './modules/grants/grants.service.ts';
import { createHostKeyService, hostKeySealedValues } from './modules/host-keys/host-keys.service.ts';
import { createHerokuService, herokuSealedValues } from './modules/integrations/heroku.service.ts';
import type { Db } from './db/schema.ts';
import { createAccessService } from './modules/access/access.service.ts';
import { accountNames, createAccountService, createMembershipLookup, memberAccounts, ownershipLookup } from './modules/accounts/accounts.service.ts';
import { createApiKeyService, type CachedCredential } from './modules/api-keys/api-keys.service.ts';
import { createApiKeyRotationService, rotationReplaySealedValues } from './modules/api-keys/api-key-rotation.service.ts';
import { createLastUsedTracker } from './modules/api-keys/last-used.ts';
import { createCredentialCache } from './modules/api-keys/credential-cache.ts';
import { createCredentialInvalidation, INVALIDATION_CHANNEL } from './modules/api-keys/credential-invalidation.ts';
import { createAuditReader, createAuditService } from './modules/audit/audit.service.ts';
import { createProjectService } from './modules/projects/projects.service.ts';
import { createPolicyService } from './modules/policies/policies.service.ts';
import { createSshKeyService } from './modules/ssh-keys/ssh-keys.service.ts';
import { createSshKeyVerificationService } from './modules/ssh-keys/ssh-key-verification.service.ts';
import { createSshAccessService } from './modules/ssh-access/ssh-access.service.ts';
import { createSshCaService, sshCaSealedValues } from './modules/ssh-ca/ssh-ca.service.ts';
import { createSessionService, sessionTerminator } from './modules/sessions/sessions.service.ts';
import { createUserService, userContacts } from './modules/users/users.service.ts';
import { createRateLimiter } from './modules/limits/rate-limiter.ts';
import { createLeakedKeyRevocation, type ApiKeyRevoked, type RevocationHooks } from './modules/api-keys/leaked-keys.ts';
import { createLeakReportService } from './modules/leaked-credentials/leaked-credentials.service.ts';
import { createPasswordService } from './modules/users/passwords.service.ts';
import { createWebhookSender } from './modules/webhooks/webhook-sender.ts';
import { createWebhookService, webhookSealedValues } from './modules/webhooks/webhooks.service.ts';
import { eventFromAudit, grantEventsFromAudit } from './modules/webhooks/audit-events.ts';
import { createMetrics } from './metrics/metrics.ts';
import { createMailService } from './modules/mail/mail.service.ts';
import { noticeFromAudit } from './modules/mail/audit-notices.ts';
import { createApiKeyLifecycle } from './modules/api-keys/api-key-lifecycle.ts';
import { createSshKeyLifecycle } from './modules/ssh-keys/ssh-key-lifecycle.ts';
import { hostKeyCredentialSource } from './modules/host-keys/host-keys.service.ts';
import { createCredentialNoticeService } from './modules/credential-notices/credential-notices.service.ts';

export interface Clock {
  now(): Date;
  /** The same instant as epoch milliseconds, without a Date (the request path reads it); optional for test clocks. */
  nowMs?(): number;
}

export const systemClock: Clock = { now: () => new Date(), nowMs: () => Date.now() };

export interface ServiceDeps {
  db: Db;
  /** Master keys for sealing and opening stored secrets. */
  ring: KeyRing;
  config: Config;
  logger: Logger;
  clock?: Clock;
}

export function createServices({ db, ring, config, logger, clock = systemClock }: ServiceDeps) {
  // One registry per set of services (tests build many in one process); GET /metrics reads it.
  const metrics = createMetrics();
  // Email to people about their own credentials (a no-op unless KEYSMITH_SMTP_URL and KEYSMITH_MAIL_FROM are set).
  const mail = createMailService({ db, mail: config.mail, publicUrl: config.publicUrl, users: userContacts, clock, logger, onSent: (outcome) => metrics.mailSent(outcome) });
  // Audited changes of an account reach its webhooks in the same transaction (webhooks, bound late:
  // made below); a new key on a person's own account reaches them by email, in the same transaction too.
  const audit = createAuditService({
    db,
    clock,
    logger,
    onRefused: (reason) => metrics.authentication(reason),
    onRecorded: async (trx, origin, entries) => {
      for (const entry of entries) {
        const event = eventFromAudit(origin, entry);
        if (event) await webhooks.enqueue(trx, event);
        for (const grantEvent of await grantEventsFromAudit(trx, origin, entry, memberAccounts)) await webhooks.enqueue(trx, grantEvent);
        const notice = noticeFromAudit(origin, entry);
        if (notice) await mail.enqueue(trx, notice);
      }
    },
  });
  const access = createAccessService({ memberships: createMembershipLookup(db), publicUrl: config.publicUrl });
  const lastUsed = createLastUsedTracker({ db, clock });
  const credentials = createCredentialCache<CachedCredential>({ clock, ttlMs: config.credentialCacheTtlMs, maxEntries: 10_000, counts: metrics.credentialCache });
  // On PostgreSQL other nodes may share the database: each eviction is announced to them.
  const onPostgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const invalidation = createCredentialInvalidation({
    cache: credentials,
    announce: onPostgres ? async (payload) => void (await sql`select pg_notify(${INVALIDATION_CHANNEL}, ${payload})`.execute(db)) : undefined,
    logger,
  });
  // Two pairs of modules need each other, so one edge of each is bound late, through `checkoutKeys`
  // (created below; the closures are only called once a request arrives):
  // - checkout keys write their public halves through sshKeys, and deleting an SSH key tells
  //   checkoutKeys first (sshKeys → checkoutKeys.beforeSshKeyRemoved);
  // - checkout keys ask grants.require, and revoking a grant removes the keys made under it
  //   (grants → checkoutKeys.listUserKeys / removeKeys).
  const late = (): CheckoutKeyService => checkoutKeys;
  const userKeyRemoval = {
    listUserKeys: (...args: Parameters<CheckoutKeyService['listUserKeys']>) => late().listUserKeys(...args),
    removeKeys: (...args: Parameters<CheckoutKeyService['removeKeys']>) => late().removeKeys(...args),
  };
  // Deleting a user removes their user checkout keys (late-bound like the above); disabling one
  // forgets their cached API keys at once, on every node.
  const users = createUserService({ db, audit, clock, credentials: invalidation, ownership: ownershipLookup, checkoutKeys: userKeyRemoval });
  const projects = createProjectService({ db, access, audit, clock });
  // The policy lists its violations from the modules that own the credentials, created below (bound late).
  const inventory = {
    sshKeys: (accountId: number | null) => sshKeys.listForPolicy(accountId),
    hostKeys: (accountId: number | null) => hostKeys.listForPolicy(accountId),
    apiKeys: (accountId: number | null) => apiKeys.listForPolicy(accountId),
  };
  const policies = createPolicyService({ db, inventory, access, audit, clock });
  const hostKeys = createHostKeyService({ db, ring, projects, policies, audit, clock });

  const sshKeys = createSshKeyService({ db, projects, users, policies, checkoutKeys: { beforeSshKeyRemoved: (...args) => late().beforeSshKeyRemoved(...args) }, audit, clock });
  const grants = createGrantService({ db, checkoutKeys: userKeyRemoval, audit, clock, publicUrl: config.publicUrl });
  const apiKeys = createApiKeyService({ db, credentials, invalidation, access, policies, audit, lastUsed, projects, clock });
  const checkoutKeys = createCheckoutKeyService({ db, ring, access, projects, grants, publicHalves: sshKeys, hostKeys, runnerLimits: apiKeys, policies, audit, clock });
  const rateLimits = createRateLimiter({ db, clock });
  const webhooks = createWebhookService({ db, ring, access, accounts: accountNames, audit, sender: createWebhookSender(), clock, logger, onAttempt: (outcome) => metrics.webhookDelivery(outcome) });
  // "Its owner is told": a service key's account hears of it by webhook, a user's own key's owner by
  // email (each outbox row commits with the revocation).
  const revocationHooks: RevocationHooks = {
    inTransaction: async (trx, revoked) => {
      for (const r of revoked) {
        if (r.owner.type === 'user') {
          await mail.enqueue(trx, { kind: 'revoked_leaked', userId: r.owner.userId, credential: { type: 'user_api_key', id: r.key.id, name: r.key.name, fingerprint: r.key.start } });
          continue;
        }
        await webhooks.enqueue(trx, {
          event: 'credential.revoked',
          accountId: r.owner.accountId,
          actor: { type: 'system' },
          target: { type: 'service_api_key', id: r.key.id, name: r.key.name, fingerprint: r.key.start },
          data: { reason: r.reason },
        });
      }
    },
    afterCommit: (revoked: readonly ApiKeyRevoked[]) => {
      webhooks.kick();
      mail.kick();
      for (const r of revoked)
        logger.info(
          { revoked: r },
          r.owner.type === 'account'
            ? 'API key revoked as leaked; its account is told by webhook'
            : mail.enabled
              ? 'API key revoked as leaked; its owner is emailed if they have an address'
              : 'API key revoked as leaked; its owner is not emailed (email is not configured)',
        );
    },
  };
  const leakedKeys = createLeakedKeyRevocation({ db, invalidation, audit, hooks: revocationHooks, clock, logger });
  // Expiry notices and dormant credentials: each owning module answers for its own keys.
  const apiKeyLifecycle = createApiKeyLifecycle({ db, access, audit, invalidation, keys: apiKeys, clock });
  const sshKeyLifecycle = createSshKeyLifecycle({ db, projects, audit, keys: sshKeys, clock });
  const credentialNotices = createCredentialNoticeService({
    db,
    sources: [apiKeyLifecycle.source, sshKeyLifecycle.source, hostKeyCredentialSource()],
    policies,
    webhooks,
    mail,
    clock,
    logger,
  });
  const sshCa = createSshCaService({ db, ring, access, projects, policies, runnerLimits: apiKeys, audit, clock });
  return {
    db,
    clock,
    metrics,
    audit,
    access,
    lastUsed,
    /** Rate limits counted in the database, so every node counts the same hits: hit(bucket, key, limit, windowSeconds). */
    rateLimits,
    /** Reports of leaked credentials (POST /v1/credentials/revoke): rate limited per address, then revoked. */
    leaks: createLeakReportService({ rateLimits, apiKeys: leakedKeys }),
    /** What another node's announcement asks this one to forget (db/invalidation-listener.ts). */
    invalidation,
    auditLog: createAuditReader({ db, access }),
    users,
    passwords: createPasswordService({ db, audit, clock, publicUrl: config.publicUrl, sessions: sessionTerminator }),
    accounts: createAccountService({ db, credentials: invalidation, access, users, checkoutKeys, audit, clock }),
    projects,
    policies,
    sshKeys,
    sshKeyVerification: createSshKeyVerificationService({ db, keys: sshKeys, audit, clock }),
    grants,
    checkoutKeys,
    hostKeys,
    sshAccess: createSshAccessService({ db, access, projects, keyUses: sshKeys, certificates: sshCa, audit, clock, lookups: (mode, outcome) => metrics.sshLookup(mode, outcome) }),
    sshCa,
    webhooks,
    /** Email to people about their own credentials: enqueue(trx, notice) in a change's transaction, then kick(). */
    mail,
    heroku: createHerokuService({ db, ring, audit, clock }),
    apiKeys,
    /** Enabling API keys disabled for going unused. */
    apiKeyLifecycle,
    /** Enabling SSH and deploy keys disabled for going unused. */
    sshKeyLifecycle,
    /** The scheduler's time-based notices (expiring, expired) and dormant credentials: scan(). */
    credentialNotices,
    /** Rotation with a grace period, and the sweep of its sealed replays. */
    apiKeyRotation: createApiKeyRotationService({ db, ring, access, policies, audit, invalidation, view: apiKeys.view, clock }),
    sessions: createSessionService({ db, users, audit, clock, ttlSeconds: config.sessionTtlSeconds }),
    /** Each owning module's sealed values, for master-key rotation. */
    sealedValues: {
      checkout_keys: checkoutKeySealedValues(db),
      host_keys: hostKeySealedValues(db),
      heroku_keys: herokuSealedValues(db),
      ssh_ca_keys: sshCaSealedValues(db),
      webhooks: webhookSealedValues(db),
      api_key_rotation_replays: rotationReplaySealedValues(db),
    },

    /** Writes what is kept in memory between flushes: last-used times and refused authentications. */
    async flush(): Promise<void> {
      await Promise.all([lastUsed.flush(), sshKeys.flushUses(), audit.flush()]);
    },
  };
}

export type Services = ReturnType<typeof createServices>;
