// The keysmith command as a user runs it: real processes, real databases.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { BIN, freshDatabase, keysmith } from './cli-helpers.ts';
import { databases, freePort } from './harness.ts';

for (const kind of databases) {
  test(`init on an empty ${kind} database prints one JSON object, and refuses a second time without changing anything`, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-cli-'));
    const db = await freshDatabase(kind, dir);
    t.after(() => db.drop());
    const env = { KEYSMITH_DATABASE_URL: db.url, KEYSMITH_MASTER_KEY: randomBytes(32).toString('base64') };
    const first = keysmith(['init', '--login', 'alice', '--account', 'acme', '--email', 'alice@example.com', '--password-stdin', '--json'], env, dir, 'a very long password\n');
    assert.equal(first.code, 0, first.stderr);
    const out = JSON.parse(first.stdout) as { user: { login: string }; account: { name: string }; api_key: string; database: string };
    assert.deepEqual(Object.keys(out), ['user', 'account', 'api_key', 'database']);
    assert.ok(!out.database.includes('@') || !/:[^/@]+@/.test(out.database), 'no password in the database it names');
    assert.deepEqual(out.user, { login: 'alice' });
    assert.deepEqual(out.account, { name: 'acme' });
    assert.match(out.api_key, /^ksu_[0-9A-Za-z]{36}$/);
    assert.equal(first.stdout.trim().split('\n').length, 1, 'exactly one line of JSON');

    const second = keysmith(['init', '--login', 'bob', '--account', 'bobco', '--json'], env, dir);
    assert.equal(second.code, 1);
    assert.equal(second.stdout, '');
    assert.equal(second.stderr.trim().split('\n').length, 1, 'one-line reason');
    assert.match(second.stderr, /already has users/);

    const migrate = keysmith(['migrate'], env, dir);
    assert.equal(migrate.code, 0);
    assert.match(migrate.stdout, /up to date/);
  });
}

test('usage errors exit 2; an invalid login exits 1 and leaves the database empty', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-cli-'));
  const env = { KEYSMITH_DATABASE_URL: `sqlite:${path.join(dir, 'k.db')}`, KEYSMITH_MASTER_KEY: randomBytes(32).toString('base64') };
  assert.equal(keysmith([], env, dir).code, 2);
  assert.equal(keysmith(['frobnicate'], env, dir).code, 2);
  assert.equal(keysmith(['init', '--login', 'alice'], env, dir).code, 2);
  assert.equal(keysmith(['init', '--login', 'alice', '--account', 'acme', '--bogus'], env, dir).code, 2);
  const bad = keysmith(['init', '--login=-alice-', '--account', 'acme', '--json'], env, dir);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /login "-alice-" is not valid/);
  const same = keysmith(['init', '--login', 'acme', '--account', 'ACME', '--json'], env, dir);
  assert.equal(same.code, 1, 'an account may not share a name with a login');
  assert.match(same.stderr, /already taken/);
  const ok = keysmith(['init', '--login', 'alice', '--account', 'acme', '--json'], env, dir);
  assert.equal(ok.code, 0, 'the refused attempts left nothing behind: ' + ok.stderr);
  assert.equal(keysmith(['help'], env, dir).code, 0);
});

test('serve with the embedded defaults creates data/master.key (0600) with a warning, says how to init, and answers /healthz', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-serve-'));
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'serve'], { cwd: dir, env: { PATH: process.env.PATH!, KEYSMITH_PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGTERM'));
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 30_000;
  let health: Response | undefined;
  while (Date.now() < deadline) {
    health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
    if (health) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(health, `server did not start: ${output}`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: 'ok' });
  const keyFile = path.join(dir, 'data', 'master.key');
  assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
  assert.equal(Buffer.from(fs.readFileSync(keyFile, 'utf8').trim(), 'base64').length, 32);
  assert.ok(fs.existsSync(path.join(dir, 'data', 'keysmith.db')), 'the default SQLite database');
  assert.match(output, /created a new master key file/);
  assert.match(output, /npx keysmith init --login <login> --account <account> --password-stdin/);
  assert.ok(!output.includes(fs.readFileSync(keyFile, 'utf8').trim()), 'the master key is never logged');
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  assert.equal(await exited, 0, 'graceful shutdown');
});
