// How the console writes the API's values for people: roles, hosts and times (always UTC, as the API
// gives them: 2026-11-22 14:05 UTC).
const roleNames: Record<string, string> = { owner: 'owner', admin: 'admin', read_write: 'read-write', read_only: 'read-only', runner: 'runner', ssh_server: 'ssh_server' };
export const roleName = (role: string): string => roleNames[role] ?? role;

export const vcsName = (vcs: string): string => (vcs === 'bb' ? 'Bitbucket' : 'GitHub');

export function formatUtc(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
