// The README's role and permission table as data: each permission lists the roles that hold it, and the
// scope a restricted API key needs for it. One table, one check (access.service.ts), every route.

export const memberRoles = ['owner', 'admin', 'read_write', 'read_only'] as const;
export type MemberRole = (typeof memberRoles)[number];

export const serviceRoles = ['admin', 'read_write', 'read_only', 'runner', 'ssh_server'] as const;
export type ServiceRole = (typeof serviceRoles)[number];

/** A role in an account: a member's, or a service key's own. */
export type Role = MemberRole | ServiceRole;

/** What each role may do, in one line: the console shows these beside the API's own role names. */
export const roleDescriptions: Readonly<Record<Role, string>> = {
  owner: 'Everything an admin can, and makes or removes owners, creates runner keys and deletes the account.',
  admin: 'Everything read_write can, and manages members and service keys and reads the audit log.',
  read_write: 'Creates and deletes projects and changes their checkout, deploy and per-host keys.',
  read_only: 'Reads projects, their public keys and the members.',
  runner: "For CI: fetches projects' checkout and per-host private keys (checkout-credentials), and reads projects.",
  ssh_server: 'For sshd on a bastion, build host or git server: asks which SSH keys of the account may log in or reach a repository; reads no private key.',
};

export const scopeNames = ['read:public_key', 'write:public_key', 'admin:public_key', 'read:project', 'write:project', 'admin:account'] as const;
export type Scope = (typeof scopeNames)[number];
export const isScope = (value: string): value is Scope => (scopeNames as readonly string[]).includes(value);

/** GitHub's rule: admin:x includes write:x, which includes read:x. */
export function scopeSatisfies(held: readonly Scope[], needed: Scope): boolean {
  const [level, resource] = needed.split(':') as ['read' | 'write' | 'admin', string];
  const enough = level === 'read' ? ['read', 'write', 'admin'] : level === 'write' ? ['write', 'admin'] : ['admin'];
  return enough.some((l) => held.includes(`${l}:${resource}` as Scope));
}

const everyone: readonly Role[] = ['read_only', 'read_write', 'admin', 'owner', 'runner'];
const humans: readonly Role[] = ['read_only', 'read_write', 'admin', 'owner'];
const writers: readonly Role[] = ['read_write', 'admin', 'owner'];
const admins: readonly Role[] = ['admin', 'owner'];

export const permissions = {
  'project.read': { roles: everyone, scope: 'read:project' },
  'project.write': { roles: writers, scope: 'write:project' },
  'project_key.write': { roles: writers, scope: 'write:project' },
  'credentials.fetch': { roles: ['runner'], scope: 'read:project' },
  'member.read': { roles: humans, scope: 'read:project' },
  'member.manage': { roles: admins, scope: 'admin:account' },
  'owner.manage': { roles: ['owner'], scope: 'admin:account' },
  'account.delete': { roles: ['owner'], scope: 'admin:account' },
  'service_key.manage': { roles: admins, scope: 'admin:account' },
  // A runner key reads projects' private keys, so only an owner may mint or revoke one.
  'runner_key.manage': { roles: ['owner'], scope: 'admin:account' },
  'audit.read': { roles: admins, scope: 'admin:account' },
  // The account's credential policy: every member reads it (it says what they may add), admins change it.
  'policy.read': { roles: humans, scope: 'read:project' },
  'policy.manage': { roles: admins, scope: 'admin:account' },
  // An SSH server asks who a presented key belongs to and whether it may reach a project; no person does.
  'ssh.lookup': { roles: ['ssh_server'], scope: 'read:public_key' },
  // The account's SSH CA: its public keys are for every member and every service key of the account.
  'ssh_ca.read': { roles: [...everyone, 'ssh_server'], scope: 'read:public_key' },
  'ssh_ca.manage': { roles: admins, scope: 'admin:account' },
  // Every certificate the account's CA issued, and revoking anyone's.
  'ssh_certificate.manage': { roles: admins, scope: 'admin:account' },
  // Where the account's events are sent, and each webhook's signing secret.
  'webhook.manage': { roles: admins, scope: 'admin:account' },
  // A CI job's certificate for a key it made itself: runner keys only.
  'checkout_certificate.issue': { roles: ['runner'], scope: 'read:project' },
} as const satisfies Record<string, { roles: readonly Role[]; scope: Scope }>;
export type Permission = keyof typeof permissions;

/** Git over SSH with a member's own key: every member clones the account's repositories; writers push. */
export const gitAccessRoles = { read: humans, write: writers } as const satisfies Record<'read' | 'write', readonly Role[]>;

/** Plain words for error messages: "needs the admin or owner role". */
export function describeRoles(roles: readonly Role[]): string {
  const unique = [...new Set(roles)];
  return unique.length === 1 ? `the ${unique[0]} role` : `the ${unique.slice(0, -1).join(', ')} or ${unique.at(-1)} role`;
}
