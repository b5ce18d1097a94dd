// User and service API keys (README: the native API): minted outside the transaction, stored as SHA-256,
// shown once; the credential check that every authenticated request makes.
import type { Db, Executor } from '../../db/schema.ts';
import { isForeignKeyViolation, isUniqueViolation } from '../../db/dialect.ts';
import { checksumMatches, mintToken, tokenHash } from '../../crypto/token.ts';
import { AppError, notFound } from '../../errors.ts';
import type { Actor, RequestContext } from '../access/actor.ts';
import { requireUnrestricted as requireUnrestrictedKey, requireUser } from '../access/access.service.ts';
import type { AccessService, AccountSelector } from '../access/access.service.ts';
import { isScope, type Scope, type ServiceRole } from '../access/roles.ts';
import type { PolicyGate } from '../policies/policies.service.ts';
import type { AuditOrigin, AuditService } from '../audit/audit.service.ts';
import { parseVcs, type ProjectService } from '../projects/projects.service.ts';
import * as repo from './api-keys.repo.ts';
import type { CredentialCache } from './credential-cache.ts';
import type { CredentialInvalidation } from './credential-invalidation.ts';
import type { LastUsedTracker } from './last-used.ts';

interface Deps {
  db: Db;
  credentials: CredentialCache<CachedCredential>;
  /** Forgets a deleted key here and, on PostgreSQL, on every other node. */
  invalidation: Pick<CredentialInvalidation, 'forgetKey'>;
  access: AccessService;
  policies: Pick<PolicyGate, 'admitApiKey'>;
  audit: AuditService;
  lastUsed: LastUsedTracker;
  projects: Pick<ProjectService, 'findInAccount'>;
  /** nowMs, when the clock has it, spares the request path a Date. */
  clock: { now(): Date; nowMs?(): number };
}

/** At most this many projects in a runner key's list. */
export const MAX_RUNNER_PROJECTS = 100;

export interface NewServiceKeyInput extends NewKeyInput {
  role: ServiceRole;
  /** Runner keys only: the project slugs (<vcs>/<account>/<name>) whose credentials it may fetch; null or absent: all. */
  projects?: string[] | null;
}

export interface NewKeyInput {
  name: string;
  expires_at?: string | null;
  scopes?: string[] | null;
}

type KeyRow = Awaited<ReturnType<typeof repo.insertApiKey>>;

/** A looked-up key, ready to answer the next request with no parsing or date formatting. */
export interface CachedCredential {
  keyId: number;
  name: string;
  expiresAt: string | null;
  expiresAtMs: number | null;
  /** Shared by every request of this key; never mutated. */
  actor: Actor;
  /** Set while a site admin has disabled the key's user: the key is refused, and works again once enabled. */
  disabledLogin: string | null;
  /** Set while the key is disabled for going unused: refused until its owner enables it again. */
  disabledAt: string | null;
  /** A rotated key: when its grace ends, and the start of its successor (null if that was deleted since). */
  rotated: { revokedAfter: string; revokedAfterMs: number; successorStart: string | null } | null;
}

/** Names are unique per owner (the console lists keys by name). */
const nameTaken = (message: string): AppError => new AppError('name_taken', message, 'Choose another name, or delete the old key first.', { field: 'name' });

function toCredential(row: repo.CredentialRow): CachedCredential {
  const { scopes } = row;
  const actor: Actor =
    row.kind === 'user'
      ? {
          type: 'user',
          userId: row.user_id!,
          login: row.login!,
          isSiteAdmin: row.is_site_admin,
          profile: { name: row.user_name, email: row.user_email, createdAt: row.user_created_at! },
          credential: { kind: 'api_key', keyId: row.id, scopes },
        }
      : {
          type: 'service',
          keyId: row.id,
          keyName: row.name,
          accountId: row.account_id!,
          accountName: row.account_name!,
          role: row.role as ServiceRole,
          scopes,
        };
  return {
    keyId: row.id,
    name: row.name,
    expiresAt: row.expires_at,
    expiresAtMs: row.expires_at === null ? null : Date.parse(row.expires_at),
    actor,
    disabledLogin: row.kind === 'user' && row.user_disabled_at !== null ? row.login : null,
    disabledAt: row.disabled_at,
    rotated: row.revoked_after === null ? null : { revokedAfter: row.revoked_after, revokedAfterMs: Date.parse(row.revoked_after), successorStart: row.successor_start },
  };
}

/** Why a credential was refused; the message is safe to show and never repeats the credential. */
export class RefusedCredential extends AppError {}

/** The one refusal for every credential of a disabled user. */
export const userDisabled = (login: string): RefusedCredential =>
  new RefusedCredential('user_disabled', `The user ${login} is disabled; a site admin can enable them again.`, 'Ask a site admin of this Keysmith instance to enable the user.', {
    extra: { reason: 'user_disabled' },
  });

/** A key disabled for going unused: it works again once its owner enables it. */
function keyDisabled(credential: CachedCredential): RefusedCredential {
  const how =
    credential.actor.type === 'user'
      ? `its owner can enable it again with POST /v1/user/api-keys/${credential.keyId}/enable`
      : `an owner or admin of ${credential.actor.accountName} can enable it again with POST /v1/service-api-keys/${credential.keyId}/enable`;
  return new RefusedCredential(
    'token_disabled',
    `The API key "${credential.name}" was disabled on ${credential.disabledAt} because it had gone unused; ${how}.`,
    'Enable the key again, or create a new one.',
    {
      extra: { reason: 'disabled', disabled_at: credential.disabledAt },
    },
  );
}

export function createApiKeyService({ db, credentials, invalidation, access, policies, audit, lastUsed, projects, clock }: Deps) {
  /** The projects a new runner key is limited to, checked against the key's own account; null: not limited. */
  async function resolveProjectLimit(acc: { accountId: number; accountName: string }, input: NewServiceKeyInput) {
    if (input.projects == null) return null;
    if (input.role !== 'runner') {
      throw new AppError(
        'validation_failed',
        `The projects field limits which projects' private keys a runner key can read, so only a runner key can have one; this key's role is ${input.role}.`,
        'Leave projects out, or set role to runner.',
        { field: 'projects' },
      );
    }
    if (input.projects.length === 0) {
      throw new AppError(
        'validation_failed',
        'The projects field must name at least one project.',
        `Leave it out (or send null) for a runner key that reads every project of account ${acc.accountName}.`,
        { field: 'projects' },
      );
    }
    const ids = new Map<number, string>();
    for (const [i, slug] of input.projects.entries()) {
      const field = `projects[${i}]`;
      const parts = slug.split('/');
      const vcs = parts.length === 3 ? parseVcs(parts[0]!) : undefined;
      if (vcs !== 'gh' && vcs !== 'bb') {
        throw new AppError(
          'validation_failed',
          `The ${field} value "${slug.slice(0, 80)}" is not a project slug: use <vcs>/<account>/<name>, with vcs gh, github, bb or bitbucket.`,
          'Copy the slug from GET /v1/projects.',
          { field },
        );
      }
      const [, accountName, name] = parts as [string, string, string];
      if (accountName.toLowerCase() !== acc.accountName.toLowerCase()) {
        throw new AppError(
          'validation_failed',
          `The project ${slug.slice(0, 160)} is not in account ${acc.accountName}: a runner key of ${acc.accountName} can only be limited to that account's projects.`,
          `Name projects as ${vcs}/${acc.accountName}/<name>, or create the key in the other account.`,
          { field },
        );
      }
      const project = await projects.findInAccount(acc.accountId, vcs, name);
      if (!project) {
        throw new AppError(
          'validation_failed',
          `The project ${slug.slice(0, 160)} does not exist in account ${acc.accountName}.`,
          'Check the name against GET /v1/projects, or create the project first.',
          {
            field,
          },
        );
      }
      ids.set(project.id, `${project.vcs}/${acc.accountName}/${project.name}`);
    }
    return { ids: [...ids.keys()], slugs: [...ids.values()] };
  }

  function validate(input: NewKeyInput): { expiresAt: string | null; scopes: Scope[] | null } {
    let expiresAt: string | null = null;
    if (input.expires_at != null) {
      const when = new Date(input.expires_at);
      if (Number.isNaN(when.getTime())) {
        throw new AppError('validation_failed', 'The expires_at field must be a date-time such as 2027-01-31T00:00:00Z.', undefined, { field: 'expires_at' });
      }
      if (when <= clock.now()) {
        throw new AppError('validation_failed', 'The expires_at field must be in the future.', undefined, { field: 'expires_at' });
      }
      expiresAt = when.toISOString();
    }
    let scopes: Scope[] | null = null;
    if (input.scopes != null) {
      const unknown = input.scopes.filter((s) => !isScope(s));
      if (unknown.length > 0) {
        throw new AppError(
          'validation_failed',
          `The scopes field names unknown scopes (${unknown.map((s) => s.slice(0, 40)).join(', ')}); known scopes are read:public_key, write:public_key, admin:public_key, read:project, write:project, admin:account.`,
          undefined,
          { field: 'scopes' },
        );
      }
      scopes = [...new Set(input.scopes as Scope[])];
    }
    return { expiresAt, scopes };
  }

  const requireUnrestricted = (actor: Actor) => requireUnrestrictedKey(actor, 'creating or deleting API keys');

  const view = (row: KeyRow) => ({
    id: row.id,
    name: row.name,
    start: row.start,
    created_at: row.created_at,
    expires_at: row.expires_at,
    last_used_at: lastUsed.merge(row.id, row.last_used_at),
    scopes: row.scopes,
    rotated_from: row.rotated_from,
    rotated_to: row.superseded_by,
    stops_working_at: row.revoked_after,
    disabled_at: row.disabled_at,
  });

  function notAToken(reason: 'not_a_keysmith_token' | 'bad_checksum'): RefusedCredential {
    return new RefusedCredential(
      'token_invalid',
      reason === 'bad_checksum'
        ? 'The API key is mistyped or incomplete: its checksum does not match.'
        : 'The credential is not a Keysmith API key (those start with ksu_ or kss_ and are 40 characters long).',
      'Copy the whole key again, or create a new one.',
      { extra: { reason } },
    );
  }

  function accept(credential: CachedCredential, nowMs: number): Actor {
    if (credential.disabledLogin !== null) throw userDisabled(credential.disabledLogin);
    if (credential.disabledAt !== null) throw keyDisabled(credential);
    // The grace end is read from the row (cached with it, and evicted at rotation): no job needed.
    if (credential.rotated !== null && credential.rotated.revokedAfterMs <= nowMs) {
      const { revokedAfter, successorStart } = credential.rotated;
      throw new RefusedCredential(
        'token_rotated',
        successorStart === null
          ? `The API key "${credential.name}" was rotated and stopped working at ${revokedAfter}; the key that replaced it has since been deleted.`
          : `The API key "${credential.name}" was rotated and stopped working at ${revokedAfter}; use the key that replaced it, which starts with ${successorStart}.`,
        'Use the new key shown when this one was rotated; if it was lost, rotate or create another key.',
        { extra: { reason: 'rotated', revoked_after: revokedAfter } },
      );
    }
    if (credential.expiresAtMs !== null && credential.expiresAtMs <= nowMs) {
      throw new RefusedCredential('token_expired', `The API key "${credential.name}" expired on ${credential.expiresAt}.`, 'Create a new API key.', {
        extra: { reason: 'expired', expired_at: credential.expiresAt },
      });
    }
    lastUsed.touch(credential.keyId, undefined, nowMs);
    return credential.actor;
  }

  return {
    view,

    /**
     * Turns a presented token into an actor, or throws a RefusedCredential. A cached key answers
     * synchronously (no promise on the hot path) and without the checksum, which only a key that was
     * never minted can fail; otherwise the checksum, then one indexed read.
     */
    authenticate(token: string): Actor | Promise<Actor> {
      const hash = tokenHash(token);
      if (hash === undefined) throw notAToken('not_a_keysmith_token');
      // One clock read serves the cache's TTL, the expiry and last_used.
      const nowMs = clock.nowMs ? clock.nowMs() : clock.now().getTime();
      const cached = credentials.get(hash, nowMs);
      if (cached) return accept(cached, nowMs);
      if (!checksumMatches(token)) throw notAToken('bad_checksum');
      const readAt = credentials.generation();
      return repo.findKeyByHash(db, hash).then((row) => {
        if (!row) {
          throw new RefusedCredential('token_invalid', 'The API key is not known: it may have been deleted.', 'Create a new API key.', { extra: { reason: 'unknown_key' } });
        }
        const credential = toCredential(row);
        credentials.set(hash, credential, readAt);
        // Read again: the look-up took time.
        return accept(credential, clock.now().getTime());
      });
    },

    /** The API keys a policy covers (policies' violations list): an account's service keys, or every key (null). */
    listForPolicy: (accountId: number | null) => repo.listForPolicy(db, accountId),

    async listUserKeys(ctx: RequestContext) {
      const user = requireUser(ctx.actor, 'User API keys');
      return (await repo.listUserKeys(db, user.userId)).map(view);
    },

    /** Validates and mints outside any transaction; the returned writer stores the key inside one. */
    prepareUserKey(input: NewKeyInput) {
      const { expiresAt: asked, scopes } = validate(input);
      const minted = mintToken('user');
      return async (trx: Executor, origin: AuditOrigin, userId: number) => {
        // A person's own key answers to the instance policy (read in the caller's transaction).
        const expiresAt = await policies.admitApiKey(null, asked, trx);
        const row = await repo.insertApiKey(trx, {
          kind: 'user',
          user_id: userId,
          account_id: null,
          name: input.name,
          role: null,
          token_hash: minted.hash,
          start: minted.start,
          scopes: scopes === null ? null : JSON.stringify(scopes),
          expires_at: expiresAt,
          created_by: userId,
          created_at: clock.now().toISOString(),
        });
        // The start and the owner (never the secret): the owner's email says which key is new (mail module).
        await audit.record(trx, origin, { action: 'api_key.create', target: { type: 'api_key', id: row.id, label: row.name }, details: { kind: 'user', start: row.start, user_id: userId } });
        return { ...view(row), key: minted.token };
      };
    },

    async createUserKey(ctx: RequestContext, input: NewKeyInput) {
      const actor = requireUser(ctx.actor, 'User API keys');
      requireUnrestricted(actor);
      const write = this.prepareUserKey(input);
      try {
        return await db.transaction().execute((trx) => write(trx, ctx, actor.userId));
      } catch (err) {
        if (isUniqueViolation(err)) throw nameTaken(`You already have a user API key called "${input.name}".`);
        throw err;
      }
    },

    /** Only the user deletes their own user keys; anyone else's id is a 404. */
    async deleteUserKey(ctx: RequestContext, id: number) {
      const actor = requireUser(ctx.actor, 'User API keys');
      requireUnrestricted(actor);
      await db.transaction().execute(async (trx) => {
        const row = await repo.findUserKey(trx, actor.userId, id);
        if (!row) throw notFound(`API key ${id}`);
        await repo.deleteApiKey(trx, id);
        await audit.record(trx, ctx, { action: 'api_key.delete', target: { type: 'api_key', id, label: row.name }, details: { kind: 'user' } });
      });
      // After commit: a request racing the delete cannot put the key back in the cache.
      await invalidation.forgetKey(id);
    },

    /** `projects`: null for every project of the account; a list (possibly emptied by deletions) otherwise. */
    async listServiceKeys(ctx: RequestContext, selector: AccountSelector) {
      const acc = await access.resolve(ctx.actor, selector);
      access.authorize(ctx.actor, acc, 'service_key.manage');
      const rows = await repo.listServiceKeys(db, acc.accountId);
      const limited = rows.filter((r) => r.limited_to_projects).map((r) => r.id);
      const lists = new Map<number, string[]>(limited.map((id) => [id, []]));
      for (const p of await repo.listKeyProjects(db, limited)) lists.get(p.api_key_id)?.push(`${p.vcs}/${acc.accountName}/${p.name}`);
      return rows.map((r) => ({ ...view(r), role: r.role as ServiceRole, created_by: r.created_by_login ?? null, projects: lists.get(r.id) ?? null }));
    },

    /**
     * Whether a service key may fetch this project's checkout credentials: a key limited to projects
     * only for those listed. A limited key whose projects were all deleted reads nothing.
     */
    async mayReadProjectSecrets(actor: Actor, projectId: number): Promise<boolean> {
      if (actor.type !== 'service') return true;
      const row = await repo.findProjectLimit(db, actor.keyId, projectId);
      if (!row) return false;
      return !row.limited_to_projects || row.project_id !== null;
    },

    async createServiceKey(ctx: RequestContext, selector: AccountSelector, input: NewServiceKeyInput) {
      const acc = await access.resolve(ctx.actor, selector);
      access.authorize(ctx.actor, acc, 'service_key.manage');
      if (input.role === 'runner') access.authorize(ctx.actor, acc, 'runner_key.manage');
      requireUnrestricted(ctx.actor);
      // The role list stops at admin (never owner), so an admin cannot mint a key above their own role.
      const { expiresAt: asked, scopes } = validate(input);
      const expiresAt = await policies.admitApiKey(acc.accountId, asked);
      const limit = await resolveProjectLimit(acc, input);
      const minted = mintToken('service');
      const createdBy = ctx.actor.type === 'user' ? ctx.actor.userId : null;
      const row = await db
        .transaction()
        .execute(async (trx) => {
          const row = await repo.insertApiKey(trx, {
            kind: 'service',
            user_id: null,
            account_id: acc.accountId,
            name: input.name,
            role: input.role,
            token_hash: minted.hash,
            start: minted.start,
            scopes: scopes === null ? null : JSON.stringify(scopes),
            expires_at: expiresAt,
            created_by: createdBy,
            created_at: clock.now().toISOString(),
            limited_to_projects: limit !== null,
          });
          if (limit) await repo.insertKeyProjects(trx, row.id, limit.ids);
          await audit.record(trx, ctx, {
            action: 'service_key.create',
            accountId: acc.accountId,
            target: { type: 'api_key', id: row.id, label: row.name },
            details: { role: input.role, ...(limit ? { projects: limit.slugs.join(', ') } : {}) },
          });
          return row;
        })
        .catch((err: unknown) => {
          if (isUniqueViolation(err)) throw nameTaken(`Account ${acc.accountName} already has a service API key called "${input.name}".`);
          // A project of the list deleted between the check and the insert: nothing was written.
          if (limit && isForeignKeyViolation(err)) {
            throw new AppError(
              'conflict',
              'A project named in "projects" was deleted while the key was being created, so no key was made.',
              'List the projects again and create the key with the ones that exist.',
              { field: 'projects' },
            );
          }
          throw err;
        });
      const createdByLogin = ctx.actor.type === 'user' ? ctx.actor.login : null;
      return { ...view(row), role: input.role, created_by: createdByLogin, projects: limit?.slugs ?? null, key: minted.token };
    },

    async deleteServiceKey(ctx: RequestContext, selector: AccountSelector, id: number) {
      const acc = await access.resolve(ctx.actor, selector);
      access.authorize(ctx.actor, acc, 'service_key.manage');
      requireUnrestricted(ctx.actor);
      await db.transaction().execute(async (trx) => {
        const row = await repo.findServiceKey(trx, acc.accountId, id);
        if (!row) throw notFound(`Service API key ${id}`);
        if (row.role === 'runner') access.authorize(ctx.actor, acc, 'runner_key.manage');
        await repo.deleteApiKey(trx, id);
        await audit.record(trx, ctx, { action: 'service_key.delete', accountId: acc.accountId, target: { type: 'api_key', id, label: row.name }, details: { role: row.role } });
      });
      await invalidation.forgetKey(id);
    },
  };
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>;
