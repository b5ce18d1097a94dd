// Operating Keysmith as real processes: start-up refuses secrets sealed by a master key it does not
// hold, `npm start` stops with its server on SIGTERM/SIGINT, pretty logs, and the 0.0.0.0 warning.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { masterKeyFrom } from '../src/crypto/envelope.ts';
import { loadKeyRing } from '../src/crypto/master-key.ts';
import { unconfiguredMasterKeys } from '../src/modules/master-key/configured-keys.ts';
import { rotateMasterKey } from '../src/modules/master-key/rotate.service.ts';
import { addProject, seed } from './factories.ts';
import { appFor, bearer, databases, forEachDatabase, freePort, POSTGRES_URL } from './harness.ts';
import { sshKeygen } from './ssh-fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin/keysmith.mjs');

/** Whether something on this machine still listens on the port (127.0.0.1). */
async function portInUse(port: number): Promise<boolean> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`gave up waiting: ${what}`);
}

async function freshDatabase(t: TestContext, kind: string, dir: string): Promise<string> {
  if (kind === 'sqlite') return `sqlite:${path.join(dir, 'keysmith.db')}`;
  const name = `keysmith_safe_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  t.after(async () => {
    const c = new pg.Client({ connectionString: POSTGRES_URL });
    await c.connect();
    await c.query(`drop database if exists ${name} with (force)`);
    await c.end();
  });
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

interface Running {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  exited: Promise<number | null>;
}

/** Spawns a command with only the given environment (and PATH, HOME), collecting stdout and stderr. */
function launch(t: TestContext, command: string, args: string[], env: Record<string, string>, cwd: string): Running {
  const child = spawn(command, args, { cwd, env: { PATH: process.env.PATH!, HOME: cwd, npm_config_update_notifier: 'false', ...env } });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { child, output: () => output, exited };
}

const serve = (t: TestContext, env: Record<string, string>, cwd: string) => launch(t, process.execPath, [BIN, 'serve'], env, cwd);

/** Waits for /healthz; fails with the server's output if it exits first. */
async function healthy(server: Running, port: number): Promise<void> {
  let exited = false;
  void server.exited.then(() => (exited = true));
  await until(
    `/healthz on ${port}`,
    async () => {
      if (exited) assert.fail(`the server exited: ${server.output()}`);
      const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      return res?.status === 200;
    },
    60_000,
  );
}

async function stop(server: Running): Promise<number | null> {
  server.child.kill('SIGTERM');
  return server.exited;
}

forEachDatabase('master keys in use', (kind) => {
  test('each table of sealed values names the master keys that sealed it, read from the prefixes; the ones the ring lacks are reported', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme', 'web');
    const created = [
      await app.request({ method: 'POST', url: '/v1/projects/gh/acme/web/checkout-keys', headers: bearer(alice.key), payload: { type: 'deploy' } }),
      await app.request({
        method: 'POST',
        url: '/api/v1.1/project/gh/acme/web/ssh-key',
        headers: bearer(alice.key),
        payload: { hostname: 'h.example.com', private_key: sshKeygen('ed25519').privateKey },
      }),
      await app.request({ method: 'POST', url: '/api/v1.1/user/heroku-key', headers: bearer(alice.key), payload: { apikey: 'heroku-secret-0123456789abcdef' } }),
      // The account's SSH CA is made, and its private half sealed, on first use.
      await app.request({ method: 'GET', url: '/v1/accounts/acme/ssh-ca', headers: bearer(alice.key) }),
      await app.request({ method: 'POST', url: '/v1/accounts/acme/webhooks', headers: bearer(alice.key), payload: { url: 'http://127.0.0.1:9/hook', events: ['*'] } }),
    ];
    // A rotation asked with an Idempotency-Key keeps the new secret sealed for its replay window.
    const [own] = (await app.request({ method: 'GET', url: '/v1/user/api-keys', headers: bearer(alice.key) })).json() as Array<{ id: number }>;
    created.push(await app.request({ method: 'POST', url: `/v1/user/api-keys/${own!.id}/rotate`, headers: { ...bearer(alice.key), 'idempotency-key': 'safe-operation-1' }, payload: {} }));
    assert.deepEqual(
      created.map((r) => r.statusCode),
      [201, 201, 201, 200, 201, 201],
    );
    const ring = loadKeyRing(app.config).ring;
    const tables = app.services.sealedValues;
    for (const table of Object.values(tables)) assert.deepEqual(await table.masterKeyIds(), [ring.current.id]);

    const other = masterKeyFrom(randomBytes(32));
    assert.deepEqual(await unconfiguredMasterKeys(tables, ring), []);
    assert.deepEqual(await unconfiguredMasterKeys(tables, { current: other, previous: [] }), [ring.current.id]);
    assert.deepEqual(await unconfiguredMasterKeys(tables, { current: other, previous: [ring.current] }), []);

    await rotateMasterKey(app.services, ring, other);
    for (const table of Object.values(tables)) assert.deepEqual(await table.masterKeyIds(), [other.id]);
    assert.deepEqual(await unconfiguredMasterKeys(tables, ring), [other.id]);
  });
});

for (const kind of databases) {
  test(`on ${kind}, serve refuses to start when a stored secret was sealed with a master key it does not have, and starts with it`, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-safe-'));
    const url = await freshDatabase(t, kind, dir);
    const keyA = randomBytes(32).toString('base64');
    const keyB = randomBytes(32).toString('base64');
    const idA = masterKeyFrom(Buffer.from(keyA, 'base64')).id;
    const port = await freePort();
    const base = { KEYSMITH_DATABASE_URL: url, KEYSMITH_PORT: String(port) };

    const init = spawnSync(process.execPath, [BIN, 'init', '--login', 'alice', '--account', 'acme', '--json'], {
      cwd: dir,
      env: { PATH: process.env.PATH!, ...base, KEYSMITH_MASTER_KEY: keyA },
      encoding: 'utf8',
    });
    assert.equal(init.status, 0, init.stderr);
    const { api_key: key } = JSON.parse(init.stdout) as { api_key: string };

    // Seal a checkout key's private half with key A.
    const first = serve(t, { ...base, KEYSMITH_MASTER_KEY: keyA }, dir);
    await healthy(first, port);
    const headers = { authorization: `Bearer ${key}`, 'x-keysmith-account': 'acme', 'content-type': 'application/json' };
    const project = await fetch(`http://127.0.0.1:${port}/v1/projects`, { method: 'POST', headers, body: JSON.stringify({ vcs_type: 'gh', name: 'app' }) });
    assert.equal(project.status, 201, await project.text());
    const checkoutKey = await fetch(`http://127.0.0.1:${port}/v1/projects/gh/acme/app/checkout-keys`, { method: 'POST', headers, body: JSON.stringify({ type: 'deploy' }) });
    assert.equal(checkoutKey.status, 201, await checkoutKey.text());
    assert.equal(await stop(first), 0);

    const refused = serve(t, { ...base, KEYSMITH_MASTER_KEY: keyB }, dir);
    await until('serve with only key B to exit', () => refused.child.exitCode !== null, 60_000);
    assert.equal(await refused.exited, 1, refused.output());
    const lastLine = refused.output().trim().split('\n').at(-1)!;
    assert.match(
      lastLine,
      new RegExp(`^keysmith: The database holds secrets sealed with master key ${idA}, which is not configured .*: set KEYSMITH_MASTER_KEY or KEYSMITH_MASTER_KEY_FILE to the key that sealed them`),
    );
    assert.ok(!refused.output().includes('Server listening'), 'it never listened');
    assert.ok(!refused.output().includes(keyA) && !refused.output().includes(keyB), 'no master key is ever printed');

    // During a rotation, key A as the previous key is enough.
    const rotating = serve(t, { ...base, KEYSMITH_MASTER_KEY: keyB, KEYSMITH_PREVIOUS_MASTER_KEY: keyA }, dir);
    await healthy(rotating, port);
    assert.equal(await stop(rotating), 0);

    const again = serve(t, { ...base, KEYSMITH_MASTER_KEY: keyA }, dir);
    await healthy(again, port);
    assert.equal(await stop(again), 0);
  });
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} to \`npm start\` stops the server it started: the pid is gone and the port is free`, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-npm-'));
    const port = await freePort();
    const npm = launch(
      t,
      'npm',
      ['--prefix', ROOT, 'start'],
      { KEYSMITH_PORT: String(port), KEYSMITH_DATABASE_URL: `sqlite:${path.join(dir, 'keysmith.db')}`, KEYSMITH_MASTER_KEY: randomBytes(32).toString('base64') },
      dir,
    );
    await healthy(npm, port);
    const listening = npm
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { pid: number; msg: string })
      .find((line) => line.msg.startsWith('Server listening'));
    assert.ok(listening, npm.output());
    const serverPid = listening.pid;
    assert.notEqual(serverPid, npm.child.pid, 'npm runs the server in a process of its own');
    t.after(() => {
      if (alive(serverPid)) process.kill(serverPid, 'SIGKILL');
    });

    npm.child.kill(signal);
    await npm.exited;
    await until(`the server (pid ${serverPid}) to exit`, () => !alive(serverPid));
    assert.equal(await portInUse(port), false, 'nothing listens on the port any more');
    assert.match(npm.output(), new RegExp(`"signal":"${signal}".*"msg":"shutting down"`));
  });
}

test('a server npm started in a shell (as `npx keysmith serve` does) stops when npm signals only that shell', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-npx-'));
  const port = await freePort();
  const env = { npm_command: 'exec', KEYSMITH_PORT: String(port), KEYSMITH_DATABASE_URL: `sqlite:${path.join(dir, 'k.db')}`, KEYSMITH_MASTER_KEY: randomBytes(32).toString('base64') };
  const shell = launch(t, '/bin/sh', ['-c', `node ${BIN} serve`], env, dir);
  await healthy(shell, port);
  const serverPid = (
    JSON.parse(
      shell
        .output()
        .split('\n')
        .find((l) => l.includes('Server listening'))!,
    ) as { pid: number }
  ).pid;
  assert.notEqual(serverPid, shell.child.pid, 'the shell runs node as its child, as under npm');
  t.after(() => {
    if (alive(serverPid)) process.kill(serverPid, 'SIGKILL');
  });
  shell.child.kill('SIGTERM');
  await shell.exited;
  await until(`the server (pid ${serverPid}) to exit`, () => !alive(serverPid));
  assert.equal(await portInUse(port), false);
});

test('SIGINT to `node bin/keysmith.mjs serve` shuts it down with exit 0', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-sigint-'));
  const port = await freePort();
  const server = serve(t, { KEYSMITH_PORT: String(port), KEYSMITH_DATABASE_URL: `sqlite:${path.join(dir, 'k.db')}`, KEYSMITH_MASTER_KEY: randomBytes(32).toString('base64') }, dir);
  await healthy(server, port);
  server.child.kill('SIGINT');
  assert.equal(await server.exited, 0);
  assert.equal(await portInUse(port), false);
});

test('SIGTERM with a connection open that never sent a request (a browser opens them ahead of need) exits 0 at once, the connection dropped unanswered', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-silent-'));
  const port = await freePort();
  const server = serve(t, { KEYSMITH_PORT: String(port), KEYSMITH_DATABASE_URL: `sqlite:${path.join(dir, 'k.db')}`, KEYSMITH_MASTER_KEY: randomBytes(32).toString('base64') }, dir);
  await healthy(server, port);
  const silent = net.connect(port, '127.0.0.1');
  await once(silent, 'connect');
  const received: Buffer[] = [];
  silent.on('data', (chunk: Buffer) => received.push(chunk));
  silent.on('error', () => {});
  const dropped = once(silent, 'close');
  // Node would keep it until its header time-out (60–90 s) and then answer 408; the stop's 10 s
  // deadline would come first and end the process with exit 1.
  assert.equal(await stop(server), 0, server.output());
  await dropped;
  assert.equal(Buffer.concat(received).length, 0, 'the connection was dropped, not answered');
  assert.doesNotMatch(server.output(), /longer than 10 s/);
});

test('KEYSMITH_LOG_FORMAT=pretty writes lines for a person, still without headers or the circle-token; 0.0.0.0 without a public URL is warned about', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-pretty-'));
  const port = await freePort();
  const token = `ksu_${randomBytes(18).toString('hex')}`;
  const server = serve(
    t,
    {
      KEYSMITH_PORT: String(port),
      KEYSMITH_HOST: '0.0.0.0',
      KEYSMITH_LOG_FORMAT: 'pretty',
      KEYSMITH_DATABASE_URL: `sqlite:${path.join(dir, 'k.db')}`,
      KEYSMITH_MASTER_KEY: randomBytes(32).toString('base64'),
    },
    dir,
  );
  await healthy(server, port);
  const res = await fetch(`http://127.0.0.1:${port}/api/v2/me?circle-token=${token}`, { headers: { 'circle-token': token, cookie: `keysmith_session=${token}` } });
  await res.arrayBuffer();
  assert.equal(await stop(server), 0);

  const out = server.output();
  assert.ok(!out.split('\n').some((line) => line.startsWith('{')), `no JSON lines: ${out}`);
  assert.match(out, /INFO.*Server listening/);
  assert.match(out, /WARN.*the public URL is http:\/\/0\.0\.0\.0:\d+, so Location headers, grant_url and links would name 0\.0\.0\.0.*set KEYSMITH_PUBLIC_URL/);
  assert.match(out, /\/api\/v2\/me\?circle-token=\[redacted\]/, 'the request line is logged, redacted');
  assert.ok(!out.includes(token), 'the token appears nowhere: not in the URL, not in a header');
  assert.ok(!/^\s*headers:/m.test(out) && !out.includes('keysmith_session'), `no header is logged: ${out}`);
});

test('JSON is the default log format; with KEYSMITH_PUBLIC_URL set, 0.0.0.0 is not warned about', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-json-'));
  const port = await freePort();
  const server = serve(
    t,
    {
      KEYSMITH_PORT: String(port),
      KEYSMITH_HOST: '0.0.0.0',
      KEYSMITH_PUBLIC_URL: 'https://keys.example.com',
      KEYSMITH_DATABASE_URL: `sqlite:${path.join(dir, 'k.db')}`,
      KEYSMITH_MASTER_KEY: randomBytes(32).toString('base64'),
    },
    dir,
  );
  await healthy(server, port);
  assert.equal(await stop(server), 0);
  const lines = server.output().trim().split('\n');
  const parsed = lines.map((line) => JSON.parse(line) as { msg: string });
  assert.ok(parsed.some((l) => l.msg.startsWith('Server listening')));
  assert.ok(!parsed.some((l) => l.msg.includes('KEYSMITH_PUBLIC_URL')), 'no public-URL warning');
});

test('an unknown KEYSMITH_LOG_FORMAT refuses to start with one sentence', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-badfmt-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const run = spawnSync(process.execPath, [BIN, 'serve'], { cwd: dir, env: { PATH: process.env.PATH!, KEYSMITH_LOG_FORMAT: 'xml', KEYSMITH_PORT: '0' }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 1);
  assert.equal(run.stderr, 'keysmith: KEYSMITH_LOG_FORMAT must be json (the default) or pretty, not "xml".\n');
  assert.equal(fs.existsSync(path.join(dir, 'data')), false, 'nothing was created');
});

test('KEYSMITH_HOST=:: gives a public URL with brackets (and is warned about like 0.0.0.0)', () => {
  assert.equal(loadConfig({ KEYSMITH_HOST: '::', KEYSMITH_PORT: '8080' }).publicUrl, 'http://[::]:8080');
  assert.equal(new URL(loadConfig({ KEYSMITH_HOST: '::' }).publicUrl).hostname, '[::]');
  assert.equal(loadConfig({ KEYSMITH_HOST: '::', KEYSMITH_PUBLIC_URL: 'https://keys.example.com/' }).publicUrl, 'https://keys.example.com');
});
