import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, SqliteDriver, sql, type DatabaseConnection, type Driver, type SqliteDialectConfig } from 'kysely';
import pg from 'pg';
import { postgresTypes, SqliteCompatPlugin, type DialectKind } from './dialect.ts';
import type { Database, Executor } from './schema.ts';

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly kind: DialectKind;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** PostgreSQL only: run every query inside this schema (tests use one schema per test). */
  searchPath?: string;
}

/** Throws unless the database answers a trivial query: the health check. */
export async function ping(db: Executor): Promise<void> {
  await sql`select 1`.execute(db);
}

export function connectDatabase(url: string, options: ConnectOptions = {}): DatabaseHandle {
  if (url.startsWith('sqlite:')) return connectSqlite(url.slice('sqlite:'.length));
  return connectPostgres(url, options);
}

/**
 * Kysely begins SQLite transactions with a plain (deferred) BEGIN: the write lock is then taken at the
 * first write, and when another process (the CLI beside a running server) holds it, that upgrade fails
 * at once with "database is locked" instead of waiting out the busy timeout. BEGIN IMMEDIATE takes
 * the write lock up front, where the busy timeout applies.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

const SQLITE_SIDE_FILES = ['-wal', '-shm', '-journal'];

/**
 * The database file and its -wal/-shm files are readable by this user only (SQLite gives the side
 * files the database file's mode), and a data directory Keysmith creates is 0700. An existing
 * directory is tightened only when it holds nothing but Keysmith's own files (as the data directory
 * of an older version does); a shared directory of the operator's choosing is left alone.
 */
function prepareSqliteFile(file: string): void {
  const dir = path.dirname(path.resolve(file));
  if (fs.existsSync(dir)) {
    const base = path.basename(file);
    const ours = new Set([base, ...SQLITE_SIDE_FILES.map((s) => base + s), 'master.key']);
    const stat = fs.statSync(dir);
    const mine = typeof process.getuid !== 'function' || stat.uid === process.getuid();
    if (mine && (stat.mode & 0o077) !== 0 && fs.readdirSync(dir).every((name) => ours.has(name))) fs.chmodSync(dir, 0o700);
  } else {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  tightenSqliteFiles(file);
}

function tightenSqliteFiles(file: string): void {
  for (const name of [file, ...SQLITE_SIDE_FILES.map((s) => file + s)]) {
    try {
      if ((fs.statSync(name).mode & 0o077) !== 0) fs.chmodSync(name, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

function connectSqlite(file: string): DatabaseHandle {
  const onDisk = file !== ':memory:' && file !== '';
  if (onDisk) prepareSqliteFile(file);
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('synchronous = NORMAL');
  if (onDisk) tightenSqliteFiles(file);
  const db = new Kysely<Database>({
    dialect: new ImmediateSqliteDialect({ database: sqlite }),
    plugins: [new SqliteCompatPlugin()],
  });
  return { db, kind: 'sqlite', close: () => db.destroy() };
}

function connectPostgres(url: string, { searchPath }: ConnectOptions): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    types: postgresTypes,
    ...(searchPath ? { options: `-c search_path=${searchPath}` } : {}),
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, kind: 'postgres', close: () => db.destroy() };
}
