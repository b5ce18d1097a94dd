// The grants a user can give (README: grants). Each is a standing consent for Keysmith to act on the
// user's own account in one elevated way; given and revoked on its own, in the user's settings.
export const grantCatalogue = {
  'write:public_key': {
    title: 'Projects may put SSH keys on my account',
    allows: 'Keysmith may add an SSH key to your own account when you create a user checkout key for a project, so that CI can check out every repository you can reach.',
  },
} as const;

export type GrantScope = keyof typeof grantCatalogue;
export const grantScopes = Object.keys(grantCatalogue) as GrantScope[];
// Object.hasOwn, not `in`: `toString` or `__proto__` is "in" every object literal.
export const isGrantScope = (value: string): value is GrantScope => Object.hasOwn(grantCatalogue, value);

/**
 * Where a person gives the grant: the console's Settings → Permissions, with this grant selected and,
 * when a project's request needs it, that project named (the page says which project asked).
 */
// Scope names are letters, ':' and '_' only, and a project's slug (<vcs>/<account>/<name>) letters,
// digits, '.', '-', '_' and '/', all of which may stand in a query string as they are.
export const grantUrl = (publicUrl: string, scope: GrantScope, project?: string): string =>
  `${publicUrl}/settings/permissions?grant=${scope}${project === undefined ? '' : `&project=${encodeURIComponent(project).replaceAll('%2F', '/')}`}`;
