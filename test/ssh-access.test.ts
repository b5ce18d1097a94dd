// An SSH server's questions through HTTP, on SQLite and PostgreSQL: the authorized_keys line of a
// presented key (login and git modes), whether key-<id> may read or write a project (audited), the
// public <login>.keys, what never matches, `last_used` without a write per login, and bad input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addProject, addServiceKey, addUser, rowCount, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase, testClock, type TestApp } from './harness.ts';
import { ed25519Line } from './ssh-fixtures.ts';

const COMMAND = '/usr/local/lib/keysmith/keysmith-git-serve';

interface AddedKey {
  id: number;
  key: string;
  fingerprint: string;
}

/** A user key added through the GitHub dialect by the key's owner. */
async function addUserKey(t: TestApp, ownerKey: string): Promise<AddedKey> {
  const res = await t.request({ method: 'POST', url: '/api/v3/user/keys', headers: bearer(ownerKey), payload: { key: ed25519Line() } });
  assert.equal(res.statusCode, 201, res.body);
  return res.json() as AddedKey;
}

async function addDeployKey(t: TestApp, adminKey: string, repo: string, readOnly = true): Promise<AddedKey> {
  const res = await t.request({ method: 'POST', url: `/api/v3/repos/acme/${repo}/keys`, headers: bearer(adminKey), payload: { key: ed25519Line(), read_only: readOnly } });
  assert.equal(res.statusCode, 201, res.body);
  return res.json() as AddedKey;
}

async function lookup(t: TestApp, serverKey: string, query: Record<string, string>) {
  return t.request({ method: 'GET', url: `/v1/ssh/authorized-keys?${new URLSearchParams(query).toString()}`, headers: bearer(serverKey) });
}

/** The body of a successful lookup: zero or one line. */
async function line(t: TestApp, serverKey: string, user: string, fingerprint: string, mode: 'login' | 'git' = 'login'): Promise<string> {
  const res = await lookup(t, serverKey, { user, fingerprint, mode, ...(mode === 'git' ? { command: COMMAND } : {}) });
  assert.equal(res.statusCode, 200, res.body);
  return res.body;
}

interface Decision {
  allowed: boolean;
  message: string;
  identity: null | { type: 'user'; login: string } | { type: 'deploy_key'; project: string; read_only: boolean };
}

async function authorize(t: TestApp, serverKey: string, key: number | string, project: string, access: 'read' | 'write'): Promise<Decision> {
  const res = await t.request({ method: 'POST', url: '/v1/ssh/authorize', headers: bearer(serverKey), payload: { key: typeof key === 'number' ? `key-${key}` : key, project, access } });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as Decision;
}

/** acme (alice owner, bob read_only, carol read_write, projects web and api) and evecorp (eve, project site), each with an ssh_server key. */
async function world(t: TestApp) {
  const alice = await seed(t);
  const bob = await addUser(t, 'bob', { account: 'acme', role: 'read_only', by: alice.key });
  const carol = await addUser(t, 'carol', { account: 'acme', role: 'read_write', by: alice.key });
  const eve = await addUser(t, 'eve');
  assert.equal((await t.request({ method: 'POST', url: '/v1/accounts', headers: bearer(eve.key), payload: { name: 'evecorp' } })).statusCode, 201);
  await addProject(t, alice.key, 'acme', 'web');
  await addProject(t, alice.key, 'acme', 'api');
  await addProject(t, eve.key, 'evecorp', 'site');
  const server = (await addServiceKey(t, alice.key, 'acme', 'ssh_server')).key;
  const eveServer = (await addServiceKey(t, eve.key, 'evecorp', 'ssh_server')).key;
  return { alice, bob, carol, eve, server, eveServer };
}

forEachDatabase('SSH lookups', (kind) => {
  test('login mode: a member’s own key under their login is one `<type> <base64>` line, not cached, text/plain', async (t) => {
    const app = await appFor(t, kind);
    const w = await world(app);
    const key = await addUserKey(app, w.bob.key);
    const res = await lookup(app, w.server, { user: 'bob', fingerprint: key.fingerprint, mode: 'login' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, `${key.key}\n`);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(await line(app, w.server, 'BOB', key.fingerprint), `${key.key}\n`, 'the login is compared without regard to case');
    const byDefault = await lookup(app, w.server, { user: 'bob', fingerprint: key.fingerprint });
    assert.equal(byDefault.body, `${key.key}\n`, 'login is the default mode');
    assert.equal(await line(app, w.server, 'alice', key.fingerprint), '', 'another login does not get bob’s key');
    assert.equal(await line(app, w.server, 'git', key.fingerprint), '');
    const deploy = await addDeployKey(app, w.alice.key, 'web');
    assert.equal(await line(app, w.server, 'alice', deploy.fingerprint), '', 'a deploy key never opens a login shell');
  });

  test('git mode: any member’s key and any deploy or checkout key of the account, behind the forced command naming key-<id>', async (t) => {
    const app = await appFor(t, kind);
    const w = await world(app);
    const bobs = await addUserKey(app, w.bob.key);
    const deploy = await addDeployKey(app, w.alice.key, 'api', false);
    assert.equal(await line(app, w.server, 'git', bobs.fingerprint, 'git'), `restrict,command="${COMMAND} key-${bobs.id}" ${bobs.key}\n`);
    assert.equal(await line(app, w.server, 'anything', deploy.fingerprint, 'git'), `restrict,command="${COMMAND} key-${deploy.id}" ${deploy.key}\n`, 'whatever the Unix user');

    const checkout = await app.request({ method: 'POST', url: '/v1/projects/gh/acme/web/checkout-keys', headers: bearer(w.alice.key), payload: { type: 'deploy' } });
    assert.equal(checkout.statusCode, 201, checkout.body);
    const { fingerprint_sha256: fingerprint, public_key: publicKey } = checkout.json() as { fingerprint_sha256: string; public_key: string };
    const halves = (await app.request({ method: 'GET', url: '/api/v3/repos/acme/web/keys', headers: bearer(w.alice.key) })).json() as AddedKey[];
    const half = halves.find((k) => k.fingerprint === fingerprint)!;
    assert.equal(await line(app, w.server, 'git', fingerprint, 'git'), `restrict,command="${COMMAND} key-${half.id}" ${publicKey}\n`, 'a checkout key’s public half is a deploy key');

    // key-<id> names one key of either kind: user keys and deploy keys share one id sequence.
    assert.notEqual(bobs.id, deploy.id);
    assert.deepEqual((await authorize(app, w.server, bobs.id, 'gh/acme/web', 'read')).identity, { type: 'user', login: 'bob' });
    assert.deepEqual((await authorize(app, w.server, deploy.id, 'gh/acme/api', 'read')).identity, { type: 'deploy_key', project: 'gh/acme/api', read_only: false });
  });

  test('never a match: unknown keys, another account’s keys, removed members, deleted keys and projects, disabled users', async (t) => {
    const app = await appFor(t, kind);
    const w = await world(app);
    const bobs = await addUserKey(app, w.bob.key);
    const carols = await addUserKey(app, w.carol.key);
    const eves = await addUserKey(app, w.eve.key);
    const deploy = await addDeployKey(app, w.alice.key, 'api');
    const franks = await addUserKey(app, (await addUser(app, 'frank')).key);

    assert.equal(await line(app, w.server, 'bob', 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s'), '', 'a fingerprint nobody holds');
    for (const mode of ['login', 'git'] as const) {
      assert.equal(await line(app, w.server, 'eve', eves.fingerprint, mode), '', `${mode}: a member of another account only`);
      assert.equal(await line(app, w.server, 'frank', franks.fingerprint, mode), '', `${mode}: a user of no account`);
      assert.equal(await line(app, w.eveServer, 'bob', bobs.fingerprint, mode), '', `${mode}: evecorp’s server does not know acme’s members`);
    }
    assert.equal(await line(app, w.eveServer, 'git', deploy.fingerprint, 'git'), '', 'nor acme’s deploy keys');
    assert.notEqual(await line(app, w.server, 'bob', bobs.fingerprint), '', 'before the changes below, bob’s key matches');

    assert.equal((await app.request({ method: 'DELETE', url: '/v1/accounts/acme/members/bob', headers: bearer(w.alice.key) })).statusCode, 204);
    assert.equal(await line(app, w.server, 'bob', bobs.fingerprint), '', 'a removed member, on the next lookup');
    assert.equal(await line(app, w.server, 'git', bobs.fingerprint, 'git'), '');

    assert.equal((await app.request({ method: 'DELETE', url: `/api/v3/user/keys/${carols.id}`, headers: bearer(w.carol.key) })).statusCode, 204);
    assert.equal(await line(app, w.server, 'carol', carols.fingerprint), '', 'a deleted key');

    assert.notEqual(await line(app, w.server, 'git', deploy.fingerprint, 'git'), '');
    assert.equal((await app.request({ method: 'DELETE', url: '/v1/projects/gh/acme/api', headers: bearer(w.alice.key) })).statusCode, 204);
    assert.equal(await line(app, w.server, 'git', deploy.fingerprint, 'git'), '', 'the deploy key of a deleted project');

    const alices = await addUserKey(app, w.alice.key);
    assert.notEqual(await line(app, w.server, 'alice', alices.fingerprint), '');
    await app.services.db.updateTable('users').set({ disabled_at: new Date().toISOString() }).where('login_lower', '=', 'alice').execute();
    assert.equal(await line(app, w.server, 'alice', alices.fingerprint), '', 'a disabled user, login mode');
    assert.equal(await line(app, w.server, 'git', alices.fingerprint, 'git'), '', 'a disabled user, git mode');
    assert.equal((await authorize(app, w.server, alices.id, 'gh/acme/web', 'read')).allowed, false, 'a disabled user’s key reaches nothing');
  });

  test('authorize: members read every project and writers push; deploy keys reach their own project, writing only when not read-only', async (t) => {
    const app = await appFor(t, kind);
    const w = await world(app);
    const alices = await addUserKey(app, w.alice.key);
    const bobs = await addUserKey(app, w.bob.key);
    const carols = await addUserKey(app, w.carol.key);
    const readOnly = await addDeployKey(app, w.alice.key, 'web');
    const readWrite = await addDeployKey(app, w.alice.key, 'web', false);

    for (const [key, login] of [
      [alices, 'alice'],
      [bobs, 'bob'],
      [carols, 'carol'],
    ] as const) {
      for (const project of ['gh/acme/web', 'github/ACME/api']) {
        const read = await authorize(app, w.server, key.id, project, 'read');
        assert.equal(read.allowed, true, `${login} reads ${project}: ${read.message}`);
        assert.deepEqual(read.identity, { type: 'user', login });
      }
    }
    assert.equal((await authorize(app, w.server, alices.id, 'gh/acme/web', 'write')).allowed, true, 'an owner pushes');
    assert.equal((await authorize(app, w.server, carols.id, 'gh/acme/web', 'write')).allowed, true, 'read_write pushes');
    const bobPush = await authorize(app, w.server, bobs.id, 'gh/acme/web', 'write');
    assert.equal(bobPush.allowed, false);
    assert.match(bobPush.message, /^bob has the read_only role in acme, so they can clone gh\/acme\/web but not push to it; ask an owner or admin of acme for the read_write role\.$/);

    assert.equal((await authorize(app, w.server, readOnly.id, 'gh/acme/web', 'read')).allowed, true);
    const roPush = await authorize(app, w.server, readOnly.id, 'gh/acme/web', 'write');
    assert.equal(roPush.allowed, false);
    assert.match(roPush.message, /read-only, so it can clone and fetch but not push/);
    assert.deepEqual(roPush.identity, { type: 'deploy_key', project: 'gh/acme/web', read_only: true });
    const rwPush = await authorize(app, w.server, readWrite.id, 'gh/acme/web', 'write');
    assert.equal(rwPush.allowed, true, rwPush.message);
    assert.deepEqual(rwPush.identity, { type: 'deploy_key', project: 'gh/acme/web', read_only: false });
    const elsewhere = await authorize(app, w.server, readWrite.id, 'gh/acme/api', 'read');
    assert.equal(elsewhere.allowed, false);
    assert.equal(elsewhere.message, 'This is a deploy key of gh/acme/web, so it reaches that repository only, not gh/acme/api; use the key of gh/acme/api, or your own SSH key.');
    const elsewhereAbsent = await authorize(app, w.server, readWrite.id, 'gh/acme/nothing', 'read');
    assert.equal(elsewhereAbsent.message.replace('gh/acme/nothing', 'gh/acme/api').replace('gh/acme/nothing', 'gh/acme/api'), elsewhere.message, 'a deploy key learns nothing of other repositories');

    // Another account's project is told the sentence of an absent one.
    const foreign = await authorize(app, w.server, alices.id, 'gh/evecorp/site', 'read');
    const absent = await authorize(app, w.server, alices.id, 'gh/evecorp/nothing', 'read');
    const absentHere = await authorize(app, w.server, alices.id, 'gh/acme/nothing', 'read');
    assert.equal(foreign.allowed, false);
    assert.equal(foreign.message.replace('gh/evecorp/site', '<project>'), absent.message.replace('gh/evecorp/nothing', '<project>'));
    assert.equal(foreign.message.replace('gh/evecorp/site', '<project>'), absentHere.message.replace('gh/acme/nothing', '<project>'));
    assert.match(foreign.message, /^There is no repository gh\/evecorp\/site that this key can reach: check the repository path in the clone URL/);
    const eveAsked = await authorize(app, w.eveServer, alices.id, 'gh/acme/web', 'read');
    assert.equal(eveAsked.allowed, false, 'evecorp’s server does not know acme’s keys');
    assert.equal(eveAsked.identity, null);

    const unknown = await authorize(app, w.server, 999_999, 'gh/acme/web', 'read');
    assert.deepEqual([unknown.allowed, unknown.identity], [false, null]);
    assert.match(unknown.message, /^Keysmith does not know this SSH key for acme \(any more\)/);
    assert.equal((await app.request({ method: 'DELETE', url: '/v1/accounts/acme/members/bob', headers: bearer(w.alice.key) })).statusCode, 204);
    const removed = await authorize(app, w.server, bobs.id, 'gh/acme/web', 'read');
    assert.deepEqual([removed.allowed, removed.identity, removed.message], [false, null, unknown.message], 'a removed member’s key, at once');
  });

  test('every decision is in the audit log: ssh.access with identity, project, access and allowed', async (t) => {
    const app = await appFor(t, kind);
    const w = await world(app);
    const carols = await addUserKey(app, w.carol.key);
    const deploy = await addDeployKey(app, w.alice.key, 'web');
    await authorize(app, w.server, carols.id, 'gh/acme/web', 'write');
    await authorize(app, w.server, deploy.id, 'gh/acme/web', 'write');
    await authorize(app, w.server, 424_242, 'gh/evecorp/site', 'read');
    const res = await app.request({ method: 'GET', url: '/v1/audit-events?action=ssh.access', headers: { ...bearer(w.alice.key), 'x-keysmith-account': 'acme' } });
    assert.equal(res.statusCode, 200, res.body);
    const events = (res.json() as { actor: { type: string; label: string | null }; target: { type: string; label: string }; details: Record<string, unknown> }[]).reverse();
    assert.deepEqual(
      events.map((e) => e.details),
      [
        { key: `key-${carols.id}`, identity: 'user carol', project: 'gh/acme/web', access: 'write', allowed: true },
        { key: `key-${deploy.id}`, identity: 'deploy key of gh/acme/web', project: 'gh/acme/web', access: 'write', allowed: false },
        { key: 'key-424242', identity: null, project: 'gh/evecorp/site', access: 'read', allowed: false },
      ],
    );
    assert.ok(
      events.every((e) => e.actor.type === 'service_key' && e.target.type === 'project'),
      JSON.stringify(events.map((e) => [e.actor, e.target])),
    );
    const eves = await app.request({ method: 'GET', url: '/v1/audit-events?action=ssh.access', headers: { ...bearer(w.eve.key), 'x-keysmith-account': 'evecorp' } });
    assert.deepEqual(eves.json(), [], 'a question about evecorp’s project asked by acme’s server is acme’s event');
  });

  test('last_used: a matching lookup shows at once, is written at most once a minute per key, never once per login', async (t) => {
    const clock = testClock();
    const app = await appFor(t, kind, { clock });
    const w = await world(app);
    const key = await addUserKey(app, w.bob.key);
    const stored = async () => (await app.services.db.selectFrom('ssh_keys').select('last_used_at').where('id', '=', key.id).executeTakeFirstOrThrow()).last_used_at;
    const shown = async () => ((await app.request({ method: 'GET', url: `/api/v3/user/keys/${key.id}`, headers: bearer(w.bob.key) })).json() as { last_used: string | null }).last_used;

    assert.equal(await shown(), null);
    await line(app, w.server, 'nobody', key.fingerprint);
    assert.equal(await shown(), null, 'a lookup that does not match is no use');
    const start = clock.now();
    for (let i = 0; i < 5; i++) assert.notEqual(await line(app, w.server, 'bob', key.fingerprint), '');
    assert.equal(await stored(), null, 'five logins, no write yet');
    assert.equal(await shown(), start.toISOString().replace(/\.\d{3}Z$/, 'Z'), 'the key list shows the use before it is written');

    await app.services.flush();
    assert.equal(new Date(String(await stored())).toISOString(), start.toISOString(), 'one write, at the flush');

    clock.advance(30_000);
    await line(app, w.server, 'bob', key.fingerprint);
    await app.services.flush();
    assert.equal(new Date(String(await stored())).toISOString(), start.toISOString(), 'a use 30 s later is not written');
    assert.equal(await shown(), start.toISOString().replace(/\.\d{3}Z$/, 'Z'));

    clock.advance(31_000);
    await line(app, w.server, 'git', key.fingerprint, 'git');
    await app.services.flush();
    assert.equal(new Date(String(await stored())).toISOString(), new Date(start.getTime() + 61_000).toISOString(), 'a use a minute later is');
  });

  test('GET /<login>.keys: a user’s own keys, one per line, public; 404 for an unknown login', async (t) => {
    const app = await appFor(t, kind);
    const w = await world(app);
    const first = await addUserKey(app, w.bob.key);
    const second = await addUserKey(app, w.bob.key);
    await addDeployKey(app, w.alice.key, 'web');
    const res = await app.request({ method: 'GET', url: '/bob.keys' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    assert.equal(res.body, `${first.key}\n${second.key}\n`);
    assert.equal((await app.request({ method: 'GET', url: '/BOB.keys' })).body, res.body, 'any case');
    assert.equal((await app.request({ method: 'GET', url: '/alice.keys' })).body, '', 'a user without keys (deploy keys are not theirs)');
    assert.equal((await app.request({ method: 'POST', url: '/bob.keys' })).statusCode, 405);
    await app.services.db.updateTable('users').set({ disabled_at: new Date().toISOString() }).where('login_lower', '=', 'bob').execute();
    assert.equal((await app.request({ method: 'GET', url: '/bob.keys' })).body, '', 'a disabled user has no keys that work');
    for (const login of ['nobody', '__proto__', 'constructor', 'a--b', '-x', 'x'.repeat(40)]) {
      const missing = await app.request({ method: 'GET', url: `/${login}.keys` });
      assert.equal(missing.statusCode, 404, `${login}: ${missing.body}`);
      assert.match((missing.json() as { error: { message: string } }).error.message, /^There is no user .+ on this server\.$/);
    }
    const unknownPath = await app.request({ method: 'GET', url: '/bob' });
    assert.equal(unknownPath.statusCode, 404, 'a one-segment path that is not <login>.keys is still a plain 404, not a 405');
  });

  test('bad input is a 400 naming the field, with a sentence; nothing is written', async (t) => {
    const app = await appFor(t, kind);
    const w = await world(app);
    const key = await addUserKey(app, w.bob.key);
    const events = await rowCount(app, 'audit_events');
    const good = { user: 'bob', fingerprint: key.fingerprint };
    const refusedLookups: [Record<string, string>, string, RegExp][] = [
      [{ user: 'bob', fingerprint: 'SHA256:short' }, 'fingerprint', /SHA256 fingerprint as sshd gives it/],
      [{ user: 'bob', fingerprint: '1b:2c:3d:4e:5f:60:71:82:93:a4:b5:c6:d7:e8:f9:0a' }, 'fingerprint', /SHA256 fingerprint/],
      [{ user: 'bob', fingerprint: key.fingerprint.replace('SHA256:', 'sha256:') }, 'fingerprint', /SHA256 fingerprint/],
      [{ user: 'bob', fingerprint: `${key.fingerprint}\n` }, 'fingerprint', /SHA256 fingerprint/],
      [{ user: 'bob' }, 'fingerprint', /is required/],
      [{ fingerprint: key.fingerprint }, 'user', /is required/],
      [{ ...good, user: 'bob\nroot' }, 'user', /control characters/],
      [{ ...good, mode: 'shell' }, 'mode', /must be one of: login, git/],
      [{ ...good, mode: 'git' }, 'command', /In git mode the query parameter "command" is required/],
      [{ ...good, command: COMMAND }, 'command', /only for mode=git/],
      [{ ...good, extra: '1' }, 'extra', /not allowed here/],
      ...['keysmith-git-serve', '/bin/sh -c id', '/x" ssh-ed25519 AAAA', '/x",no-restrict', "/x';id;'", '/x$(id)', '/x`id`', '/x\\y', '/x\ny'].map(
        (command): [Record<string, string>, string, RegExp] => [{ ...good, mode: 'git', command }, 'command', /absolute path of letters, digits/],
      ),
    ];
    for (const [query, field, message] of refusedLookups) {
      const res = await lookup(app, w.server, query);
      assert.equal(res.statusCode, 400, `${JSON.stringify(query)}: ${res.body}`);
      const error = (res.json() as { error: { code: string; field: string; message: string } }).error;
      assert.deepEqual([error.code, error.field], ['validation_failed', field], res.body);
      assert.match(error.message, message);
      assert.match(String(res.headers['content-type']), /^application\/json/, 'errors are native JSON');
    }
    assert.equal(await line(app, w.server, '__proto__', key.fingerprint), '', 'a hostile Unix user name simply matches nothing');
    assert.equal(await line(app, w.server, 'constructor', key.fingerprint, 'git').then((l) => l.startsWith('restrict,')), true, 'git mode ignores the user');

    const refusedQuestions: [Record<string, unknown>, string][] = [
      [{ key: 'key-0', project: 'gh/acme/web', access: 'read' }, 'key'],
      [{ key: 'key-01', project: 'gh/acme/web', access: 'read' }, 'key'],
      [{ key: 'cert-01', project: 'gh/acme/web', access: 'read' }, 'key'],
      [{ key: 'key-99999999999', project: 'gh/acme/web', access: 'read' }, 'key'],
      [{ key: `key-${key.id}`, project: '../../etc/passwd', access: 'read' }, 'project'],
      [{ key: `key-${key.id}`, project: 'gh/acme', access: 'read' }, 'project'],
      [{ key: `key-${key.id}`, project: 'gh/acme/web/../api', access: 'read' }, 'project'],
      [{ key: `key-${key.id}`, project: 'gh/__proto__/web', access: 'read' }, 'project'],
      [{ key: `key-${key.id}`, project: 'svn/acme/web', access: 'read' }, 'project'],
      [{ key: `key-${key.id}`, project: 'gh/-acme/web', access: 'read' }, 'project'],
      [{ key: `key-${key.id}`, project: 'gh/acme/web', access: 'admin' }, 'access'],
      [{ key: `key-${key.id}`, project: 'gh/acme/web' }, 'access'],
    ];
    for (const [body, field] of refusedQuestions) {
      const res = await app.request({ method: 'POST', url: '/v1/ssh/authorize', headers: bearer(w.server), payload: body });
      assert.equal(res.statusCode, 400, `${JSON.stringify(body)}: ${res.body}`);
      const error = (res.json() as { error: { code: string; field: string; message: string } }).error;
      assert.deepEqual([error.code, error.field], ['validation_failed', field], res.body);
      assert.ok(error.message.endsWith('.') && error.message.length > 30, error.message);
    }
    const proto = await app.request({
      method: 'POST',
      url: '/v1/ssh/authorize',
      headers: { ...bearer(w.server), 'content-type': 'application/json' },
      payload: `{"key":"key-${key.id}","project":"gh/acme/web","access":"write","__proto__":{"allowed":true}}`,
    });
    assert.equal(proto.statusCode, 400, `a __proto__ field is refused, never an answer: ${proto.body}`);
    assert.equal(await rowCount(app, 'audit_events'), events, 'refused questions write nothing');
  });

  test('only an ssh_server key of the account asks; people and other service keys get role_required with a sentence', async (t) => {
    const app = await appFor(t, kind);
    const w = await world(app);
    const key = await addUserKey(app, w.bob.key);
    const runner = (await addServiceKey(app, w.alice.key, 'acme', 'runner')).key;
    const admin = (await addServiceKey(app, w.alice.key, 'acme', 'admin')).key;
    for (const [who, credential] of [
      ['owner', w.alice.key],
      ['eve', w.eve.key],
      ['runner', runner],
      ['admin service key', admin],
    ] as const) {
      const res = await lookup(app, credential, { user: 'bob', fingerprint: key.fingerprint });
      assert.equal(res.statusCode, 403, `${who}: ${res.body}`);
      const error = (res.json() as { error: { code: string; message: string; remedy: string } }).error;
      assert.equal(error.code, 'role_required');
      assert.match(error.message, /^Asking who an SSH key belongs to needs (a service API key with )?the ssh_server role/);
      assert.ok(!res.body.includes(key.key), 'no key in a refusal');
    }
    const mismatch = await app.request({
      method: 'POST',
      url: '/v1/ssh/authorize',
      headers: { ...bearer(w.server), 'x-keysmith-account': 'evecorp' },
      payload: { key: `key-${key.id}`, project: 'gh/acme/web', access: 'read' },
    });
    assert.equal(mismatch.statusCode, 403);
    assert.equal((mismatch.json() as { error: { code: string } }).error.code, 'account_mismatch');
    const scoped = await addServiceKey(app, w.alice.key, 'acme', 'ssh_server', { scopes: ['read:project'] });
    const narrow = await lookup(app, scoped.key, { user: 'bob', fingerprint: key.fingerprint });
    assert.equal(narrow.statusCode, 403);
    assert.equal((narrow.json() as { error: { code: string } }).error.code, 'scope_required', 'an ssh_server key limited to scopes needs read:public_key');
  });
});
