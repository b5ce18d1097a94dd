// What every keysmith command shares: the usage-error type (exit 2), standard input, and services on
// the configured database.
import path from 'node:path';
import type { Config } from '../config.ts';
import { connectDatabase } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { loadKeyRing } from '../crypto/master-key.ts';
import { createLogger } from '../logger.ts';
import { createServices, type Services } from '../services.ts';

/** A command line that cannot be run as given: exit 2 with the usage text. */
export class UsageError extends Error {}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export async function withServices<T>(config: Config, run: (services: Services) => Promise<T>): Promise<T> {
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

/** The database a command worked on, fit to print: a SQLite file's absolute path, a PostgreSQL URL without its password. */
export function describeDatabase(databaseUrl: string): string {
  if (databaseUrl.startsWith('sqlite:')) {
    const file = databaseUrl.slice('sqlite:'.length);
    return file === ':memory:' ? databaseUrl : `sqlite:${path.resolve(file)}`;
  }
  try {
    const url = new URL(databaseUrl);
    url.password = '';
    return url.toString();
  } catch {
    return 'a PostgreSQL database (its URL could not be read back)';
  }
}
