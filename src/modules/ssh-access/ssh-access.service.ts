// An SSH server's questions (README: Use Keysmith from sshd), asked with an `ssh_server` service key
// and answered for that key's account only:
// - which authorized_keys line, if any, a presented key gets (login mode: a member's own key under
//   their login; git mode: any member's key or deploy key, behind a forced command naming `key-<id>`);
// - whether `key-<id>` may read or write a project (audited, every decision);
// - and, publicly, a user's keys as https://github.com/<login>.keys gives them.
// `key-<id>` is the id of the ssh_keys row: user keys and deploy keys share that table and its id
// sequence, so one id names one key of either kind (checkout keys are their public halves' rows).
import type { Db } from '../../db/schema.ts';
import { AppError } from '../../errors.ts';
import type { RequestContext } from '../access/actor.ts';
import type { AccessService, AccountAccess, AccountSelector } from '../access/access.service.ts';
import { gitAccessRoles, type Role } from '../access/roles.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { SshLookupMode, SshLookupOutcome } from '../../metrics/metrics.ts';
import type { ProjectService } from '../projects/projects.service.ts';
import { parseVcs } from '../projects/projects.service.ts';
import { OWNER_NAME_PATTERN } from '../users/owner-names.ts';
import type { SshCaService } from '../ssh-ca/ssh-ca.service.ts';
import { sshKeyViolation, type Violation } from '../policies/policy-rules.ts';
import * as repo from './ssh-access.repo.ts';

export type LookupMode = 'login' | 'git';

export interface LookupQuery {
  user: string;
  fingerprint: string;
  mode: LookupMode;
  command?: string | undefined;
}

export interface AccessQuestion {
  /** `key-<id>` (an authorized-keys line) or `cert-<serial>` (an authorized-principals line) */
  key: string;
  /** `<vcs>/<account>/<name>` */
  project: string;
  access: 'read' | 'write';
}

type Holder = { kind: 'user'; login: string; role: Role } | { kind: 'deploy'; what: 'deploy key' | 'runner certificate'; projectId: number; vcs: 'gh' | 'bb'; name: string; readOnly: boolean };

export type SshIdentity = { type: 'user'; login: string } | { type: 'deploy_key'; project: string; readOnly: boolean };

export interface AccessDecision {
  allowed: boolean;
  message: string;
  identity: SshIdentity | null;
}

/** What ssh-access asks of the ssh-keys module, which owns the keys' `last_used_at`. */
export interface KeyUseNotes {
  noteUse(id: number, stored: string | null): void;
}

interface Deps {
  db: Db;
  access: Pick<AccessService, 'authorizeServiceKey'>;
  projects: Pick<ProjectService, 'findInAccount'>;
  keyUses: KeyUseNotes;
  /** The ssh-ca module answers for `cert-<serial>`. */
  certificates: Pick<SshCaService, 'certificateHolder'>;
  audit: AuditService;
  clock: { now(): Date };
  /** Counts each answered lookup (metrics); no login, key or account reaches it. */
  lookups?: (mode: SshLookupMode, outcome: SshLookupOutcome) => void;
}

const ownerName = new RegExp(OWNER_NAME_PATTERN);
const MAX_KEY_ID = 2_147_483_647;

/** Whether a key answers for the account at all: a live member's own key, or a deploy key of one of its projects. */
function liveIn(key: repo.KeyWithOwner, accountId: number): boolean {
  if (key.kind === 'user') return key.member_role !== null && key.disabled_at === null && key.login !== null;
  return key.project_account_id === accountId;
}

export function createSshAccessService({ db, access, projects, keyUses, certificates, audit, clock, lookups = () => {} }: Deps) {
  /** The policy rule a key found for the account breaks now, if any (the account's and the instance's policy). */
  const brokenRule = (key: repo.KeyWithOwner): Violation | undefined => sshKeyViolation(key.policy, key.facts, clock.now(), 'lookup');

  const ownAccount = (ctx: RequestContext, selector: AccountSelector): AccountAccess => access.authorizeServiceKey(ctx.actor, selector, 'ssh.lookup');

  function parseProject(text: string) {
    const [vcsText = '', account = '', name = ''] = text.split('/');
    const vcs = parseVcs(vcsText);
    if (!vcs) {
      throw new AppError(
        'validation_failed',
        `The project "${text.slice(0, 160)}" starts with "${vcsText.slice(0, 16)}", which is not a vcs Keysmith knows: use gh (GitHub) or bb (Bitbucket).`,
        undefined,
        {
          field: 'project',
        },
      );
    }
    if (!ownerName.test(account)) {
      throw new AppError(
        'validation_failed',
        `The project "${text.slice(0, 160)}" names the account "${account}", which cannot exist: an account name is 1 to 39 letters, digits or single hyphens.`,
        undefined,
        {
          field: 'project',
        },
      );
    }
    return { vcs, account, name, slug: `${vcs}/${account}/${name}` };
  }

  function parseKeyRef(text: string): { kind: 'key' | 'cert'; id: number } {
    const kind = text.startsWith('cert-') ? 'cert' : 'key';
    const id = Number(text.slice(kind.length + 1));
    if (!Number.isSafeInteger(id) || id < 1 || (kind === 'key' && id > MAX_KEY_ID)) {
      throw new AppError(
        'validation_failed',
        `The key "${text.slice(0, 24)}" is not one Keysmith gave out: use key-<id> or cert-<serial> as the forced command of the authorized-keys or authorized-principals line names it.`,
        undefined,
        { field: 'key' },
      );
    }
    return { kind, id };
  }

  /** Who a `key-<id>` or `cert-<serial>` stands for in the account now; undefined when it lets nobody in. */
  async function holderOf(acc: AccountAccess, ref: { kind: 'key' | 'cert'; id: number }): Promise<Holder | { refused: Violation } | undefined> {
    if (ref.kind === 'cert') {
      const cert = await certificates.certificateHolder(acc.accountId, ref.id);
      if (!cert) return undefined;
      if (cert.kind === 'user') return { kind: 'user', login: cert.login, role: cert.role };
      // A runner certificate is a read-only deploy key of its one project, for as long as it is valid.
      return { kind: 'deploy', what: 'runner certificate', projectId: cert.projectId, vcs: cert.vcs, name: cert.name, readOnly: true };
    }
    const key = await repo.findKeyById(db, acc.accountId, ref.id, clock.now().toISOString());
    if (!key || !liveIn(key, acc.accountId)) return undefined;
    const broken = brokenRule(key);
    if (broken) return { refused: broken };
    if (key.kind === 'user') return { kind: 'user', login: key.login!, role: key.member_role as Role };
    return { kind: 'deploy', what: 'deploy key', projectId: key.project_id!, vcs: key.project_vcs!, name: key.project_name!, readOnly: key.read_only };
  }

  async function decide(
    acc: AccountAccess,
    ref: { kind: 'key' | 'cert'; id: number },
    wanted: ReturnType<typeof parseProject>,
    kind: 'read' | 'write',
  ): Promise<AccessDecision & { projectId: number | null; rule?: string }> {
    const absent = `There is no repository ${wanted.slug} that this key can reach: check the repository path in the clone URL (<account>/<name>, as in git@<host>:${acc.accountName}/<name>.git), or ask an admin of ${acc.accountName} to create the project.`;
    const holder = await holderOf(acc, ref);
    if (!holder) {
      return {
        allowed: false,
        identity: null,
        projectId: null,
        message:
          ref.kind === 'cert'
            ? `Keysmith does not accept this SSH certificate for ${acc.accountName} (any more): it was revoked or has expired, or its user was removed from the account or disabled. Ask Keysmith for a new certificate, or ask an admin of ${acc.accountName}.`
            : `Keysmith does not know this SSH key for ${acc.accountName} (any more): it was deleted or has expired, or its owner was removed from the account or disabled. Add your public key in Keysmith again, or ask an admin of ${acc.accountName}.`,
      };
    }
    if ('refused' in holder) {
      return {
        allowed: false,
        identity: null,
        projectId: null,
        rule: holder.refused.rule,
        message: `${acc.accountName}'s credential policy refuses this SSH key: ${holder.refused.message} Add a key that fits the policy, or ask an admin of ${acc.accountName}.`,
      };
    }
    if (holder.kind === 'deploy') {
      const own = `${holder.vcs}/${acc.accountName}/${holder.name}`;
      const identity = { type: 'deploy_key' as const, project: own, readOnly: holder.readOnly };
      const same = wanted.vcs === holder.vcs && wanted.account.toLowerCase() === acc.accountName.toLowerCase() && wanted.name.toLowerCase() === holder.name.toLowerCase();
      // Said without looking the wanted project up: a deploy key learns nothing of other repositories.
      if (!same) {
        return {
          allowed: false,
          identity,
          projectId: null,
          message: `This is a ${holder.what} of ${own}, so it reaches that repository only, not ${wanted.slug}; use the key of ${wanted.slug}, or your own SSH key.`,
        };
      }
      if (kind === 'write' && holder.readOnly) {
        return {
          allowed: false,
          identity,
          projectId: holder.projectId,
          message:
            holder.what === 'runner certificate'
              ? `This runner certificate of ${own} can clone and fetch but never push; push with your own SSH key or certificate.`
              : `This deploy key of ${own} is read-only, so it can clone and fetch but not push; to push, add a deploy key with write access (read_only: false), or push with your own SSH key.`,
        };
      }
      return { allowed: true, identity, projectId: holder.projectId, message: `The ${holder.what} of ${own} may ${kind === 'write' ? 'push to' : 'read'} it.` };
    }
    const login = holder.login;
    const identity = { type: 'user' as const, login };
    // A project of another account gets the sentence of one that does not exist.
    const project = wanted.account.toLowerCase() === acc.accountName.toLowerCase() ? await projects.findInAccount(acc.accountId, wanted.vcs, wanted.name) : undefined;
    if (!project) return { allowed: false, identity, projectId: null, message: absent };
    const slug = `${project.vcs}/${acc.accountName}/${project.name}`;
    const role = holder.role;
    if (!(gitAccessRoles[kind] as readonly Role[]).includes(role)) {
      return {
        allowed: false,
        identity,
        projectId: project.id,
        message: `${login} has the ${role} role in ${acc.accountName}, so they can clone ${slug} but not push to it; ask an owner or admin of ${acc.accountName} for the read_write role.`,
      };
    }
    return { allowed: true, identity, projectId: project.id, message: `${login} may ${kind === 'write' ? 'push to' : 'read'} ${slug}.` };
  }

  return {
    /** Zero or one authorized_keys line, ending in a newline; '' when the key answers for nobody here. */
    async authorizedKeys(ctx: RequestContext, selector: AccountSelector, query: LookupQuery): Promise<string> {
      const acc = ownAccount(ctx, selector);
      if (query.mode === 'git' && query.command === undefined) {
        throw new AppError(
          'validation_failed',
          'In git mode the query parameter "command" is required: the absolute path of the forced command (keysmith-git-serve) that each line runs.',
          'Add &command=/path/to/keysmith-git-serve, as keysmith ssh-setup writes it.',
          { field: 'command' },
        );
      }
      if (query.mode === 'login' && query.command !== undefined) {
        throw new AppError('validation_failed', 'The query parameter "command" is only for mode=git; a login-mode line runs no forced command.', 'Drop command, or add &mode=git.', {
          field: 'command',
        });
      }
      const key = await repo.findKeyByFingerprint(db, acc.accountId, query.fingerprint, clock.now().toISOString());
      const none = () => {
        lookups(query.mode, 'none');
        return '';
      };
      // An expired key is not found; a key that breaks the policy is found and refused.
      if (!key || !liveIn(key, acc.accountId) || brokenRule(key)) return none();
      if (query.mode === 'login') {
        // Login mode: a member's own key, under their own login; deploy keys never open a shell.
        if (key.kind !== 'user' || key.login!.toLowerCase() !== query.user.toLowerCase()) return none();
        keyUses.noteUse(key.id, key.last_used_at);
        lookups('login', 'key');
        return `${key.public_key}\n`;
      }
      keyUses.noteUse(key.id, key.last_used_at);
      lookups('git', 'key');
      return `restrict,command="${query.command} key-${key.id}" ${key.public_key}\n`;
    },

    /** Whether `key-<id>` may read or write a project of the server's account; every decision is audited. */
    async authorize(ctx: RequestContext, selector: AccountSelector, question: AccessQuestion): Promise<AccessDecision> {
      const acc = ownAccount(ctx, selector);
      const ref = parseKeyRef(question.key);
      const wanted = parseProject(question.project);
      const { projectId, rule, ...decision } = await decide(acc, ref, wanted, question.access);
      await db.transaction().execute((trx) =>
        audit.record(trx, ctx, {
          action: 'ssh.access',
          accountId: acc.accountId,
          target: { type: 'project', id: projectId ?? wanted.slug, label: wanted.slug },
          details: {
            key: question.key,
            identity: decision.identity === null ? null : decision.identity.type === 'user' ? `user ${decision.identity.login}` : `deploy key of ${decision.identity.project}`,
            project: wanted.slug,
            access: question.access,
            allowed: decision.allowed,
            ...(rule ? { policy_rule: rule } : {}),
          },
        }),
      );
      lookups('authorize', decision.allowed ? 'allowed' : 'denied');
      return decision;
    },

    /** A user's own keys, one line each, for anyone (as GitHub's <login>.keys); a disabled user has none that work. */
    async publicKeysOf(login: string): Promise<string> {
      const rows = ownerName.test(login) ? await repo.findPublicKeysOf(db, login.toLowerCase()) : [];
      if (rows.length === 0) {
        throw new AppError('not_found', `There is no user ${login.slice(0, 39)} on this server.`, 'Check the login in the URL: /<login>.keys, such as /alice.keys.');
      }
      if (rows[0]!.disabled_at !== null) return '';
      return rows.flatMap((r) => (r.public_key === null ? [] : [`${r.public_key}\n`])).join('');
    },
  };
}

export type SshAccessService = ReturnType<typeof createSshAccessService>;
