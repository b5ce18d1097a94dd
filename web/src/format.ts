// How the console writes the API's values for people: roles, hosts and times (always UTC, as the API
// gives them: 2026-11-22 14:05 UTC).
import { roleDescriptions, type Role } from '../../src/modules/access/roles.ts';

/** A role as the API, the CLI and the docs name it (read_write, runner …), so a person meets one word. */
export const roleName = (role: string): string => role;

/** The role's one-line description, from the server's own table; undefined for a name it does not know. */
export const roleDescription = (role: string): string | undefined => (Object.hasOwn(roleDescriptions, role) ? roleDescriptions[role as Role] : undefined);

export const vcsName = (vcs: string): string => (vcs === 'bb' ? 'Bitbucket' : 'GitHub');

export function formatUtc(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
