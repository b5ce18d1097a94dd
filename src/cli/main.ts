// The keysmith command. Exit codes: 0 success, 1 refused or failed (one line on stderr), 2 usage error.
import { parseArgs } from 'node:util';
import { loadClientToken, loadConfig, type Config } from '../config.ts';
import { connectDatabase } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import fs from 'node:fs';
import path from 'node:path';
import { masterKeyFrom } from '../crypto/envelope.ts';
import { loadKeyRing, loadMasterKey } from '../crypto/master-key.ts';
import { rotateMasterKey, sealedTableNames, type SealedTable } from '../modules/master-key/rotate.service.ts';
import type { KeyImportReport } from '../modules/ssh-keys/ssh-keys.service.ts';
import { isAppError } from '../errors.ts';
import { initialise } from './init.ts';
import { describeDatabase, readStdin, UsageError, withServices } from './shared.ts';
import { USERS_USAGE, usersCommand } from './users.ts';
import { sshSetup, type SshSetupMode } from './ssh-setup.ts';
import { CertificateRefused, describeCertificate, parseTtl, requestSshCertificate } from './ssh-certificate.ts';

const USAGE = `Usage: keysmith <command> [options]

Commands:
  serve                      Serve the API and console (what npm start runs)
  init --login <login> --account <name> [--email <e>] [--password-stdin] [--json]
                             On an empty database: the first user (site admin), their account,
                             and one user API key, printed once
  migrate                    Apply pending database migrations
  rotate-master-key --new-key-file <file>
                             Re-wrap every stored secret's data key under the master key in <file>
                             (32 random bytes, base64); see README for the zero-downtime steps
  import ssh-keys --user <login> [--json] <file | ->
                             Add to <login>'s SSH keys every key of an authorized_keys file (or the text
                             of https://github.com/<login>.keys; - reads standard input), reporting each
                             line refused and each duplicate
${USERS_USAGE}
  ssh-setup --mode login|git --url <url> --token-file <file> --dir <dir> --command-user <user>
            [--git-user <user>] [--git-root <dir>]
            [--certificates --account <account> [--certificates-only] [--krl]]
                             Write sshd's helpers (they ask Keysmith who may log in) into <dir> and
                             print the sshd_config lines that use them: ssh-setup … >> /etc/ssh/sshd_config.
                             --certificates also trusts <account>'s SSH CA (its public file as
                             TrustedUserCAKeys, keysmith-authorized-principals for the online check);
                             --certificates-only leaves out the key lookup; --krl adds RevokedKeys
  ssh-certificate --url <url> --key <file.pub> [--account <name>] [--ttl 4h|<seconds>]
                             Get a short-lived certificate for one of your SSH keys (token from
                             KEYSMITH_TOKEN) and write it beside the key as <key>-cert.pub

Configuration comes from the environment: KEYSMITH_DATABASE_URL, KEYSMITH_HOST, KEYSMITH_PORT,
KEYSMITH_PUBLIC_URL, KEYSMITH_MASTER_KEY or KEYSMITH_MASTER_KEY_FILE (see README.md).`;

async function init(args: string[], config: Config): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      login: { type: 'string' },
      account: { type: 'string' },
      email: { type: 'string' },
      'password-stdin': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    strict: true,
  });
  if (!values.login || !values.account) throw new UsageError('init needs --login <login> and --account <name>.');
  const password = values['password-stdin'] ? await readStdin() : undefined;
  const { user, account, key } = await withServices(config, (services) => initialise(services, { login: values.login!, account: values.account!, email: values.email, password }));
  if (values.json) {
    process.stdout.write(JSON.stringify({ user: { login: user.login }, account: { name: account.name }, api_key: key.key, database: describeDatabase(config.databaseUrl) }) + '\n');
    return;
  }
  process.stdout.write(
    [
      `Created user ${user.login} (site admin), account ${account.name} (owner: ${user.login}), and a user API key`,
      `in ${describeDatabase(config.databaseUrl)}:`,
      '',
      `  ${key.key}`,
      '',
      'This is the only time the key is shown. Use it as:',
      `  curl -H "Authorization: Bearer ${key.key}" ${config.publicUrl}/v1/user`,
      '',
    ].join('\n'),
  );
}

async function rotate(args: string[], config: Config): Promise<void> {
  const { values } = parseArgs({ args, options: { 'new-key-file': { type: 'string' } }, strict: true });
  const file = values['new-key-file'];
  if (!file) throw new UsageError('rotate-master-key needs --new-key-file <file>.');
  const next = masterKeyFrom(loadMasterKey({ kind: 'file', path: path.resolve(file) }).key);
  const report = await withServices(config, async (services) => rotateMasterKey(services, loadKeyRing(config).ring, next));
  const counts = Object.entries(report.rewrapped) as Array<[SealedTable, number]>;
  const total = counts.reduce((sum, [, n]) => sum + n, 0);
  process.stdout.write(
    [
      `Re-wrapped ${total} secrets under master key ${report.masterKeyId} (${counts.map(([t, n]) => `${sealedTableNames[t]} ${n}`).join(', ')}; ${report.alreadyCurrent} already were).`,
      `Next: run every server with KEYSMITH_MASTER_KEY_FILE=${path.resolve(file)}, then drop the previous key.`,
      '',
    ].join('\n'),
  );
}

function describeImport(report: KeyImportReport): string {
  const lines: string[] = [];
  const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  lines.push(`Imported ${plural(report.imported.length, 'key')} for ${report.user}${report.imported.length ? ':' : '.'}`);
  for (const k of report.imported) lines.push(`  line ${k.line}: key ${k.id}, ${k.type} ${k.fingerprint} (${k.title})`);
  if (report.skipped.blank || report.skipped.comments) lines.push(`Skipped ${plural(report.skipped.blank, 'blank line')} and ${plural(report.skipped.comments, 'comment')}.`);
  if (report.duplicates.length) {
    lines.push(`${plural(report.duplicates.length, 'duplicate')}:`);
    for (const d of report.duplicates) lines.push(`  line ${d.line}: ${d.fingerprint}: ${d.message}`);
  }
  if (report.refused.length) {
    lines.push(`Refused ${plural(report.refused.length, 'line')}:`);
    for (const r of report.refused) lines.push(`  ${r.last_line > r.line ? `lines ${r.line}-${r.last_line}` : `line ${r.line}`}: ${r.message}`);
  }
  return lines.join('\n') + '\n';
}

const READ_ERRORS = new Map([
  ['ENOENT', 'there is no such file'],
  ['EACCES', 'permission denied'],
  ['EISDIR', 'it is a directory, not a file'],
]);

/** `keysmith import ssh-keys`: exit 0 when every line was imported or skipped, 1 when any was not. */
async function importKeys(args: string[], config: Config): Promise<number> {
  const [what, ...rest] = args;
  if (what !== 'ssh-keys') throw new UsageError(what ? `Unknown import "${what}"; the only one is import ssh-keys.` : 'import needs what to import: import ssh-keys --user <login> <file>.');
  const { values, positionals } = parseArgs({ args: rest, options: { user: { type: 'string' }, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (!values.user || positionals.length !== 1) throw new UsageError('import ssh-keys needs --user <login> and one file (- for standard input).');
  const file = positionals[0]!;
  let text: string;
  try {
    text = file === '-' ? await readStdin() : fs.readFileSync(path.resolve(file), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new Error(`Cannot read ${file}: ${READ_ERRORS.get(code) ?? (err as Error).message}.`);
  }
  const report = await withServices(config, (services) => services.sshKeys.importAuthorizedKeys({ cli: true }, values.user!, text));
  process.stdout.write(values.json ? JSON.stringify(report) + '\n' : describeImport(report));
  const elsewhere = report.duplicates.filter((d) => d.of === 'elsewhere').length;
  const notImported = report.refused.length + elsewhere;
  if (notImported === 0) return 0;
  process.stderr.write(
    `keysmith: ${notImported === 1 ? '1 line was' : `${notImported} lines were`} not imported (${report.refused.length} refused, ${elsewhere} in use elsewhere); the report on standard output says why; every other key was imported.\n`,
  );
  return 1;
}

/** `keysmith ssh-setup`: needs no database or configuration, only the options. */
async function setUpSsh(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      mode: { type: 'string' },
      url: { type: 'string' },
      'token-file': { type: 'string' },
      dir: { type: 'string' },
      'command-user': { type: 'string' },
      'git-user': { type: 'string' },
      'git-root': { type: 'string' },
      certificates: { type: 'boolean' },
      'certificates-only': { type: 'boolean' },
      account: { type: 'string' },
      krl: { type: 'boolean' },
    },
    strict: true,
  });
  const mode = values.mode;
  if (mode !== 'login' && mode !== 'git') throw new UsageError('ssh-setup needs --mode login (a bastion or build host) or --mode git (a git server).');
  const missing = (['url', 'token-file', 'dir', 'command-user'] as const).filter((name) => !values[name]);
  if (missing.length) throw new UsageError(`ssh-setup needs ${missing.map((name) => `--${name}`).join(', ')}.`);
  if (mode === 'login' && (values['git-user'] || values['git-root'])) throw new UsageError('--git-user and --git-root belong to --mode git.');
  const certificates = values.certificates || values['certificates-only'];
  if (certificates && !values.account) throw new UsageError('--certificates needs --account <account>, the account whose SSH CA sshd should trust.');
  if (!certificates && (values.account || values.krl)) throw new UsageError('--account and --krl belong to --certificates.');
  const lines = await sshSetup({
    mode: mode satisfies SshSetupMode,
    url: values.url!,
    tokenFile: values['token-file']!,
    dir: values.dir!,
    commandUser: values['command-user']!,
    gitUser: values['git-user'],
    gitRoot: values['git-root'],
    certificates: certificates ? { account: values.account!, only: values['certificates-only'] ?? false, krl: values.krl ?? false } : undefined,
  });
  process.stdout.write(lines);
}

/** `keysmith ssh-certificate`: talks to a Keysmith over HTTP; needs no database, only KEYSMITH_TOKEN. */
async function sshCertificate(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { url: { type: 'string' }, key: { type: 'string' }, account: { type: 'string' }, ttl: { type: 'string' } },
    strict: true,
  });
  const missing = (['url', 'key'] as const).filter((name) => !values[name]);
  if (missing.length) throw new UsageError(`ssh-certificate needs ${missing.map((name) => `--${name}`).join(' and ')}.`);
  const ttlSeconds = values.ttl === undefined ? undefined : parseTtl(values.ttl);
  if (values.ttl !== undefined && ttlSeconds === undefined) throw new UsageError(`--ttl takes a duration such as 4h, 90m or 3600 (seconds), not "${values.ttl.slice(0, 40)}".`);
  const token = loadClientToken();
  if (!token) throw new CertificateRefused('KEYSMITH_TOKEN is not set: export KEYSMITH_TOKEN=<one of your user API keys (ksu_…)> and run this again.');
  const written = await requestSshCertificate({ url: values.url!, keyFile: values.key!, account: values.account, ttlSeconds, token });
  process.stdout.write(describeCertificate(written) + '\n');
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (!command || command === 'help' || command === '--help' || command === '-h') {
      process.stdout.write(USAGE + '\n');
      return command ? 0 : 2;
    }
    if (command === 'ssh-setup') {
      await setUpSsh(rest);
      return 0;
    }
    if (command === 'ssh-certificate') {
      await sshCertificate(rest);
      return 0;
    }
    const config = loadConfig();
    switch (command) {
      case 'serve': {
        const { serve } = await import('../main.ts');
        await serve(config);
        return 0;
      }
      case 'migrate': {
        const handle = connectDatabase(config.databaseUrl);
        try {
          const applied = await migrateToLatest(handle.db);
          process.stdout.write(applied.length ? `Applied ${applied.join(', ')}\n` : 'The database is up to date.\n');
        } finally {
          await handle.close();
        }
        return 0;
      }
      case 'init':
        await init(rest, config);
        return 0;
      case 'rotate-master-key':
        await rotate(rest, config);
        return 0;
      case 'import':
        return await importKeys(rest, config);
      case 'users':
        return await usersCommand(rest, config);
      default:
        throw new UsageError(`Unknown command "${command}".`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`keysmith: ${(err as Error).message}\n\n${USAGE}\n`);
      return 2;
    }
    // A refusal of the domain's says what to do next too, still on one line.
    const remedy = isAppError(err) && err.remedy ? ` ${err.remedy}` : '';
    process.stderr.write(`keysmith: ${(err as Error).message.split('\n')[0]}${remedy}\n`);
    return 1;
  }
}
