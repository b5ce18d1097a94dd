// The console and sign-in security in a real browser: an attacker's ten wrong passwords from one
// address do not lock the real user out of the console from another, and both the site admin (Site
// audit log) and the user (Security log) see the refused sign-ins with their address and count;
// changing your password; a set-password link that is not valid.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { seed } from '../factories.ts';
import { appFor, bearer, forEachDatabase, testClock, type TestApp } from '../harness.ts';
import { openConsole, signIn } from './browser.ts';
import { userWithPassword } from './users.ts';

const ATTACKER = '127.0.0.2';

/** POST /v1/session over a real socket bound to `localAddress`, so the server sees that address. */
function signInFrom(app: TestApp, localAddress: string, login: string, password: string): Promise<number> {
  const url = new URL('/v1/session', app.url);
  const body = JSON.stringify({ login, password });
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', localAddress, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', reject);
    request.end(body);
  });
}

type Event = { count: number; remote_addr: string | null; details: { reason?: string; login?: string } | null };

forEachDatabase('console: sign-in security', (kind) => {
  test('ten wrong passwords from another address do not stop the real user; the site audit log and the security log show them', async (t) => {
    // A clock that stands still: the guessing address's wait cannot run out between two guesses.
    const app = await appFor(t, kind, { listen: true, clock: testClock(new Date()) });
    const alice = await seed(app);
    const bob = await userWithPassword(app, alice.key, 'bob', 'bob chose a long passphrase');

    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push(await signInFrom(app, ATTACKER, 'bob', `guess number ${i}`));
    // Five free failures, then the address must wait (and a refused attempt does not add to the count).
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429, 429, 429, 429]);

    // Bob, from his own address, signs in at once.
    const asBob = await openConsole(t, app, `${kind}-throttle-user`);
    await signIn(asBob, 'bob', bob.password);
    await app.services.flush();

    const refusals = ((await app.request({ method: 'GET', url: '/v1/admin/audit-events?action=auth.refused', headers: bearer(alice.key) })).json() as Event[]).filter(
      (e) => e.remote_addr === ATTACKER,
    );
    assert.equal(
      refusals.reduce((n, e) => n + e.count, 0),
      10,
      'ten refusals from the attacker are on record',
    );
    assert.ok(refusals.every((e) => e.details?.login === 'bob'));

    // The site admin sees them in the site audit log, with the address and how many times.
    const ui = await openConsole(t, app, `${kind}-throttle-admin`);
    const { page } = ui;
    await signIn(ui, 'alice', alice.password);
    await page.getByRole('link', { name: 'Site audit log' }).click();
    await page.getByRole('heading', { level: 1, name: 'Site audit log' }).waitFor();
    await page.getByLabel('Action').selectOption('auth.refused');
    await page.waitForURL(/\/admin\/audit-log\?action=auth\.refused$/);
    // The filtered list, not the unfiltered one it replaces.
    const rows = page.getByRole('table', { name: /: auth\.refused$/ }).locator('tbody tr', { hasText: ATTACKER });
    await rows.first().waitFor();
    assert.equal(await rows.count(), refusals.length);
    for (const [i, e] of refusals.entries()) {
      const text = (await rows.nth(i).textContent()) ?? '';
      assert.match(text, /Refused sign-in as bob/);
      if (e.count > 1) assert.match(text, new RegExp(`${e.count} times`));
    }
    await ui.checkPage('site-audit-log');
    await ui.finish();

    // Bob sees the same refusals in his security log.
    await asBob.page.getByRole('link', { name: 'Security log' }).click();
    await asBob.page.getByRole('heading', { level: 1, name: 'Your security log' }).waitFor();
    await asBob.page
      .getByRole('row', { name: /session\.create/ })
      .first()
      .waitFor();
    await asBob.page.getByLabel('Action').selectOption('auth.refused');
    const own = asBob.page.getByRole('table', { name: /: auth\.refused$/ }).locator('tbody tr', { hasText: ATTACKER });
    await own.first().waitFor();
    assert.equal(await own.count(), refusals.length);
    assert.match((await own.first().textContent()) ?? '', /Refused sign-in as bob/);
    await asBob.checkPage('security-log');
    await asBob.finish();
  });

  test('change password: the current one is checked, the other sessions end, the new one signs in', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    const other = await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'alice', password: alice.password } });
    const otherCookie = String(other.headers['set-cookie']).split(';')[0]!;
    const ui = await openConsole(t, app, `${kind}-password`);
    const { page } = ui;
    await signIn(ui, 'alice', alice.password);
    await page.getByRole('link', { name: 'Password' }).click();
    await page.getByRole('heading', { level: 1, name: 'Password' }).waitFor();
    await ui.checkPage('password');

    const newPassword = 'a new and longer passphrase';
    const wrong = await app.request({ method: 'PUT', url: '/v1/user/password', headers: bearer(alice.key), payload: { current_password: 'not it at all', new_password: newPassword } });
    assert.equal(wrong.statusCode, 403, wrong.body);
    ui.expectHttpError(403, '/v1/user/password');
    await page.getByLabel('Current password').fill('not it at all');
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByLabel('New password again').fill(newPassword);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('alert').filter({ hasText: wrong.json().error.message }).waitFor();

    // Two different new passwords are caught before anything is sent.
    await page.getByLabel('Current password').fill(alice.password);
    await page.getByLabel('New password again').fill(`${newPassword}!`);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('alert').filter({ hasText: 'The two passwords are not the same.' }).waitFor();

    await page.getByLabel('New password again').fill(newPassword);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('status').filter({ hasText: 'Your password is changed.' }).waitFor();
    assert.equal(await page.getByLabel('Current password').inputValue(), '', 'the form is emptied');

    // This session goes on; the other one ended; the old password no longer signs in, the new one does.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Password' }).waitFor();
    assert.equal((await app.request({ method: 'GET', url: '/v1/session', headers: { cookie: otherCookie } })).json().user, null);
    assert.equal((await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'alice', password: alice.password } })).statusCode, 401);
    assert.equal((await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'alice', password: newPassword } })).statusCode, 200);
    await ui.finish();
  });

  test('a set-password link that is unknown says so in the server’s sentence and offers sign-in', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const ui = await openConsole(t, app, `${kind}-bad-link`);
    const { page } = ui;
    const refused = await app.request({ method: 'POST', url: '/v1/set-password/check', payload: { token: 'no-such-token' } });
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.json().error.code, 'reset_link_invalid');
    ui.expectHttpError(400, '/v1/set-password/check');
    await page.goto('/set-password?token=no-such-token');
    await page.getByRole('alert').filter({ hasText: refused.json().error.message }).waitFor();
    assert.equal(await page.getByLabel('New password', { exact: true }).count(), 0);
    await ui.checkPage('set-password-invalid');
    await page.getByRole('link', { name: 'Go to sign-in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in to Keysmith' }).waitFor();
    await ui.finish();
  });
});
