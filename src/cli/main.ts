// The keysmith command. Exit codes: 0 success, 1 refused or failed (one line on stderr), 2 usage error.
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../config.ts';
import { connectDatabase } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import path from 'node:path';
import { masterKeyFrom } from '../crypto/envelope.ts';
import { loadKeyRing, loadMasterKey } from '../crypto/master-key.ts';
import { rotateMasterKey } from '../modules/master-key/rotate.service.ts';
import { createLogger } from '../logger.ts';
import { createServices, type Services } from '../services.ts';
import { initialise } from './init.ts';

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

Configuration comes from the environment: KEYSMITH_DATABASE_URL, KEYSMITH_HOST, KEYSMITH_PORT,
KEYSMITH_PUBLIC_URL, KEYSMITH_MASTER_KEY or KEYSMITH_MASTER_KEY_FILE (see README.md).`;

class UsageError extends Error {}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function withServices<T>(config: Config, run: (services: Services) => Promise<T>): Promise<T> {
  const handle = connectDatabase(config.databaseUrl);
  try {
    await migrateToLatest(handle.db);
    const { ring } = loadKeyRing(config);
    const services = createServices({ db: handle.db, ring, config, logger: createLogger('warn', process.stderr as never) });
    const result = await run(services);
    await services.flush();
    return result;
  } finally {
    await handle.close();
  }
}

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
    process.stdout.write(JSON.stringify({ user: { login: user.login }, account: { name: account.name }, api_key: key.key }) + '\n');
    return;
  }
  process.stdout.write(
    [
      `Created user ${user.login} (site admin), account ${account.name} (owner: ${user.login}), and a user API key:`,
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
  const total = report.rewrapped.checkout_keys + report.rewrapped.host_keys + report.rewrapped.heroku_keys;
  process.stdout.write(
    [
      `Re-wrapped ${total} secrets under master key ${report.masterKeyId} (checkout keys ${report.rewrapped.checkout_keys}, host keys ${report.rewrapped.host_keys}, Heroku keys ${report.rewrapped.heroku_keys}; ${report.alreadyCurrent} already were).`,
      `Next: run every server with KEYSMITH_MASTER_KEY_FILE=${path.resolve(file)}, then drop the previous key.`,
      '',
    ].join('\n'),
  );
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (!command || command === 'help' || command === '--help' || command === '-h') {
      process.stdout.write(USAGE + '\n');
      return command ? 0 : 2;
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
      default:
        throw new UsageError(`Unknown command "${command}".`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`keysmith: ${(err as Error).message}\n\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`keysmith: ${(err as Error).message.split('\n')[0]}\n`);
    return 1;
  }
}
