// Console sign-in: cookie attributes, CSRF defence on cookie-authenticated writes, one message for
// wrong login or password, throttling, sign-out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seed } from './factories.ts';
import { appFor, forEachDatabase, testClock } from './harness.ts';

forEachDatabase('console sessions', (kind) => {
  test('sign-in sets an HttpOnly, SameSite=Strict cookie and returns the CSRF token', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const res = await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'ALICE', password: alice.password } });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().user.login, 'alice');
    assert.match(res.json().csrf_token, /^[A-Za-z0-9_-]{43}$/);
    const cookie = String(res.headers['set-cookie']);
    assert.match(cookie, /^keysmith_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    const session = cookie.split(';')[0]!;
    const me = await app.request({ method: 'GET', url: '/v1/user', headers: { cookie: session } });
    assert.equal(me.json().user.login, 'alice');
    const stored = JSON.stringify(await app.services.db.selectFrom('sessions').selectAll().execute());
    assert.ok(!stored.includes(session.split('=')[1]!) && !stored.includes(res.json().csrf_token), 'session id and CSRF token are stored hashed');
  });

  test('a cookie-authenticated write without the CSRF token is refused, and nothing is written', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const signIn = await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'alice', password: alice.password } });
    const cookie = String(signIn.headers['set-cookie']).split(';')[0]!;
    const csrf = signIn.json().csrf_token as string;
    for (const headers of [{ cookie }, { cookie, 'x-csrf-token': 'forged' }]) {
      const res = await app.request({ method: 'POST', url: '/v1/projects', headers, payload: { vcs_type: 'gh', name: 'web' } });
      assert.equal(res.statusCode, 403);
      assert.equal(res.json().error.code, 'csrf_required');
    }
    assert.equal((await app.services.db.selectFrom('projects').selectAll().execute()).length, 0);
    const ok = await app.request({ method: 'POST', url: '/v1/projects', headers: { cookie, 'x-csrf-token': csrf }, payload: { vcs_type: 'gh', name: 'web' } });
    assert.equal(ok.statusCode, 201);
  });

  test('wrong login and wrong password get the same 401; repeated failures are throttled with 429', async (t) => {
    // The test clock stands still, so Retry-After is the whole first delay however slow the machine is.
    // (test/sign-in-throttle.test.ts covers the growing delays, the per-login count and the clear.)
    const app = await appFor(t, kind, { clock: testClock() });
    const alice = await seed(app);
    const wrongPassword = await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'alice', password: 'nope' } });
    const wrongLogin = await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'nobody', password: 'nope' } });
    assert.equal(wrongPassword.statusCode, 401);
    assert.equal(wrongLogin.statusCode, 401);
    assert.equal(wrongPassword.json().error.message, wrongLogin.json().error.message);
    for (let i = 0; i < 9; i++) await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'alice', password: 'nope' } });
    const limited = await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'alice', password: alice.password } });
    assert.equal(limited.statusCode, 429);
    // Five failures from one address (any login) hold it back for a second; the attempts refused
    // then are not failures, so the delay stays at its first step while the clock stands still.
    assert.match(limited.json().error.message, /Too many failed sign-ins from your address; try again in 1 second\./);
    assert.equal(limited.headers['retry-after'], '1');
    await app.services.flush();
    const refused = await app.services.db.selectFrom('audit_events').select(['details', 'count']).where('action', '=', 'auth.refused').execute();
    // Counted per login tried, wrong passwords and throttled attempts alike (a once-a-second write
    // may split one login's count over two rows).
    const perLogin = new Map<string, number>();
    for (const r of refused) perLogin.set(JSON.parse(r.details!).login, (perLogin.get(JSON.parse(r.details!).login) ?? 0) + r.count);
    assert.deepEqual([...perLogin].sort(), [
      ['alice', 11],
      ['nobody', 1],
    ]);
    assert.ok(!JSON.stringify(refused).includes('nope'));
  });

  test('a reloaded console gets its user and the same CSRF token back from GET /v1/session', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const signIn = await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'alice', password: alice.password } });
    const cookie = String(signIn.headers['set-cookie']).split(';')[0]!;
    const again = await app.request({ method: 'GET', url: '/v1/session', headers: { cookie } });
    assert.equal(again.statusCode, 200, again.body);
    assert.equal(again.headers['cache-control'], 'no-store');
    assert.equal(again.json().user.login, 'alice');
    assert.equal(again.json().csrf_token, signIn.json().csrf_token);
    const write = await app.request({ method: 'POST', url: '/v1/projects', headers: { cookie, 'x-csrf-token': again.json().csrf_token }, payload: { vcs_type: 'gh', name: 'web' } });
    assert.equal(write.statusCode, 201, write.body);

    // Another session of the same user has its own token, which does not open this one.
    const other = await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'alice', password: alice.password } });
    assert.notEqual(other.json().csrf_token, signIn.json().csrf_token);
    const crossed = await app.request({ method: 'POST', url: '/v1/projects', headers: { cookie, 'x-csrf-token': other.json().csrf_token }, payload: { vcs_type: 'gh', name: 'api' } });
    assert.equal(crossed.statusCode, 403);

    // No session, or an ended one, is an ordinary answer: 200 with no user, and a stale cookie cleared.
    const none = await app.request({ method: 'GET', url: '/v1/session' });
    assert.equal(none.statusCode, 200);
    assert.deepEqual(none.json(), { user: null, csrf_token: null });
    assert.equal(none.headers['set-cookie'], undefined);
    await app.request({ method: 'DELETE', url: '/v1/session', headers: { cookie, 'x-csrf-token': signIn.json().csrf_token } });
    const ended = await app.request({ method: 'GET', url: '/v1/session', headers: { cookie } });
    assert.deepEqual(ended.json(), { user: null, csrf_token: null });
    assert.match(String(ended.headers['set-cookie']), /keysmith_session=; .*Max-Age=0/);
    // An API key is not a console session.
    const withKey = await app.request({ method: 'GET', url: '/v1/session', headers: { authorization: `Bearer ${alice.key}` } });
    assert.deepEqual(withKey.json(), { user: null, csrf_token: null });
  });

  test('a session whose stored CSRF token is not the derived one is no console session to GET /v1/session', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const signIn = await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'alice', password: alice.password } });
    const cookie = String(signIn.headers['set-cookie']).split(';')[0]!;
    // As a session made before tokens were derived: its stored token hash is of some other token.
    await app.services.db
      .updateTable('sessions')
      .set({ csrf_hash: 'ab'.repeat(32) })
      .execute();
    const res = await app.request({ method: 'GET', url: '/v1/session', headers: { cookie } });
    assert.deepEqual(res.json(), { user: null, csrf_token: null });
    assert.match(String(res.headers['set-cookie']), /keysmith_session=; .*Max-Age=0/);
  });

  test('sign-out ends the session', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const signIn = await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'alice', password: alice.password } });
    const cookie = String(signIn.headers['set-cookie']).split(';')[0]!;
    const out = await app.request({ method: 'DELETE', url: '/v1/session', headers: { cookie, 'x-csrf-token': signIn.json().csrf_token } });
    assert.equal(out.statusCode, 204);
    assert.match(String(out.headers['set-cookie']), /keysmith_session=; .*Max-Age=0/);
    const after = await app.request({ method: 'GET', url: '/v1/user', headers: { cookie } });
    assert.equal(after.statusCode, 401);
    assert.match(after.json().error.message, /session has ended/);
  });
});
