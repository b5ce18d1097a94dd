// SSH keys going dormant and coming back: what the credential scheduler asks of this module (keys
// whose expiry is near, keys unused since a cut-off, disabling one), and the owner's way back
// (POST …/enable). A disabled key is kept and listed; SSH servers' lookups skip it (ssh-access) and
// certificates are not signed for it, until it is enabled again.
import type { Db, Executor } from '../../db/schema.ts';
import { notFound } from '../../errors.ts';
import type { RequestContext } from '../access/actor.ts';
import { requireScope, requireUser } from '../access/access.service.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { latestOf, type CredentialFacts, type CredentialSource } from '../credential-notices/credential-source.ts';
import type { ProjectRef, ProjectService } from '../projects/projects.service.ts';
import type { SshKeyService } from './ssh-keys.service.ts';
import * as repo from './ssh-keys.repo.ts';

interface Deps {
  db: Db;
  projects: Pick<ProjectService, 'find'>;
  audit: AuditService;
  keys: Pick<SshKeyService, 'getUserKey' | 'getDeployKey'>;
  clock: { now(): Date };
}

type LifecycleRow = Awaited<ReturnType<typeof repo.listExpiring>>[number];

/** A user's key (their checkout keys' public halves too) is theirs; a deploy key is its project's account's. */
function facts(row: LifecycleRow): CredentialFacts | undefined {
  const owner =
    row.kind === 'user'
      ? row.user_id === null
        ? undefined
        : { type: 'user' as const, userId: row.user_id }
      : row.account_id === null
        ? undefined
        : { type: 'account' as const, accountId: row.account_id };
  if (!owner) return undefined;
  return {
    kind: row.kind === 'user' ? 'ssh_key' : 'deploy_key',
    id: row.id,
    name: row.title,
    fingerprint: row.fingerprint_sha256,
    owner,
    expiresAt: row.expires_at,
    activeAt: latestOf(row.created_at, row.last_used_at, row.enabled_at),
  };
}

const present = <T>(value: T | undefined): value is T => value !== undefined;

export function createSshKeyLifecycle({ db, projects, audit, keys, clock }: Deps) {
  const source: CredentialSource = {
    table: 'ssh_key',
    listExpiring: async (exec, from, to) => (await repo.listExpiring(exec, from, to)).map(facts).filter(present),
    dormancy: {
      listUnusedSince: async (exec, before) => (await repo.listUnusedSince(exec, before)).map(facts).filter(present),
      async disable(trx: Executor, key: CredentialFacts, at: string, unusedDays: number) {
        if (!(await repo.disableIfUnused(trx, key.id, key.activeAt, at))) return false;
        const details = { fingerprint: key.fingerprint, title: key.name, reason: 'dormant', unused_days: unusedDays, last_active_at: key.activeAt };
        if (key.owner.type === 'user') {
          await audit.record(trx, { job: 'scheduler' }, { action: 'ssh_key.disable', target: { type: 'ssh_key', id: key.id, label: key.name }, details });
        } else {
          await audit.record(trx, { job: 'scheduler' }, { action: 'deploy_key.disable', accountId: key.owner.accountId, target: { type: 'ssh_key', id: key.id, label: key.name }, details });
        }
        return true;
      },
    },
  };

  return {
    source,

    /** The owner turns their own disabled key back on; the unused period starts again from now. */
    async enableUserKey(ctx: RequestContext, id: number) {
      const user = requireUser(ctx.actor, 'SSH keys');
      requireScope(ctx.actor, 'write:public_key', 'Enabling an SSH key');
      await db.transaction().execute(async (trx) => {
        const key = await repo.findOwnedKey(trx, { kind: 'user', userId: user.userId }, id);
        if (!key) throw notFound(`SSH key ${id}`);
        if (await repo.enable(trx, id, clock.now().toISOString())) {
          await audit.record(trx, ctx, {
            action: 'ssh_key.enable',
            target: { type: 'ssh_key', id, label: key.title },
            details: { fingerprint: key.fingerprint_sha256, was_disabled_at: key.disabled_at },
          });
        }
      });
      return keys.getUserKey(ctx, id);
    },

    /** Whoever may add and delete the project's deploy keys may enable one again. */
    async enableDeployKey(ctx: RequestContext, ref: ProjectRef, id: number) {
      const { project, access } = await projects.find(ctx, ref, 'project_key.write');
      await db.transaction().execute(async (trx) => {
        const key = await repo.findOwnedKey(trx, { kind: 'deploy', projectId: project.id }, id);
        if (!key) throw notFound(`Deploy key ${id}`);
        if (await repo.enable(trx, id, clock.now().toISOString())) {
          await audit.record(trx, ctx, {
            action: 'deploy_key.enable',
            accountId: access.accountId,
            target: { type: 'ssh_key', id, label: `${project.vcs}/${access.accountName}/${project.name}` },
            details: { fingerprint: key.fingerprint_sha256, title: key.title, was_disabled_at: key.disabled_at },
          });
        }
      });
      return keys.getDeployKey(ctx, ref, id);
    },
  };
}

export type SshKeyLifecycle = ReturnType<typeof createSshKeyLifecycle>;
