// The SQLite file on disk: readable by its owner only, and shared with a second process (the CLI
// beside a running server) without either side failing with "database is locked".
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { connectDatabase } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { seed } from './factories.ts';
import { bearer, createTestApp } from './harness.ts';

const mode = (file: string) => fs.statSync(file).mode & 0o777;

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-sqlite-'));
}

/** Runs `work` with a permissive umask, as a default system would have, so the modes are ours. */
async function withUmask<T>(umask: number, work: () => Promise<T>): Promise<T> {
  const before = process.umask(umask);
  try {
    return await work();
  } finally {
    process.umask(before);
  }
}

test('a new database file and its WAL files are 0600 and the data directory Keysmith creates is 0700', async (t) => {
  const root = tempDir();
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const file = path.join(root, 'data', 'keysmith.db');
  const handle = await withUmask(0o022, async () => {
    const h = connectDatabase(`sqlite:${file}`);
    await migrateToLatest(h.db);
    return h;
  });
  try {
    assert.equal(mode(path.dirname(file)).toString(8), '700');
    for (const name of [file, `${file}-wal`, `${file}-shm`]) assert.equal(mode(name).toString(8), '600', name);
  } finally {
    await handle.close();
  }
});

test("an older version's data directory and files are tightened; a directory holding other files is left alone", async (t) => {
  const root = tempDir();
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const data = path.join(root, 'data');
  fs.mkdirSync(data, { mode: 0o755 });
  fs.chmodSync(data, 0o755);
  const file = path.join(data, 'keysmith.db');
  fs.writeFileSync(path.join(data, 'master.key'), 'x', { mode: 0o600 });
  fs.writeFileSync(file, '');
  fs.chmodSync(file, 0o644);
  const handle = await withUmask(0o022, async () => connectDatabase(`sqlite:${file}`));
  await migrateToLatest(handle.db);
  await handle.close();
  assert.equal(mode(data).toString(8), '700');
  assert.equal(mode(file).toString(8), '600');

  const shared = path.join(root, 'shared');
  fs.mkdirSync(shared);
  fs.chmodSync(shared, 0o755);
  fs.writeFileSync(path.join(shared, 'notes.txt'), 'not ours');
  const other = await withUmask(0o022, async () => connectDatabase(`sqlite:${path.join(shared, 'keysmith.db')}`));
  await other.close();
  assert.equal(mode(shared).toString(8), '755', "a directory with the operator's own files keeps its mode");
  assert.equal(mode(path.join(shared, 'keysmith.db')).toString(8), '600');
});

// A second process writing the same file in read-then-write transactions, as the CLI does.
const WRITER = `
const { connectDatabase } = await import(process.env.CONNECT_MODULE);
const handle = connectDatabase(process.env.DATABASE_URL);
let failures = 0;
for (let i = 0; i < Number(process.env.ROUNDS); i++) {
  try {
    await handle.db.transaction().execute(async (trx) => {
      const { n } = await trx.selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
      await trx.insertInto('audit_events').values({ occurred_at: new Date().toISOString(), actor_type: 'system', actor_label: 'second process ' + n, action: 'test.write' }).execute();
    });
  } catch (err) {
    failures++;
    process.stderr.write(String(err.message) + '\\n');
  }
}
await handle.close();
process.stdout.write(JSON.stringify({ failures }));
process.exit(failures ? 1 : 0);
`;

test('a second process writing the same SQLite file beside a running server: every write transaction on both sides succeeds', async (t) => {
  const root = tempDir();
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const file = path.join(root, 'data', 'keysmith.db');
  const app = await createTestApp('sqlite', { sqliteFile: file });
  t.after(() => app.close());
  const alice = await seed(app);

  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', WRITER], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH!, CONNECT_MODULE: pathToFileURL(path.resolve('src/db/connect.ts')).href, DATABASE_URL: `sqlite:${file}`, ROUNDS: '400' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let exited = false;
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => ((exited = true), resolve(code))));

  // The server takes writes (each a read-then-write transaction) for as long as the other process runs.
  const statuses = new Map<number, number>();
  let i = 0;
  while (!exited || i < 50) {
    const res = await app.request({ method: 'POST', url: '/v1/projects', headers: bearer(alice.key), payload: { vcs_type: 'gh', name: `p${i++}` } });
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    if (res.statusCode !== 201) stderr += `server: ${res.statusCode} ${res.body}\n`;
  }
  const code = await done;
  assert.equal(code, 0, `the second process had failed transactions: ${stdout} ${stderr}`);
  assert.deepEqual([...statuses], [[201, i]], stderr);
  const written = await app.services.db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('action', '=', 'test.write')
    .executeTakeFirstOrThrow();
  assert.equal(Number(written.n), 400);
});
