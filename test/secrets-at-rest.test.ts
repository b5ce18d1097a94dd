// Secrets at rest: no private key, API key, Heroku key or password is ever in the database in plain
// text, and master-key rotation re-wraps every sealed secret while both keys are accepted.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { EnvelopeError, masterKeyFrom, open, type KeyRing } from '../src/crypto/envelope.ts';
import { loadKeyRing } from '../src/crypto/master-key.ts';
import { rotateMasterKey } from '../src/modules/master-key/rotate.service.ts';
import { createServices } from '../src/services.ts';
import { addProject, addServiceKey, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase, type TestApp } from './harness.ts';
import { sshKeygen } from './ssh-fixtures.ts';

const TABLES = [
  'users',
  'accounts',
  'memberships',
  'projects',
  'api_keys',
  'sessions',
  'audit_events',
  'ssh_keys',
  'checkout_keys',
  'host_keys',
  'heroku_keys',
  'grants',
  'webhooks',
  'webhook_deliveries',
];
const HEROKU = 'heroku-secret-0123456789abcdef';

/** Creates one of every secret and returns them as plain text, as their one reveal showed them. */
async function everySecret(app: TestApp) {
  const alice = await seed(app);
  await addProject(app, alice.key, 'acme', 'web');
  const service = await addServiceKey(app, alice.key, 'acme', 'runner');
  await app.request({ method: 'PUT', url: '/v1/user/grants/write:public_key', headers: bearer(alice.key) });
  assert.equal((await app.request({ method: 'POST', url: '/api/v1.1/project/gh/acme/web/checkout-key', headers: bearer(alice.key), payload: { type: 'user-key' } })).statusCode, 201);
  const host = sshKeygen('ecdsa', 384).privateKey;
  assert.equal(
    (await app.request({ method: 'POST', url: '/api/v1.1/project/gh/acme/web/ssh-key', headers: bearer(alice.key), payload: { hostname: 'h.example.com', private_key: host } })).statusCode,
    201,
  );
  assert.equal((await app.request({ method: 'POST', url: '/api/v1.1/user/heroku-key', headers: bearer(alice.key), payload: { apikey: HEROKU } })).statusCode, 201);
  const hook = await app.request({ method: 'POST', url: '/v1/accounts/acme/webhooks', headers: bearer(alice.key), payload: { url: 'http://127.0.0.1:9/hook', events: ['*'] } });
  assert.equal(hook.statusCode, 201, hook.body);
  const signIn = await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'alice', password: alice.password } });
  const credentials = (await app.request({ method: 'GET', url: '/v1/projects/gh/acme/web/checkout-credentials', headers: bearer(service.key) })).json();
  const privateLines = [credentials.checkout_key.private_key, credentials.ssh_keys[0].private_key, host]
    .flatMap((k: string) => k.split('\n'))
    .filter((line: string) => line.length >= 40 && !line.startsWith('-----'));
  return {
    alice,
    service,
    needles: [
      alice.key,
      service.key,
      HEROKU,
      (hook.json() as { secret: string }).secret,
      alice.password,
      String(signIn.headers['set-cookie']).split(';')[0]!.split('=')[1]!,
      signIn.json().csrf_token,
      ...privateLines,
    ],
  };
}

forEachDatabase('secrets at rest', (kind) => {
  test('no secret is stored in plain text: every byte of the database is scanned', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-scan-'));
    const file = path.join(dir, 'keysmith.db');
    const app = await appFor(t, kind, kind === 'sqlite' ? { sqliteFile: file } : {});
    const { needles } = await everySecret(app);
    await app.services.flush();
    let haystack: string;
    if (kind === 'sqlite') {
      haystack = ['', '-wal', '-shm'].map((suffix) => (fs.existsSync(file + suffix) ? fs.readFileSync(file + suffix).toString('latin1') : '')).join('\n');
    } else {
      const dumps = await Promise.all(TABLES.map((table) => sql<{ row: string }>`select t::text as row from ${sql.table(table)} t`.execute(app.services.db)));
      haystack = dumps.flatMap((d) => d.rows.map((r) => r.row)).join('\n');
    }
    assert.ok(haystack.includes('checkout_key') || haystack.includes('v1.'), 'the scan sees the stored rows');
    for (const needle of needles) assert.ok(!haystack.includes(needle), `a secret was found in plain text (starting ${needle.slice(0, 6)}…)`);
  });

  test('rotation re-wraps every sealed secret under the new master key; servers holding both keys keep working', async (t) => {
    const app = await appFor(t, kind);
    const { service } = await everySecret(app);
    const oldRing = loadKeyRing(app.config).ring;
    const next = masterKeyFrom(randomBytes(32));
    const both: KeyRing = { current: next, previous: [oldRing.current] };
    const during = createServices({ db: app.services.db, ring: both, config: app.config, logger: app.app.log as never });
    const fetchWith = (services: typeof during) =>
      services.checkoutKeys.credentials(
        { actor: { type: 'service', keyId: service.id, keyName: 'runner', accountId: 1, accountName: 'acme', role: 'runner', scopes: null }, remoteAddr: null, userAgent: null },
        { vcs: 'gh', account: 'acme', name: 'web' },
      );
    const before = await fetchWith(during);

    const report = await rotateMasterKey(app.services, oldRing, next);
    assert.deepEqual(report.rewrapped, { checkout_keys: 1, host_keys: 1, heroku_keys: 1, ssh_ca_keys: 0, webhooks: 1, api_key_rotation_replays: 0 });
    assert.deepEqual(await fetchWith(during), before, 'the ring with both keys reads old and new');
    const onlyNew = createServices({ db: app.services.db, ring: { current: next, previous: [] }, config: app.config, logger: app.app.log as never });
    assert.deepEqual(await fetchWith(onlyNew), before, 'after rotation the new key alone suffices');
    const sealed = await app.services.db.selectFrom('heroku_keys').select(['user_id', 'sealed']).executeTakeFirstOrThrow();
    assert.equal(open({ current: next, previous: [] }, sealed.sealed, `heroku_key:${sealed.user_id}`).toString(), HEROKU);
    assert.throws(
      () => open(oldRing, sealed.sealed, `heroku_key:${sealed.user_id}`),
      (err: unknown) => err instanceof EnvelopeError && err.code === 'unknown_master_key',
    );
    const again = await rotateMasterKey(app.services, both, next);
    assert.equal(again.alreadyCurrent, 4, 'running it twice changes nothing');
  });
});

test('keysmith rotate-master-key --new-key-file re-wraps a real database from the command line', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-rotate-'));
  const file = path.join(dir, 'keysmith.db');
  const oldKey = randomBytes(32).toString('base64');
  const app = await appFor(t, 'sqlite', { sqliteFile: file, env: { KEYSMITH_MASTER_KEY: oldKey } });
  const { service } = await everySecret(app);
  await app.close();
  const newKeyFile = path.join(dir, 'new.key');
  const newKey = randomBytes(32);
  fs.writeFileSync(newKeyFile, newKey.toString('base64') + '\n', { mode: 0o600 });
  const run = (args: string[]) =>
    spawnSync(process.execPath, [path.resolve('bin/keysmith.mjs'), ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH!, KEYSMITH_DATABASE_URL: `sqlite:${file}`, KEYSMITH_MASTER_KEY: oldKey },
      encoding: 'utf8',
    });
  assert.equal(run(['rotate-master-key']).status, 2, 'the file is required');
  const result = run(['rotate-master-key', '--new-key-file', newKeyFile]);
  assert.equal(result.status, 0, result.stderr);
  assert.match(
    result.stdout,
    /Re-wrapped 4 secrets under master key [0-9a-f]{16} \(checkout keys 1, host keys 1, Heroku keys 1, SSH CA keys 0, webhook secrets 1, sealed rotation replays 0; 0 already were\)\./,
  );
  const after = await appFor(t, 'sqlite', { sqliteFile: file, env: { KEYSMITH_MASTER_KEY: newKey.toString('base64') } });
  const res = await after.request({ method: 'GET', url: '/v1/projects/gh/acme/web/checkout-credentials', headers: bearer(service.key) });
  assert.equal(res.statusCode, 200, res.body);
  assert.match(res.json().checkout_key.private_key, /BEGIN OPENSSH PRIVATE KEY/);
});
