// `keysmith users …`: the operator at the shell administers users on the configured database, through
// the same service calls (and so the same rules: the last site admin, the last owner) as the
// /v1/admin/users API, audited with the CLI as the actor.
import { parseArgs } from 'node:util';
import type { Config } from '../config.ts';
import { toUserView, type UserRow } from '../modules/users/users.service.ts';
import { readStdin, UsageError, withServices } from './shared.ts';

const cli = { cli: true as const };

// Every option of every users command; each command says which it takes (all take --json).
const OPTIONS = {
  json: { type: 'boolean' },
  prefix: { type: 'string' },
  name: { type: 'string' },
  email: { type: 'string' },
  'site-admin': { type: 'boolean' },
  'password-stdin': { type: 'boolean' },
  revoke: { type: 'boolean' },
} as const;
type View = ReturnType<typeof toUserView>;

export const USERS_USAGE = `  users list [--prefix <p>] [--json]
                             Every user (or those whose login starts with <p>), by login
  users create <login> [--name <n>] [--email <e>] [--site-admin] [--password-stdin] [--json]
                             A new user; without --password-stdin, prints a set-password link
                             (valid 24 hours, once) built from KEYSMITH_PUBLIC_URL
  users disable <login> [--json]
                             Every credential of the user stops working (nothing is deleted)
  users enable <login> [--json]
                             Their credentials work again
  users delete <login> [--json]
                             The user and everything they own (refused for the last site admin,
                             and for the only owner of an account)
  users set-password <login> --password-stdin [--json]
                             Sets the password read from standard input; ends the user's sessions
  users make-admin <login> [--revoke] [--json]
                             Makes the user a site admin (--revoke: no longer one)`;

function describe(u: View): string {
  const flags = [u.site_admin ? 'site admin' : null, u.disabled ? 'disabled' : null, u.has_password ? null : 'no password'].filter(Boolean);
  const who = [u.name, u.email ? `<${u.email}>` : null].filter(Boolean).join(' ');
  return `${u.login}${who ? ` (${who})` : ''}${flags.length ? ` [${flags.join(', ')}]` : ''}`;
}

const write = (json: boolean | undefined, value: unknown, text: string) => process.stdout.write(json ? JSON.stringify(value) + '\n' : text + '\n');

/** One login, and nothing else, as the only positional argument. */
function loginOf(command: string, positionals: string[]): string {
  if (positionals.length !== 1 || !positionals[0]) throw new UsageError(`users ${command} needs one login: keysmith users ${command} <login>.`);
  return positionals[0];
}

export async function usersCommand(args: string[], config: Config): Promise<number> {
  const [command, ...rest] = args;
  const parse = (...allowed: (keyof typeof OPTIONS)[]) => {
    const parsed = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true });
    for (const name of Object.keys(parsed.values)) {
      if (name !== 'json' && !allowed.includes(name as keyof typeof OPTIONS)) throw new UsageError(`users ${command} does not take --${name}.`);
    }
    return parsed;
  };
  switch (command) {
    case 'list': {
      const { values, positionals } = parse('prefix');
      if (positionals.length) throw new UsageError('users list takes no login; use --prefix <p> to narrow it.');
      const users = await withServices(config, async (services) => {
        const all: UserRow[] = [];
        for (let offset = 0; ; offset += 100) {
          const { rows, total } = await services.users.list(cli, values.prefix || undefined, 100, offset);
          all.push(...rows);
          if (offset + 100 >= total || rows.length === 0) break;
        }
        return all.map(toUserView);
      });
      write(values.json, users, users.length ? users.map(describe).join('\n') : 'No users.');
      return 0;
    }
    case 'create': {
      const { values, positionals } = parse('name', 'email', 'site-admin', 'password-stdin');
      const login = loginOf('create', positionals);
      const password = values['password-stdin'] ? await readStdin() : undefined;
      const result = await withServices(config, async (services) => {
        const user = await services.users.createBySiteAdmin(cli, {
          login,
          name: values.name ?? null,
          email: values.email ?? null,
          password: password ?? null,
          isSiteAdmin: Boolean(values['site-admin']),
        });
        const link = password === undefined ? await services.passwords.issueResetLink(cli, user.login) : undefined;
        return { user: toUserView(user), link };
      });
      const json = { user: result.user, ...(result.link ? { set_password_url: result.link.url, expires_at: result.link.expiresAt } : {}) };
      const text = [`Created user ${describe(result.user)}.`];
      if (result.link) text.push(`They set their console password at (valid until ${result.link.expiresAt}, once):`, `  ${result.link.url}`);
      write(values.json, json, text.join('\n'));
      return 0;
    }
    case 'disable':
    case 'enable': {
      const { values, positionals } = parse();
      const login = loginOf(command, positionals);
      const user = toUserView(await withServices(config, (services) => services.users.update(cli, login, { disabled: command === 'disable' })));
      write(values.json, user, command === 'disable' ? `Disabled ${user.login}: none of their credentials work until they are enabled again.` : `Enabled ${user.login}: their credentials work again.`);
      return 0;
    }
    case 'delete': {
      const { values, positionals } = parse();
      const login = loginOf('delete', positionals);
      await withServices(config, (services) => services.users.remove(cli, login));
      write(values.json, { deleted: login }, `Deleted ${login} and everything they owned.`);
      return 0;
    }
    case 'set-password': {
      const { values, positionals } = parse('password-stdin');
      const login = loginOf('set-password', positionals);
      if (!values['password-stdin']) throw new UsageError('users set-password reads the password from standard input: keysmith users set-password <login> --password-stdin.');
      const password = await readStdin();
      const done = await withServices(config, (services) => services.passwords.setPasswordByOperator(cli, login, password));
      write(
        values.json,
        { login: done.login, sessions_ended: done.sessionsEnded },
        `Set the password of ${done.login}; ${done.sessionsEnded === 1 ? '1 session' : `${done.sessionsEnded} sessions`} ended.`,
      );
      return 0;
    }
    case 'make-admin': {
      const { values, positionals } = parse('revoke');
      const login = loginOf('make-admin', positionals);
      const user = toUserView(await withServices(config, (services) => services.users.update(cli, login, { siteAdmin: !values.revoke })));
      write(values.json, user, user.site_admin ? `${user.login} is a site admin.` : `${user.login} is no longer a site admin.`);
      return 0;
    }
    default:
      throw new UsageError(
        command
          ? `Unknown users command "${command}"; they are list, create, disable, enable, delete, set-password, make-admin.`
          : 'users needs a command: list, create, disable, enable, delete, set-password or make-admin.',
      );
  }
}
