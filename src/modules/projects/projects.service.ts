// Projects belong to an account and are named by a slug <vcs>/<account>/<name>.
import type { Db } from '../../db/schema.ts';
import { isUniqueViolation } from '../../db/dialect.ts';
import { AppError, notFound } from '../../errors.ts';
import type { RequestContext } from '../access/actor.ts';
import type { AccessService, AccountSelector } from '../access/access.service.ts';
import type { Permission } from '../access/roles.ts';
import type { AuditService } from '../audit/audit.service.ts';
import * as repo from './projects.repo.ts';

export type Vcs = repo.Vcs;

/** A project as a request names it: the vcs as written (gh, github, bb, bitbucket), the account and the name. */
export interface ProjectRef {
  vcs: string;
  account: string;
  name: string;
}
export const PROJECT_NAME_PATTERN = '^[A-Za-z0-9._-]{1,100}$';
const projectName = new RegExp(PROJECT_NAME_PATTERN);

// A Map, not an object literal: `__proto__` or `constructor` from a path must not find anything.
const vcsAliases: ReadonlyMap<string, Vcs> = new Map([
  ['gh', 'gh'],
  ['github', 'gh'],
  ['bb', 'bb'],
  ['bitbucket', 'bb'],
]);

/** Accepts gh, github, bb, bitbucket (any case); anything else is a 404 in a path, a 400 in a body. */
export function parseVcs(value: string): Vcs | undefined {
  return vcsAliases.get(value.toLowerCase());
}

export function createProjectService({ db, access, audit, clock }: { db: Db; access: AccessService; audit: AuditService; clock: { now(): Date } }) {
  return {
    /** Finds a project by its slug parts and checks the caller may do `permission` on it. */
    async find(ctx: RequestContext, ref: ProjectRef, permission: Permission = 'project.read') {
      const slug = `${ref.vcs}/${ref.account}/${ref.name}`;
      const vcs = parseVcs(ref.vcs);
      if (!vcs) throw notFound(`Project ${slug}`);
      const acc = await access.resolve(ctx.actor, { from: 'path', name: ref.account });
      const project = await repo.findProject(db, acc.accountId, vcs, ref.name);
      if (!project) throw notFound(`Project ${slug}`);
      access.authorize(ctx.actor, acc, permission);
      return { project, access: acc };
    },

    /** A project of an account the caller has already been checked for (another module's reference). */
    async findInAccount(accountId: number, vcs: Vcs, name: string) {
      return repo.findProject(db, accountId, vcs, name);
    },

    async list(ctx: RequestContext, selector: AccountSelector, limit: number, offset: number) {
      const acc = await access.resolve(ctx.actor, selector);
      access.authorize(ctx.actor, acc, 'project.read');
      const [rows, total] = await Promise.all([repo.listProjects(db, acc.accountId, limit, offset), repo.countProjects(db, acc.accountId)]);
      return { rows, total, access: acc };
    },

    async create(ctx: RequestContext, selector: AccountSelector, input: { vcs_type: string; name: string }) {
      const acc = await access.resolve(ctx.actor, selector);
      access.authorize(ctx.actor, acc, 'project.write');
      const vcs = parseVcs(input.vcs_type);
      if (!vcs) {
        throw new AppError('validation_failed', `The vcs_type "${input.vcs_type.slice(0, 20)}" is not known: use gh (GitHub) or bb (Bitbucket).`, undefined, { field: 'vcs_type' });
      }
      if (!projectName.test(input.name)) {
        throw new AppError('validation_failed', 'The project name must be 1 to 100 letters, digits, dots, hyphens or underscores.', undefined, { field: 'name' });
      }
      try {
        return await db.transaction().execute(async (trx) => {
          const project = await repo.insertProject(trx, {
            account_id: acc.accountId,
            vcs,
            name: input.name,
            name_lower: input.name.toLowerCase(),
            created_at: clock.now().toISOString(),
          });
          await audit.record(trx, ctx, { action: 'project.create', accountId: acc.accountId, target: { type: 'project', id: project.id, label: `${vcs}/${acc.accountName}/${project.name}` } });
          return { project, access: acc };
        });
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new AppError('name_taken', `Project ${vcs}/${acc.accountName}/${input.name} already exists.`, 'Choose another name, or use the existing project.', { field: 'name' });
        }
        throw err;
      }
    },

    async remove(ctx: RequestContext, ref: ProjectRef) {
      const { project, access: acc } = await this.find(ctx, ref, 'project.write');
      await db.transaction().execute(async (trx) => {
        await repo.deleteProject(trx, project.id);
        await audit.record(trx, ctx, { action: 'project.delete', accountId: acc.accountId, target: { type: 'project', id: project.id, label: `${project.vcs}/${acc.accountName}/${project.name}` } });
      });
    },
  };
}

export type ProjectService = ReturnType<typeof createProjectService>;
