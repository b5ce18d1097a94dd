// The composition root: every service, wired to its narrow dependencies. Routes, the CLI and tests
// all build the domain through here.
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { KeyRing } from './crypto/envelope.ts';
import { createCheckoutKeyService } from './modules/checkout-keys/checkout-keys.service.ts';
import { createGrantService } from './modules/grants/grants.service.ts';
import { createHostKeyService } from './modules/host-keys/host-keys.service.ts';
import { createHerokuService } from './modules/integrations/heroku.service.ts';
import type { Db } from './db/schema.ts';
import { createAccessService } from './modules/access/access.service.ts';
import { createAccountService } from './modules/accounts/accounts.service.ts';
import { createApiKeyService, type CachedCredential } from './modules/api-keys/api-keys.service.ts';
import { createLastUsedTracker } from './modules/api-keys/last-used.ts';
import { createCredentialCache } from './modules/api-keys/credential-cache.ts';
import { createAuditReader, createAuditService } from './modules/audit/audit.service.ts';
import { createProjectService } from './modules/projects/projects.service.ts';
import { createSshKeyService } from './modules/ssh-keys/ssh-keys.service.ts';
import { createSessionService } from './modules/sessions/sessions.service.ts';
import { createUserService } from './modules/users/users.service.ts';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface ServiceDeps {
  db: Db;
  /** Master keys for sealing and opening stored secrets. */
  ring: KeyRing;
  config: Config;
  logger: Logger;
  clock?: Clock;
}

export function createServices({ db, ring, config, logger, clock = systemClock }: ServiceDeps) {
  const audit = createAuditService({ db, clock, logger });
  const access = createAccessService({ db, publicUrl: config.publicUrl });
  const lastUsed = createLastUsedTracker({ db, clock });
  const credentials = createCredentialCache<CachedCredential>({ clock, ttlMs: config.credentialCacheTtlMs, maxEntries: 10_000 });
  const projects = createProjectService({ db, access, audit, clock });
  const grants = createGrantService({ db, audit, clock, publicUrl: config.publicUrl });
  const apiKeys = createApiKeyService({ db, credentials, access, audit, lastUsed, projects, clock });
  return {
    db,
    audit,
    access,
    lastUsed,
    auditLog: createAuditReader({ db, access }),
    users: createUserService({ db, audit, clock }),
    accounts: createAccountService({ db, credentials, access, audit, clock }),
    projects,
    sshKeys: createSshKeyService({ db, projects, audit, clock }),
    grants,
    checkoutKeys: createCheckoutKeyService({ db, ring, access, projects, grants, runnerLimits: apiKeys, audit, clock }),
    hostKeys: createHostKeyService({ db, ring, projects, audit, clock }),
    heroku: createHerokuService({ db, ring, audit, clock }),
    apiKeys,
    sessions: createSessionService({ db, audit, clock, ttlSeconds: config.sessionTtlSeconds }),

    /** Writes what is kept in memory between flushes: last-used times and refused authentications. */
    async flush(): Promise<void> {
      await Promise.all([lastUsed.flush(), audit.flush()]);
    },
  };
}

export type Services = ReturnType<typeof createServices>;
