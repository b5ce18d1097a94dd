// The one way tests get a Keysmith: a real app on a real database, fresh for each test.
// SQLite in memory always; PostgreSQL (KEYSMITH_TEST_POSTGRES_URL) in a schema of its own per test.
// Under CI=true an unreachable PostgreSQL fails the run; elsewhere it is skipped with a loud notice.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import { Writable } from 'node:stream';
import { describe, type TestContext } from 'node:test';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { buildApp } from '../src/app.ts';
import { loadConfig, type Config } from '../src/config.ts';
import { connectDatabase } from '../src/db/connect.ts';
import type { DialectKind } from '../src/db/dialect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { loadKeyRing } from '../src/crypto/master-key.ts';
import { createLogger } from '../src/logger.ts';
import { createServices, type Clock, type Services } from '../src/services.ts';

export const POSTGRES_URL = process.env.KEYSMITH_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const IN_CI = process.env.CI === 'true';

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 20_000 }); // a refused port fails at once; a loaded machine may be slow to answer
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch (err) {
    if (IN_CI) throw new Error(`PostgreSQL at ${POSTGRES_URL} is unreachable and CI=true, so the run fails: ${(err as Error).message}`);
    process.stderr.write(`\n*** PostgreSQL at ${POSTGRES_URL} is unreachable: PostgreSQL tests are SKIPPED (${(err as Error).message}) ***\n\n`);
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export const databases: DialectKind[] = (await postgresReachable()) ? ['sqlite', 'postgres'] : ['sqlite'];

/** Runs the same suite once per database. */
export function forEachDatabase(name: string, suite: (kind: DialectKind) => void): void {
  for (const kind of databases) describe(`${name} [${kind}]`, () => suite(kind));
}

/** A clock tests can move. */
export function testClock(start = new Date('2026-11-22T12:00:00.000Z')) {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
  };
}

export interface TestApp {
  kind: DialectKind;
  app: FastifyInstance;
  services: Services;
  config: Config;
  /** Everything the app logged, one JSON line per entry. */
  logs: string[];
  request(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** With `listen: true`, the base URL real clients use (equal to the public URL). */
  url: string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  clock?: Clock;
  env?: Record<string, string>;
  /** Listen on 127.0.0.1 with the public URL set to the real address (for real HTTP clients). */
  listen?: boolean;
  /** SQLite only: a database file instead of memory (to inspect the bytes on disk). */
  sqliteFile?: string;
  /** Where the built console is served from (web/dist by default). */
  consoleDir?: string;
  /** Leave the database unmigrated (an empty schema on PostgreSQL), to see what a node does before migrating. */
  unmigrated?: boolean;
}

/**
 * A TCP port on 127.0.0.1 that nothing listens on right now, for a server a test starts as another
 * process. It is picked below the kernel's range for outgoing connections' local ports: a port the
 * kernel hands out (listen on 0) can be taken by the next outgoing connection (a PostgreSQL client,
 * say) before the server binds it.
 */
export async function freePort(): Promise<number> {
  const lowestEphemeral = Number(readFileIfExists('/proc/sys/net/ipv4/ip_local_port_range')?.trim().split(/\s+/)[0] ?? 32_768);
  const [from, to] = lowestEphemeral > 11_000 ? [10_000, lowestEphemeral - 1] : [0, 0];
  for (let attempt = 0; attempt < 100; attempt++) {
    const candidate = from === 0 ? 0 : from + Math.floor(Math.random() * (to - from + 1));
    const server = net.createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(candidate, '127.0.0.1', () => resolve(true));
    });
    if (!bound) continue;
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }
  throw new Error('no free TCP port on 127.0.0.1 after 100 tries');
}

function readFileIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

const TEST_MASTER_KEY = randomBytes(32).toString('base64');

// Kysely's migrator looks over every schema's tables in the database, and PostgreSQL fails that look
// with "schema … does not exist" if another test drops its schema at the same moment. Migrations
// share this advisory lock; a drop takes it alone. (Only tests make and drop schemas like this.)
const SCHEMA_LOCK = 72_519_001;

async function withSchemaLock<T>(mode: 'shared' | 'exclusive', work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query(mode === 'shared' ? 'select pg_advisory_lock_shared($1)' : 'select pg_advisory_lock($1)', [SCHEMA_LOCK]);
    return await work(admin);
  } finally {
    await admin.end();
  }
}

export async function createTestApp(kind: DialectKind, options: TestAppOptions = {}): Promise<TestApp> {
  let schema: string | undefined;
  let url = options.sqliteFile ? `sqlite:${options.sqliteFile}` : 'sqlite::memory:';
  if (kind === 'postgres') {
    schema = `t_${randomBytes(6).toString('hex')}`;
    url = POSTGRES_URL;
  }
  const handle = connectDatabase(url, schema ? { searchPath: schema } : {});
  if (schema) {
    const name = schema;
    await withSchemaLock('shared', async (admin) => {
      await admin.query(`create schema ${name}`);
      if (!options.unmigrated) await migrateToLatest(handle.db);
    });
  } else if (!options.unmigrated) {
    await migrateToLatest(handle.db);
  }
  const port = options.listen ? await freePort() : 0;
  const config = loadConfig({
    KEYSMITH_DATABASE_URL: url,
    KEYSMITH_PUBLIC_URL: options.listen ? `http://127.0.0.1:${port}` : 'http://keysmith.test',
    KEYSMITH_MASTER_KEY: TEST_MASTER_KEY,
    KEYSMITH_LOG_LEVEL: 'info',
    ...options.env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger(config.logLevel, sink);
  const { ring } = loadKeyRing(config);
  const services = createServices({ db: handle.db, ring, config, logger, ...(options.clock ? { clock: options.clock } : {}) });
  const app = await buildApp({ config, services, logger, consoleDir: options.consoleDir });
  await app.ready();
  if (options.listen) await app.listen({ host: '127.0.0.1', port });
  return {
    kind,
    app,
    services,
    config,
    logs,
    request: (opts) => app.inject(opts),
    url: config.publicUrl,
    async close() {
      try {
        await app.close();
      } finally {
        await handle.close().catch(() => {});
        if (schema) {
          const name = schema;
          await withSchemaLock('exclusive', (admin) => admin.query(`drop schema ${name} cascade`));
        }
      }
    },
  };
}

/**
 * Migrates a test app made with `unmigrated: true`. On PostgreSQL it holds the schema lock shared, as
 * createTestApp does: Kysely's Migrator reads the catalogue of every schema, and another test dropping
 * its schema at that moment would make the read fail.
 */
export async function migrateTestApp(t: TestApp): Promise<void> {
  if (t.kind === 'postgres') await withSchemaLock('shared', () => migrateToLatest(t.services.db));
  else await migrateToLatest(t.services.db);
}

/**
 * Another set of services and app on the same database and settings, as a restarted or second node
 * would have (its own memory: caches, buffers, job runner). Closing it leaves the database open.
 */
export async function anotherNode(t: TestApp, clock?: Clock): Promise<Pick<TestApp, 'app' | 'services' | 'close'>> {
  const logger = createLogger('warn', new Writable({ write: (_chunk, _encoding, done) => done() }));
  const { ring } = loadKeyRing(t.config);
  const services = createServices({ db: t.services.db, ring, config: t.config, logger, ...(clock ? { clock } : {}) });
  const app = await buildApp({ config: t.config, services, logger });
  await app.ready();
  return { app, services, close: () => app.close() };
}

/** A fresh app for one test, closed when the test ends. */
export async function appFor(t: TestContext, kind: DialectKind, options?: TestAppOptions): Promise<TestApp> {
  const app = await createTestApp(kind, options);
  t.after(() => app.close());
  return app;
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
