// Passwords after the first run: set-password links (24 h, single use, only the SHA-256 stored, the
// newest voids the older), PUT /v1/user/password (current password needed once one is set; ends the
// user's other sessions), and the token never reaching the log or the audit trail.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256Hex } from '../src/crypto/random.ts';
import { redactUrl } from '../src/logger.ts';
import { addServiceKey, addUser, rowCount, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase, testClock, type TestApp } from './harness.ts';

const json = { 'content-type': 'application/json' };
const INVALID = 'This set-password link is unknown, expired or already used; ask a site admin for a new one.';

const signIn = (app: TestApp, login: string, password: string) => app.request({ method: 'POST', url: '/v1/session', payload: { login, password } });
const sessionOf = (res: { headers: Record<string, unknown>; json(): unknown }) => ({
  cookie: String(res.headers['set-cookie']).split(';')[0]!,
  csrf: (res.json() as { csrf_token: string }).csrf_token,
});
const issue = (app: TestApp, key: string, login = 'bob') => app.request({ method: 'POST', url: `/v1/admin/users/${login}/password-reset`, headers: bearer(key) });
const tokenOf = (url: string) => new URL(url).searchParams.get('token')!;

test('the request log drops the query of /set-password and /v1/set-password*, and still the circle-token', () => {
  assert.equal(redactUrl('/set-password?token=abc'), '/set-password?[redacted]');
  assert.equal(redactUrl('/v1/set-password?token=abc&x=1'), '/v1/set-password?[redacted]');
  assert.equal(redactUrl('/v1/set-password/check?token=abc'), '/v1/set-password/check?[redacted]');
  assert.equal(redactUrl('/set-password'), '/set-password');
  assert.equal(redactUrl('/v1/projects?circle-token=ksu_x&page=2'), '/v1/projects?circle-token=[redacted]&page=2');
});

forEachDatabase('passwords', (kind) => {
  test('a site admin issues a set-password link; the user sets a password with it once, and every session of theirs ends', async (t) => {
    const clock = testClock();
    const app = await appFor(t, kind, { clock });
    const alice = await seed(app);
    const bob = await addUser(app, 'bob');
    await app.services.passwords.setPasswordByOperator({ cli: true }, 'bob', 'bobs first password');
    assert.equal((await signIn(app, 'bob', 'bobs first password')).statusCode, 200);
    assert.equal((await signIn(app, 'bob', 'bobs first password')).statusCode, 200);

    const first = await issue(app, alice.key);
    assert.equal(first.statusCode, 201, first.body);
    assert.equal(first.headers['cache-control'], 'no-store');
    const link = first.json() as { url: string; expires_at: string };
    assert.match(link.url, /^http:\/\/keysmith\.test\/set-password\?token=[A-Za-z0-9_-]{43}$/);
    assert.equal(link.expires_at, new Date(clock.now().getTime() + 24 * 3600 * 1000).toISOString());
    const firstToken = tokenOf(link.url);
    // A newer link voids the older one.
    const second = (await issue(app, alice.key)).json() as { url: string; expires_at: string };
    const token = tokenOf(second.url);
    assert.notEqual(token, firstToken);
    const stale = await app.request({ method: 'POST', url: '/v1/set-password/check', headers: json, payload: { token: firstToken } });
    assert.equal(stale.statusCode, 400);
    assert.equal(stale.json().error.code, 'reset_link_invalid');
    assert.equal(stale.json().error.message, INVALID);

    // Only the hash is stored, and neither the log nor the trail holds the token.
    const stored = await app.services.db.selectFrom('password_resets').selectAll().execute();
    assert.equal(stored.length, 1);
    assert.equal(stored[0]!.token_hash, sha256Hex(token));
    await app.request({ method: 'GET', url: `/set-password?token=${token}` });
    const trail = JSON.stringify(await app.services.db.selectFrom('audit_events').selectAll().execute());
    assert.ok(!trail.includes(token) && !trail.includes(firstToken), 'no token in the audit trail');
    assert.ok(!app.logs.join('\n').includes(token), 'no token in the log');
    assert.match(trail, /user\.password_reset_issue/);

    const check = await app.request({ method: 'POST', url: '/v1/set-password/check', headers: json, payload: { token } });
    assert.equal(check.statusCode, 200, check.body);
    assert.deepEqual(check.json(), { login: 'bob', expires_at: second.expires_at });

    const short = await app.request({ method: 'POST', url: '/v1/set-password', headers: json, payload: { token, new_password: 'short' } });
    assert.equal(short.statusCode, 400);
    assert.equal(short.json().error.code, 'validation_failed');
    assert.equal(short.json().error.field, 'new_password');
    assert.equal(await rowCount(app, 'sessions'), 2, 'a refused attempt ends nothing');

    const set = await app.request({ method: 'POST', url: '/v1/set-password', headers: json, payload: { token, new_password: 'bobs brand new password' } });
    assert.equal(set.statusCode, 200, set.body);
    assert.deepEqual(set.json(), { login: 'bob' });
    assert.equal(await rowCount(app, 'sessions'), 0, "every session of bob's ended");
    assert.equal((await signIn(app, 'bob', 'bobs first password')).statusCode, 401);
    assert.equal((await signIn(app, 'bob', 'bobs brand new password')).statusCode, 200);
    // His API key is untouched.
    assert.equal((await app.request({ method: 'GET', url: '/v1/user', headers: bearer(bob.key) })).statusCode, 200);

    const again = await app.request({ method: 'POST', url: '/v1/set-password', headers: json, payload: { token, new_password: 'yet another password' } });
    assert.equal(again.statusCode, 400);
    assert.equal(again.json().error.message, INVALID);
    const setEvents = await app.services.db.selectFrom('audit_events').select(['actor_label', 'target_label', 'details']).where('action', '=', 'user.password_set').execute();
    assert.equal(setEvents.length, 2, 'the operator and the link');
    assert.deepEqual(JSON.parse(setEvents[1]!.details!), { by: 'link', sessions_ended: 2 });
    assert.equal(setEvents[1]!.actor_label, 'bob');
  });

  test('a link expires after 24 hours; unknown, empty and over-long tokens get the same refusal', async (t) => {
    const clock = testClock();
    const app = await appFor(t, kind, { clock });
    const alice = await seed(app);
    await addUser(app, 'bob');
    const token = tokenOf(((await issue(app, alice.key)).json() as { url: string }).url);
    clock.advance(24 * 3600 * 1000 - 1000);
    assert.equal((await app.request({ method: 'POST', url: '/v1/set-password/check', headers: json, payload: { token } })).statusCode, 200);
    clock.advance(1000);
    for (const payload of [{ token }, { token: 'nope' }, { token: 'x'.repeat(512) }]) {
      const res = await app.request({ method: 'POST', url: '/v1/set-password', headers: json, payload: { ...payload, new_password: 'a long enough password' } });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().error.code, 'reset_link_invalid');
    }
    const empty = await app.request({ method: 'POST', url: '/v1/set-password/check', headers: json, payload: { token: '' } });
    assert.equal(empty.statusCode, 400);
    assert.equal(empty.json().error.code, 'validation_failed');
    const user = await app.services.db.selectFrom('users').select('password_hash').where('login', '=', 'bob').executeTakeFirstOrThrow();
    assert.equal(user.password_hash, null, 'no password was set');
    const unknownUser = await issue(app, alice.key, 'nobody');
    assert.equal(unknownUser.statusCode, 404);
    assert.equal(await rowCount(app, 'password_resets'), 1);
  });

  test('PUT /v1/user/password: the current password is needed once one is set, and the other sessions end', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const here = sessionOf(await signIn(app, 'alice', alice.password));
    const elsewhere = sessionOf(await signIn(app, 'alice', alice.password));
    const put = (headers: Record<string, string>, payload: Record<string, unknown>) => app.request({ method: 'PUT', url: '/v1/user/password', headers: { ...headers, ...json }, payload });
    const fromHere = { cookie: here.cookie, 'x-csrf-token': here.csrf };

    const missing = await put(fromHere, { new_password: 'a brand new password' });
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().error.field, 'current_password');
    const wrong = await put(fromHere, { current_password: 'not it at all', new_password: 'a brand new password' });
    assert.equal(wrong.statusCode, 403);
    assert.equal(wrong.json().error.code, 'password_incorrect');
    assert.equal(wrong.json().error.message, 'The current password is not right.');
    const short = await put(fromHere, { current_password: alice.password, new_password: 'short' });
    assert.equal(short.statusCode, 400);
    assert.equal(short.json().error.field, 'new_password');
    assert.equal(await rowCount(app, 'sessions'), 2);
    assert.equal((await signIn(app, 'alice', alice.password)).statusCode, 200, 'the password is unchanged');

    const ok = await put(fromHere, { current_password: alice.password, new_password: 'a brand new password' });
    assert.equal(ok.statusCode, 204, ok.body);
    assert.equal((await app.request({ method: 'GET', url: '/v1/user', headers: { cookie: here.cookie } })).statusCode, 200, 'the calling session stays');
    assert.equal((await app.request({ method: 'GET', url: '/v1/user', headers: { cookie: elsewhere.cookie } })).statusCode, 401, 'the others end');
    assert.equal(await rowCount(app, 'sessions'), 1);
    assert.equal((await signIn(app, 'alice', 'a brand new password')).statusCode, 200);
    const [event] = await app.services.db.selectFrom('audit_events').select('details').where('action', '=', 'user.password_change').execute();
    assert.deepEqual(JSON.parse(event!.details!), { sessions_ended: 2 });

    // With an API key, every session ends (there is no calling session to keep).
    const viaKey = await put(bearer(alice.key), { current_password: 'a brand new password', new_password: 'the third password' });
    assert.equal(viaKey.statusCode, 204);
    assert.equal(await rowCount(app, 'sessions'), 0);

    // Someone with no password yet may set one without a current one.
    const bob = await addUser(app, 'bob');
    assert.equal((await put(bearer(bob.key), { new_password: 'bobs first password' })).statusCode, 204);
    assert.equal((await signIn(app, 'bob', 'bobs first password')).statusCode, 200);

    const service = await addServiceKey(app, alice.key, 'acme', 'admin');
    const bySvc = await put(bearer(service.key), { new_password: 'a long enough password' });
    assert.equal(bySvc.statusCode, 403);
    assert.equal(bySvc.json().error.code, 'user_key_required');
    const scoped = await app.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(alice.key), payload: { name: 'scoped', scopes: ['read:project'] } });
    const byScoped = await put(bearer(scoped.json().key), { current_password: 'the third password', new_password: 'a long enough password' });
    assert.equal(byScoped.statusCode, 403);
    assert.equal(byScoped.json().error.code, 'unrestricted_key_required');
    const unknownField = await put(bearer(alice.key), { new_password: 'a long enough password', password: 'x' });
    assert.equal(unknownField.statusCode, 400);
  });
});
