// Which account a request acts in, with which role, and whether that role (and the key's scopes)
// allow what it asks. Every route that touches an account goes through here.
import { AppError, notFound } from '../../errors.ts';
import { actorScopes, type Actor, type ServiceActor, type UserActor } from './actor.ts';
import { describeRoles, memberRoles, permissions, scopeSatisfies, type Permission, type Role, type Scope } from './roles.ts';

export interface AccountAccess {
  accountId: number;
  accountName: string;
  role: Role;
}

/** What access needs from the accounts module (which owns memberships); handed in by services.ts. */
export interface MembershipLookup {
  /** The account named `name` with the user's role in it, or undefined when they are not a member. */
  findAccountWithRole(name: string, userId: number): Promise<{ id: number; name: string; role: Role } | undefined>;
  listAccountsOfUser(userId: number): Promise<Array<{ id: number; name: string; role: Role }>>;
}

/** Where the account name came from: the path decides; the header selects; or neither was given. */
export type AccountSelector = { from: 'path'; name: string } | { from: 'header'; name: string } | { from: 'none' };

const doing: Record<Permission, string> = {
  'project.read': 'Reading projects',
  'project.write': 'Creating or deleting projects',
  'project_key.write': "Changing a project's keys",
  'credentials.fetch': 'Fetching checkout credentials',
  'member.read': 'Listing members',
  'member.manage': 'Adding, removing or changing members',
  'owner.manage': 'Making or removing owners',
  'account.delete': 'Deleting an account',
  'service_key.manage': 'Managing service API keys',
  'runner_key.manage': 'Creating or deleting a runner service API key',
  'audit.read': "Reading the account's audit log",
  'policy.read': "Reading the account's credential policy",
  'policy.manage': "Changing the account's credential policy",
  'ssh.lookup': 'Asking who an SSH key belongs to',
  'ssh_ca.read': "Reading the account's SSH certificate authority",
  'ssh_ca.manage': "Rotating the account's SSH certificate authority",
  'ssh_certificate.manage': "Listing or revoking the account's SSH certificates",
  'checkout_certificate.issue': 'Asking for a runner SSH certificate',
  'webhook.manage': "Managing the account's webhooks",
};

/** Refusals that need their reason said, not just the roles that would do. */
const refusalReasons = new Map<Permission, string>([['runner_key.manage', "only an owner can, because a runner key reads projects' private keys (checkout and per-host SSH keys)"]]);

export function createAccessService({ memberships, publicUrl }: { memberships: MembershipLookup; publicUrl: string }) {
  /** A service key acts in its own account: a path naming another is a 404, a header naming another a 403. */
  function ownAccount(actor: ServiceActor, selector: AccountSelector): AccountAccess {
    const named = selector.from === 'none' ? undefined : selector.name;
    if (named !== undefined && named.toLowerCase() !== actor.accountName.toLowerCase()) {
      if (selector.from === 'path') throw notFound(`Account ${named}`);
      throw new AppError(
        'account_mismatch',
        `This service API key belongs to account ${actor.accountName}, but the X-Keysmith-Account header names ${named}.`,
        `Drop the X-Keysmith-Account header, or use a key of account ${named}.`,
      );
    }
    return { accountId: actor.accountId, accountName: actor.accountName, role: actor.role };
  }

  /** Throws unless the role holds the permission and a restricted key holds its scope. */
  function authorize(actor: Actor, access: AccountAccess, permission: Permission): void {
    const rule = permissions[permission];
    if (!(rule.roles as readonly Role[]).includes(access.role)) {
      const reason = refusalReasons.get(permission);
      if (reason !== undefined) {
        throw new AppError(
          'role_required',
          `${doing[permission]} in account ${access.accountName}: ${reason}; ${actor.type === 'service' ? 'this service API key has' : 'you have'} the ${access.role} role.`,
          `Ask an owner of ${access.accountName} to do it.`,
        );
      }
      throw new AppError(
        'role_required',
        `${doing[permission]} needs ${describeRoles(rule.roles)} in account ${access.accountName}; ${actor.type === 'service' ? 'this service API key has' : 'you have'} the ${access.role} role.`,
        actor.type === 'service'
          ? `Use a service API key with ${describeRoles(rule.roles)}, created by an admin of ${access.accountName}.`
          : !(rule.roles as readonly Role[]).some((r) => (memberRoles as readonly Role[]).includes(r))
            ? `No person can hold ${describeRoles(rule.roles)}: use a service API key with it, which an owner of ${access.accountName} creates with POST /v1/service-api-keys {"name": "ci", "role": "${rule.roles[0]}"}.`
            : `Ask an owner or admin of ${access.accountName} to change your role.`,
      );
    }
    requireScope(actor, rule.scope, doing[permission]);
  }

  return {
    async resolve(actor: Actor, selector: AccountSelector): Promise<AccountAccess> {
      if (actor.type === 'service') return ownAccount(actor, selector);
      if (selector.from !== 'none') {
        const row = await memberships.findAccountWithRole(selector.name, actor.userId);
        if (!row) throw notFound(`Account ${selector.name}`);
        return { accountId: row.id, accountName: row.name, role: row.role };
      }
      const accounts = await memberships.listAccountsOfUser(actor.userId);
      if (accounts.length === 1) {
        const [only] = accounts as [(typeof accounts)[number]];
        return { accountId: only.id, accountName: only.name, role: only.role };
      }
      throw new AppError(
        'account_required',
        accounts.length === 0
          ? 'You are not a member of any account yet.'
          : `You belong to ${accounts.length} accounts (${accounts.map((a) => a.name).join(', ')}); say which one this request is for.`,
        accounts.length === 0 ? `Create one with POST ${publicUrl}/v1/accounts, or ask an account's admin to add you.` : 'Send the header X-Keysmith-Account: <account name>.',
      );
    },

    authorize,

    /**
     * For routes where a service key acts in its own account and no person may call (an SSH server's
     * questions): the key's account, checked like any other; a person's credential is refused with
     * the same code, saying which key would do.
     */
    authorizeServiceKey(actor: Actor, selector: AccountSelector, permission: Permission): AccountAccess {
      const rule = permissions[permission];
      if (actor.type !== 'service') {
        throw new AppError(
          'role_required',
          `${doing[permission]} needs a service API key with ${describeRoles(rule.roles)}; this is a person's credential, and no person can hold that role.`,
          `An owner or admin of the account creates such a key with POST ${publicUrl}/v1/service-api-keys {"name": "bastion", "role": "${rule.roles[0]}"} (or in the console, under Service API keys) and gives it to the server.`,
        );
      }
      const access = ownAccount(actor, selector);
      authorize(actor, access, permission);
      return access;
    },
  };
}

/**
 * Things that belong to a person (their keys, grants, settings) need a user's own credential.
 * `what` names the thing as the subject of a sentence: "SSH keys", "A Heroku key".
 */
export function requireUser(actor: Actor, what: string, why = 'belong to a person'): UserActor {
  if (actor.type !== 'user') {
    throw new AppError('user_key_required', `${what} ${why}, so this needs a user's own API key; this is a service API key.`, 'Use your own user API key, or the console.');
  }
  return actor;
}

/** Scoped keys exist to do less: actions outside every scope (minting keys, grants, accounts) refuse them. */
export function requireUnrestricted(actor: Actor, what: string): void {
  if (actorScopes(actor) !== null) {
    throw new AppError('unrestricted_key_required', `This API key is limited to a list of scopes, and such keys cannot be used for ${what}.`, 'Use a key without a scope list, or the console.');
  }
}

/** A restricted key must hold `scope` (or a scope that includes it). */
export function requireScope(actor: Actor, scope: Scope, what: string): void {
  const held = actorScopes(actor);
  if (held !== null && !scopeSatisfies(held, scope)) {
    throw new AppError(
      'scope_required',
      `${what} needs the ${scope} scope; this API key holds ${held.length ? held.join(', ') : 'no scopes'}.`,
      `Create an API key with the ${scope} scope (or no scope list, for the key's full role) and use it instead.`,
      { extra: { scope } },
    );
  }
}

export type AccessService = ReturnType<typeof createAccessService>;
