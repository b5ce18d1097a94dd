// sshd's online check for certificates (AuthorizedPrincipalsCommand), on SQLite and PostgreSQL: the
// principal line only while the certificate is known, signed by a trusted CA key of the server's
// account, unexpired, unrevoked and its user still a member; git mode's forced-command line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addProject, addServiceKey, addUser, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase, testClock, type TestApp } from './harness.ts';
import { ed25519Line } from './ssh-fixtures.ts';

const COMMAND = '/usr/local/lib/keysmith/keysmith-git-serve';

async function world(app: TestApp) {
  const alice = await seed(app);
  const dan = await addUser(app, 'dan', { account: 'acme', role: 'read_only', by: alice.key });
  const eve = await addUser(app, 'eve');
  assert.equal((await app.request({ method: 'POST', url: '/v1/accounts', headers: bearer(eve.key), payload: { name: 'evecorp' } })).statusCode, 201);
  await addProject(app, alice.key, 'acme', 'web');
  const server = await addServiceKey(app, alice.key, 'acme', 'ssh_server');
  const runner = await addServiceKey(app, alice.key, 'acme', 'runner');
  const foreignServer = await addServiceKey(app, eve.key, 'evecorp', 'ssh_server');
  const ca = ((await app.request({ method: 'GET', url: '/v1/accounts/acme/ssh-ca', headers: bearer(alice.key) })).json() as { keys: { fingerprint_sha256: string }[] }).keys[0]!.fingerprint_sha256;
  return { alice, dan, server, runner, foreignServer, ca };
}

async function certFor(app: TestApp, key: string) {
  const line = ed25519Line();
  assert.equal((await app.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bearer(key), payload: { key: line } })).statusCode, 201);
  const res = await app.request({ method: 'POST', url: '/v1/user/ssh-certificates', headers: bearer(key), payload: { public_key: line, account: 'acme', ttl_seconds: 3600 } });
  assert.equal(res.statusCode, 201, res.body);
  return res.json() as { serial: number };
}

async function principals(app: TestApp, key: string, query: Record<string, string | number>) {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
  const res = await app.request({ method: 'GET', url: `/v1/ssh/authorized-principals?${qs}`, headers: bearer(key) });
  return res;
}

forEachDatabase('SSH certificate online check', (kind) => {
  test('login mode: the login for a valid certificate of that user; empty once revoked, expired, for another user, CA or account', async (t) => {
    const clock = testClock(new Date());
    const app = await appFor(t, kind, { clock });
    const w = await world(app);
    const dans = await certFor(app, w.dan.key);
    const ask = (query: Record<string, string | number>, key = w.server.key) => principals(app, key, { user: 'dan', serial: dans.serial, ca: w.ca, ...query });

    const ok = await ask({});
    assert.equal(ok.statusCode, 200, ok.body);
    assert.match(String(ok.headers['content-type']), /^text\/plain/);
    assert.equal(ok.body, 'dan\n');
    assert.equal((await ask({ user: 'DAN' })).body, 'dan\n', 'logins match in any case');
    assert.equal((await ask({ user: 'alice' })).body, '', 'another Unix user');
    assert.equal((await ask({ ca: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s' })).body, '', 'another CA');
    assert.equal((await ask({ serial: 999 })).body, '', 'an unknown serial');
    assert.equal((await ask({}, w.foreignServer.key)).body, '', "another account's server knows nothing of it");
    assert.equal((await ask({ mode: 'git', command: COMMAND })).body, `restrict,command="${COMMAND} cert-${dans.serial}" dan\n`);

    const refused = await ask({}, w.alice.key);
    assert.equal(refused.statusCode, 403);
    assert.equal((refused.json() as { error: { code: string } }).error.code, 'role_required');
    const noCommand = await ask({ mode: 'git' });
    assert.equal(noCommand.statusCode, 400, noCommand.body);
    assert.match((noCommand.json() as { error: { message: string } }).error.message, /forced command is needed/);
    assert.equal((await ask({ ca: 'not-a-fingerprint' })).statusCode, 400);

    // Removed from the account: the same certificate answers nothing.
    const other = await certFor(app, w.alice.key);
    assert.equal((await principals(app, w.server.key, { user: 'alice', serial: other.serial, ca: w.ca })).body, 'alice\n');
    assert.equal((await app.request({ method: 'DELETE', url: '/v1/accounts/acme/members/dan', headers: bearer(w.alice.key) })).statusCode, 204);
    assert.equal((await ask({})).body, '', 'dan is no member any more');

    // Revoked: empty on the very next question.
    assert.equal((await app.request({ method: 'DELETE', url: `/v1/accounts/acme/ssh-certificates/${other.serial}`, headers: bearer(w.alice.key) })).statusCode, 204);
    assert.equal((await principals(app, w.server.key, { user: 'alice', serial: other.serial, ca: w.ca })).body, '');

    // Expired.
    const later = await certFor(app, w.alice.key);
    assert.equal((await principals(app, w.server.key, { user: 'alice', serial: later.serial, ca: w.ca })).body, 'alice\n');
    clock.advance(3601_000);
    assert.equal((await principals(app, w.server.key, { user: 'alice', serial: later.serial, ca: w.ca })).body, '');
  });

  test('a runner certificate never logs in; in git mode it gets its forced-command line; rotation keeps it trusted until the previous key is dropped', async (t) => {
    const app = await appFor(t, kind);
    const w = await world(app);
    const res = await app.request({ method: 'POST', url: '/v1/projects/gh/acme/web/checkout-certificate', headers: bearer(w.runner.key), payload: { public_key: ed25519Line() } });
    assert.equal(res.statusCode, 201, res.body);
    const { serial } = res.json() as { serial: number };
    const ask = (mode: string) => principals(app, w.server.key, { user: 'git', serial, ca: w.ca, mode, ...(mode === 'git' ? { command: COMMAND } : {}) });
    assert.equal((await ask('login')).body, '');
    assert.equal((await ask('git')).body, `restrict,command="${COMMAND} cert-${serial}" deploy:gh/acme/web\n`);
    assert.equal((await app.request({ method: 'POST', url: '/v1/accounts/acme/ssh-ca/rotate', headers: bearer(w.alice.key) })).statusCode, 201);
    assert.equal((await ask('git')).body, `restrict,command="${COMMAND} cert-${serial}" deploy:gh/acme/web\n`, 'the previous key is still trusted');
    assert.equal((await app.request({ method: 'DELETE', url: '/v1/accounts/acme/ssh-ca/previous', headers: bearer(w.alice.key) })).statusCode, 204);
    assert.equal((await ask('git')).body, '', 'dropped: its certificates answer nothing');
  });
});
