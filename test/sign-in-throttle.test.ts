// Sign-in throttling: per address and per login, with growing delays that never lock the owner out
// from elsewhere; a site admin's clear; every refusal audited with the login tried, never the password.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { delayFor, THROTTLE } from '../src/modules/sessions/sign-in-limiter.ts';
import { addUser, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase, testClock, type TestApp } from './harness.ts';

const WRONG = 'wrong-password-4c1b';

const signIn = (app: TestApp, login: string, password: string, remoteAddress = '127.0.0.1') => app.request({ method: 'POST', url: '/v1/session', remoteAddress, payload: { login, password } });

/** Fails `n` times from `address`, waiting out each Retry-After so every attempt is a real failure. */
async function failTimes(app: TestApp, clock: ReturnType<typeof testClock>, n: number, address: string, login = 'alice') {
  for (let i = 0; i < n; i++) {
    let res = await signIn(app, login, WRONG, address);
    if (res.statusCode === 429) {
      clock.advance(Number(res.headers['retry-after']) * 1000);
      res = await signIn(app, login, WRONG, address);
    }
    assert.equal(res.statusCode, 401, res.body);
  }
}

test('the delays double from the first one up to each cap', () => {
  assert.equal(delayFor(THROTTLE.address, THROTTLE.address.freeFailures - 1), 0);
  assert.equal(delayFor(THROTTLE.address, THROTTLE.address.freeFailures), 1_000);
  assert.equal(delayFor(THROTTLE.address, THROTTLE.address.freeFailures + 3), 8_000);
  assert.equal(delayFor(THROTTLE.address, THROTTLE.address.freeFailures + 100), 15 * 60_000);
  assert.equal(delayFor(THROTTLE.login, THROTTLE.login.freeFailures - 1), 0);
  assert.equal(delayFor(THROTTLE.login, THROTTLE.login.freeFailures + 100), 60_000);
});

forEachDatabase('sign-in throttling', (kind) => {
  test('ten wrong passwords from one address do not stop the owner signing in from another', async (t) => {
    const clock = testClock();
    const app = await appFor(t, kind, { clock });
    const alice = await seed(app);
    await failTimes(app, clock, 10, '127.0.0.2');
    // The attacker's address is held back now, the owner's is not.
    const attacker = await signIn(app, 'alice', alice.password, '127.0.0.2');
    assert.equal(attacker.statusCode, 429, attacker.body);
    assert.equal(attacker.json().error.code, 'rate_limited');
    assert.match(attacker.json().error.message, /^Too many failed sign-ins from your address; try again in \d+ (seconds?|minutes)\.$/);
    assert.ok(Number(attacker.headers['retry-after']) >= 1);
    const owner = await signIn(app, 'alice', alice.password, '127.0.0.1');
    assert.equal(owner.statusCode, 200, owner.body);
    assert.equal(owner.json().user.login, 'alice');
  });

  test('Retry-After grows with each failure past the free ones, and the wait ends when it says', async (t) => {
    const clock = testClock();
    const app = await appFor(t, kind, { clock });
    const alice = await seed(app);
    await failTimes(app, clock, THROTTLE.address.freeFailures, '127.0.0.2');
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const held = await signIn(app, 'alice', WRONG, '127.0.0.2');
      assert.equal(held.statusCode, 429, held.body);
      const seconds = Number(held.headers['retry-after']);
      assert.equal(held.json().error.retry_after_seconds ?? seconds, seconds);
      waits.push(seconds);
      // A second short of the wait it is still refused; at the wait it is let through (and fails again).
      clock.advance((seconds - 1) * 1000);
      assert.equal((await signIn(app, 'alice', WRONG, '127.0.0.2')).statusCode, 429);
      clock.advance(1000);
      assert.equal((await signIn(app, 'alice', WRONG, '127.0.0.2')).statusCode, 401);
    }
    assert.deepEqual(waits, [1, 2, 4, 8]);
    // Once the wait has passed the right password works from that address too.
    clock.advance(16_000);
    assert.equal((await signIn(app, 'alice', alice.password, '127.0.0.2')).statusCode, 200);
  });

  test('a login failed from many addresses is only delayed, for at most a minute, and a success forgives its own address', async (t) => {
    const clock = testClock();
    const app = await appFor(t, kind, { clock });
    const alice = await seed(app);
    // The owner's own typos from their address are forgiven by their success there.
    await failTimes(app, clock, 4, '127.0.0.1');
    assert.equal((await signIn(app, 'alice', alice.password, '127.0.0.1')).statusCode, 200);
    await failTimes(app, clock, 4, '127.0.0.1');
    assert.equal((await signIn(app, 'alice', alice.password, '127.0.0.1')).statusCode, 200, 'four and four more is not eight at that address');
    // Four failures from each of eight addresses: no address reaches its own limit, the login passes its.
    for (let a = 0; a < 8; a++) await failTimes(app, clock, 4, `10.0.0.${a + 1}`);
    const held = await signIn(app, 'alice', alice.password, '127.0.0.1');
    assert.equal(held.statusCode, 429, held.body);
    assert.match(held.json().error.message, /^Too many failed sign-ins for alice; try again in \d+ seconds?\.$/);
    const seconds = Number(held.headers['retry-after']);
    assert.ok(seconds >= 1 && seconds <= THROTTLE.login.maxDelayMs / 1000, `at most the login cap: ${seconds}`);
    clock.advance(seconds * 1000);
    assert.equal((await signIn(app, 'alice', alice.password, '127.0.0.1')).statusCode, 200);
  });

  test('a site admin clears a login’s throttle, audited; anyone else is refused', async (t) => {
    const clock = testClock();
    const app = await appFor(t, kind, { clock });
    const alice = await seed(app);
    const bob = await addUser(app, 'bob');
    for (let a = 0; a < 6; a++) await failTimes(app, clock, 4, `10.0.1.${a + 1}`);
    assert.equal((await signIn(app, 'alice', alice.password)).statusCode, 429);

    const refused = await app.request({ method: 'DELETE', url: '/v1/admin/users/alice/sign-in-throttle', headers: bearer(bob.key) });
    assert.equal(refused.statusCode, 403, refused.body);
    assert.equal(refused.json().error.code, 'site_admin_required');
    assert.equal((await signIn(app, 'alice', alice.password)).statusCode, 429, 'still throttled');

    const unknown = await app.request({ method: 'DELETE', url: '/v1/admin/users/nobody/sign-in-throttle', headers: bearer(alice.key) });
    assert.equal(unknown.statusCode, 404, unknown.body);
    const tooLong = await app.request({ method: 'DELETE', url: `/v1/admin/users/${'a'.repeat(40)}/sign-in-throttle`, headers: bearer(alice.key) });
    assert.equal(tooLong.statusCode, 400, tooLong.body);

    const cleared = await app.request({ method: 'DELETE', url: '/v1/admin/users/ALICE/sign-in-throttle', headers: bearer(alice.key) });
    assert.equal(cleared.statusCode, 204, cleared.body);
    assert.equal((await signIn(app, 'alice', alice.password)).statusCode, 200);

    const rows = await app.services.db.selectFrom('audit_events').selectAll().where('action', '=', 'sign_in_throttle.clear').execute();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.target_label, 'alice');
    assert.equal(rows[0]!.actor_label, 'alice');
  });

  test('every refused sign-in is audited with the login tried, and the password appears in no audit row or log line', async (t) => {
    const clock = testClock();
    const app = await appFor(t, kind, { clock });
    await seed(app);
    for (let i = 0; i < THROTTLE.address.freeFailures + 2; i++) await signIn(app, 'alice', WRONG, '127.0.0.2');
    await app.services.flush();
    const refused = await app.services.db.selectFrom('audit_events').select(['details', 'count']).where('action', '=', 'auth.refused').execute();
    const byReason = new Map<string, number>();
    for (const r of refused) {
      const details = JSON.parse(r.details!) as { reason: string; login: string };
      assert.equal(details.login, 'alice');
      byReason.set(details.reason, (byReason.get(details.reason) ?? 0) + r.count);
    }
    assert.deepEqual([...byReason].sort(), [
      ['sign_in_throttled', 2],
      ['wrong_login_or_password', THROTTLE.address.freeFailures],
    ]);
    const everything = JSON.stringify(await app.services.db.selectFrom('audit_events').selectAll().execute());
    assert.ok(!everything.includes(WRONG), 'no password in the audit table');
    assert.ok(app.logs.length > 0);
    assert.ok(!app.logs.join('\n').includes(WRONG), 'no password in the logs');
  });
});
