// Disabling a user: every credential of theirs stops at once — console session, user API key (native,
// GitHub and CircleCI dialects), their grant's user checkout key — and comes back when enabled.
// Nothing is deleted. Sign-in says the account is disabled only after the right password.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addProject, addServiceKey, addUser, rowCount, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase, type TestApp } from './harness.ts';
import { ed25519Line } from './ssh-fixtures.ts';

const json = { 'content-type': 'application/json' };
const PASSWORD = 'bobs long password';
const DISABLED = /^The user bob is disabled; a site admin can enable them again\./;

const setDisabled = (app: TestApp, adminKey: string, disabled: boolean) =>
  app.request({ method: 'PATCH', url: '/v1/admin/users/bob', headers: { ...bearer(adminKey), ...json }, payload: { disabled } });

forEachDatabase('disabling users', (kind) => {
  test("disable cuts off bob's session, user key (native, GitHub, CircleCI) and user checkout key at once; enable restores them", async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const bob = await addUser(app, 'bob', { account: 'acme', role: 'read_write', by: alice.key });
    await app.services.passwords.setPasswordByOperator({ cli: true }, 'bob', PASSWORD);
    await addProject(app, alice.key, 'acme', 'web');
    const runner = await addServiceKey(app, alice.key, 'acme', 'runner');
    const bobHeaders = { ...bearer(bob.key), ...json };
    assert.equal((await app.request({ method: 'POST', url: '/v1/projects/gh/acme/web/checkout-keys', headers: bobHeaders, payload: { type: 'deploy' } })).statusCode, 201);
    assert.equal((await app.request({ method: 'PUT', url: '/v1/user/grants/write:public_key', headers: bearer(bob.key) })).statusCode, 200);
    const userKey = await app.request({ method: 'POST', url: '/v1/projects/gh/acme/web/checkout-keys', headers: bobHeaders, payload: { type: 'user' } });
    assert.equal(userKey.statusCode, 201, userKey.body);
    assert.equal((await app.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bobHeaders, payload: { key: ed25519Line(), title: 'laptop' } })).statusCode, 201);
    const signIn = await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'bob', password: PASSWORD } });
    assert.equal(signIn.statusCode, 200, signIn.body);
    const cookie = String(signIn.headers['set-cookie']).split(';')[0]!;
    const csrf = signIn.json().csrf_token as string;

    const native = () => app.request({ method: 'GET', url: '/v1/user', headers: bearer(bob.key) });
    const github = () => app.request({ method: 'GET', url: '/api/v3/user', headers: { authorization: `token ${bob.key}` } });
    const circleci = () => app.request({ method: 'GET', url: '/api/v2/project/gh/acme/web/checkout-key', headers: { 'circle-token': bob.key } });
    const session = () => app.request({ method: 'GET', url: '/v1/projects', headers: { cookie, 'x-keysmith-account': 'acme' } });
    const sessionWrite = () => app.request({ method: 'POST', url: '/v1/user/api-keys', headers: { cookie, 'x-csrf-token': csrf, ...json }, payload: { name: `from console ${Date.now()}` } });
    const runnerGets = async () => {
      const res = await app.request({ method: 'GET', url: '/v1/projects/gh/acme/web/checkout-credentials', headers: bearer(runner.key) });
      assert.equal(res.statusCode, 200, res.body);
      return (res.json() as { checkout_key: { type: string; fingerprint_sha256: string } | null }).checkout_key;
    };

    // Working, and cached (the key's look-up is kept a few seconds).
    for (const call of [native, github, circleci, session]) assert.equal((await call()).statusCode, 200);
    assert.equal((await runnerGets())!.fingerprint_sha256, userKey.json().fingerprint_sha256);
    const tables = ['users', 'sessions', 'api_keys', 'ssh_keys', 'checkout_keys', 'grants', 'memberships'] as const;
    const before = await Promise.all(tables.map((table) => rowCount(app, table)));

    const disabled = await setDisabled(app, alice.key, true);
    assert.equal(disabled.statusCode, 200, disabled.body);
    assert.equal(disabled.json().disabled, true);

    const refusedNative = await native();
    assert.equal(refusedNative.statusCode, 403);
    assert.equal(refusedNative.json().error.code, 'user_disabled');
    assert.match(refusedNative.json().error.message, DISABLED);
    const refusedGithub = await github();
    assert.equal(refusedGithub.statusCode, 403);
    assert.match(refusedGithub.json().message, DISABLED);
    const refusedCircle = await circleci();
    assert.equal(refusedCircle.statusCode, 403);
    assert.match(refusedCircle.json().message, DISABLED);
    for (const call of [session, sessionWrite]) {
      const res = await call();
      assert.equal(res.statusCode, 403, res.body);
      assert.equal(res.json().error.code, 'user_disabled');
    }
    // The console sees no session, but keeps the cookie for when bob is enabled again.
    const current = await app.request({ method: 'GET', url: '/v1/session', headers: { cookie } });
    assert.deepEqual(current.json(), { user: null, csrf_token: null });
    assert.equal(current.headers['set-cookie'], undefined);
    // Nothing can be made under bob's grant either.
    const underGrant = await app.request({ method: 'POST', url: '/v1/projects/gh/acme/web/checkout-keys', headers: bobHeaders, payload: { type: 'user' } });
    assert.equal(underGrant.statusCode, 403);
    assert.equal(underGrant.json().error.code, 'user_disabled');
    // The runner is handed the deploy key instead of bob's user key.
    assert.equal((await runnerGets())!.type, 'deploy-key');
    // Sign-in: a wrong password gets the usual answer; only the right one learns that the account is disabled.
    const wrong = await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'bob', password: 'not his password' } });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json().error.code, 'login_failed');
    const right = await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'bob', password: PASSWORD } });
    assert.equal(right.statusCode, 403);
    assert.equal(right.json().error.code, 'user_disabled');
    assert.equal(right.json().error.message, 'This account is disabled; ask a site admin.');
    assert.equal(right.headers['set-cookie'], undefined);
    // The SSH key lists still show bob's keys; nothing was deleted.
    const publicKeys = await app.request({ method: 'GET', url: '/api/v3/users/bob/keys' });
    assert.equal(publicKeys.statusCode, 200);
    assert.equal((publicKeys.json() as unknown[]).length, 2);
    assert.deepEqual(await Promise.all(tables.map((table) => rowCount(app, table))), before);
    // Each refusal is in the trail with its reason.
    await app.services.flush();
    const refusals = await app.services.db.selectFrom('audit_events').select(['details', 'count']).where('action', '=', 'auth.refused').execute();
    const reasons = refusals.filter((r) => JSON.parse(r.details!).reason === 'user_disabled').reduce((n, r) => n + r.count, 0);
    assert.equal(reasons, 7, JSON.stringify(refusals));

    const enabled = await setDisabled(app, alice.key, false);
    assert.equal(enabled.json().disabled, false);
    for (const call of [native, github, circleci, session]) assert.equal((await call()).statusCode, 200);
    assert.equal((await sessionWrite()).statusCode, 201);
    assert.equal((await runnerGets())!.fingerprint_sha256, userKey.json().fingerprint_sha256);
    assert.equal((await app.request({ method: 'GET', url: '/v1/session', headers: { cookie } })).json().user.login, 'bob');
    assert.equal((await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'bob', password: PASSWORD } })).statusCode, 200);
    const trail = await app.services.db.selectFrom('audit_events').select(['action', 'actor_label', 'target_label']).where('action', 'in', ['user.disable', 'user.enable']).orderBy('id').execute();
    assert.deepEqual(trail, [
      { action: 'user.disable', actor_label: 'alice', target_label: 'bob' },
      { action: 'user.enable', actor_label: 'alice', target_label: 'bob' },
    ]);
  });

  test('disabling twice, or enabling an enabled user, changes and records nothing', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    await addUser(app, 'bob');
    assert.equal((await setDisabled(app, alice.key, false)).statusCode, 200);
    assert.equal((await setDisabled(app, alice.key, true)).statusCode, 200);
    const first = await app.services.db.selectFrom('users').select('disabled_at').where('login', '=', 'bob').executeTakeFirstOrThrow();
    assert.equal((await setDisabled(app, alice.key, true)).json().disabled, true);
    const second = await app.services.db.selectFrom('users').select('disabled_at').where('login', '=', 'bob').executeTakeFirstOrThrow();
    assert.equal(second.disabled_at, first.disabled_at, 'the first disable time stays');
    const events = await app.services.db.selectFrom('audit_events').select('action').where('action', 'in', ['user.disable', 'user.enable']).execute();
    assert.equal(events.length, 1);
  });
});
