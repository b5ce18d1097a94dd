// The console's site-admin area in a real browser: a site admin creates a user, who sets a password
// from the one-time link and signs in; disabling a user cuts off their session, API key and user
// checkout key at once and enabling brings them back; a non-admin is offered no admin area and is
// told why at its address. Every answer the page shows is checked against the API itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addProject, addServiceKey, seed } from '../factories.ts';
import { appFor, bearer, forEachDatabase, testClock } from '../harness.ts';
import { openConsole, signIn } from './browser.ts';
import { userWithPassword } from './users.ts';

const BOB_PASSWORD = 'bob chose a long passphrase';

forEachDatabase('console: site admin, users', (kind) => {
  test('a site admin creates a user and copies the set-password link; the user sets a password from it and signs in; the link works once', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    const ui = await openConsole(t, app, `${kind}-admin`);
    const { page } = ui;
    await signIn(ui, 'alice', alice.password);

    const admin = page.getByRole('navigation', { name: 'Settings' });
    await admin.getByRole('heading', { name: 'Site administration' }).waitFor();
    await admin.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    await page.getByRole('row', { name: /alice/ }).filter({ hasText: 'site admin' }).waitFor();
    await ui.checkPage('admin-users');

    await page.getByLabel('Login', { exact: true }).fill('bob');
    await page.getByLabel('Name (optional)').fill('Bob Builder');
    await page.getByLabel('Email (optional)').fill('bob@example.com');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('heading', { name: 'Set-password link for bob' }).waitFor();
    const link = await page.getByRole('textbox', { name: 'Set-password link' }).inputValue();
    assert.match(link, new RegExp(`^${app.url}/set-password\\?token=[^&\\s]+$`));
    const expires = await page.getByRole('region', { name: 'Set-password link for bob' }).locator('time').getAttribute('datetime');
    const hours = (Date.parse(expires ?? '') - Date.now()) / 3_600_000;
    assert.ok(hours > 23.9 && hours <= 24, `the link is valid 24 h (${expires})`);
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByRole('status').filter({ hasText: 'Copied to the clipboard.' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link);
    await ui.checkPage('admin-user-created');

    // The list and the API agree on the new user.
    const bob = (await app.request({ method: 'GET', url: '/v1/admin/users/bob', headers: bearer(alice.key) })).json();
    assert.deepEqual([bob.name, bob.email, bob.site_admin, bob.disabled, bob.has_password], ['Bob Builder', 'bob@example.com', false, false, false]);
    await page.getByRole('row', { name: /bob/ }).filter({ hasText: 'no password yet' }).filter({ hasText: 'bob@example.com' }).waitFor();
    await page.getByRole('button', { name: 'Done' }).click();
    assert.ok(!(await page.content()).includes(link), 'the link leaves the page');

    // The filter narrows the list by the start of the login, and lives in the address.
    await page.getByLabel('Login starts with').fill('bo');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/\/admin\/users\?login=bo$/);
    await page.getByText('Page 1 of 1 (1 in all)').waitFor();
    assert.equal(await page.locator('tbody tr').count(), 1);

    // ?create= opens the form filled in (the members page links here for an unknown login).
    await page.goto('/admin/users?create=carol');
    await page.getByText('There is no user carol yet.').waitFor();
    assert.equal(await page.getByLabel('Login', { exact: true }).inputValue(), 'carol');
    await ui.finish();

    // Bob, signed out in a browser of his own, opens the link.
    const asBob = await openConsole(t, app, `${kind}-set-password`);
    await asBob.page.goto(link);
    await asBob.page.getByRole('heading', { level: 1, name: 'Set a password for bob' }).waitFor();
    await asBob.checkPage('set-password');
    await asBob.page.getByLabel('New password', { exact: true }).fill(BOB_PASSWORD);
    await asBob.page.getByLabel('New password again').fill(BOB_PASSWORD);
    await asBob.page.getByRole('button', { name: 'Set password' }).click();
    await asBob.page.getByRole('status').filter({ hasText: 'Your password is set. Sign in as bob with it.' }).waitFor();
    assert.match(asBob.page.url(), /\/sign-in$/);
    assert.equal(await asBob.page.getByLabel('Login').inputValue(), 'bob', 'the login is filled in');
    await signIn(asBob, 'bob', BOB_PASSWORD);
    assert.equal((await app.request({ method: 'GET', url: '/v1/admin/users/bob', headers: bearer(alice.key) })).json().has_password, true);

    // The link was used up: opened again, it gets the server's sentence.
    const used = await app.request({ method: 'POST', url: '/v1/set-password/check', payload: { token: new URL(link).searchParams.get('token') } });
    assert.equal(used.statusCode, 400);
    asBob.expectHttpError(400, '/v1/set-password/check');
    await asBob.page.goto(link);
    await asBob.page.getByRole('alert').filter({ hasText: used.json().error.message }).waitFor();
    assert.equal(await asBob.page.getByLabel('New password', { exact: true }).count(), 0, 'no form for a used link');
    await asBob.finish();
  });

  test('disable cuts off the session, the API key and the user checkout key at once; enable brings them back', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    const bob = await userWithPassword(app, alice.key, 'bob', BOB_PASSWORD);
    assert.equal((await app.request({ method: 'PUT', url: '/v1/accounts/acme/members/bob', headers: bearer(alice.key), payload: { role: 'read_write' } })).statusCode, 201);
    await addProject(app, alice.key, 'acme', 'web');
    assert.equal((await app.request({ method: 'PUT', url: '/v1/user/grants/write:public_key', headers: bearer(bob.key) })).statusCode, 200);
    const checkout = await app.request({ method: 'POST', url: '/v1/projects/gh/acme/web/checkout-keys', headers: bearer(bob.key), payload: { type: 'user' } });
    assert.equal(checkout.statusCode, 201, checkout.body);
    const bobsCheckoutKey = checkout.json().fingerprint_sha256 as string;
    const runner = await addServiceKey(app, alice.key, 'acme', 'runner');
    const credentials = async () => {
      const res = await fetch(`${app.url}/v1/projects/gh/acme/web/checkout-credentials`, { headers: bearer(runner.key) });
      return res.ok ? ((await res.json()) as { checkout_key: { fingerprint_sha256: string } | null }).checkout_key?.fingerprint_sha256 : `HTTP ${res.status}`;
    };
    const bobsKeyStatus = async () => (await fetch(`${app.url}/v1/user`, { headers: bearer(bob.key) })).status;
    assert.equal(await credentials(), bobsCheckoutKey, "the runner gets bob's user key");
    assert.equal(await bobsKeyStatus(), 200);

    // Bob is signed in to the console in his own browser.
    const asBob = await openConsole(t, app, `${kind}-disabled`);
    await signIn(asBob, 'bob', BOB_PASSWORD);

    const ui = await openConsole(t, app, `${kind}-disable`);
    const { page } = ui;
    await signIn(ui, 'alice', alice.password);
    await page.goto('/admin/users');
    await page.getByRole('link', { name: 'bob', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'User bob' }).waitFor();
    await ui.checkPage('admin-user');
    await page.getByRole('button', { name: 'Disable user bob' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Disable user' }).click();
    await page.getByRole('status').filter({ hasText: 'Disabled bob' }).waitFor();
    await page.getByText('disabled', { exact: true }).waitFor();
    assert.equal((await app.request({ method: 'GET', url: '/v1/admin/users/bob', headers: bearer(alice.key) })).json().disabled, true);
    await ui.checkPage('admin-user-disabled');

    // Every credential of bob's stops at once: the key over HTTP, the checkout key for the runner, the session.
    assert.ok([401, 403].includes(await bobsKeyStatus()), 'the API key is refused');
    assert.notEqual(await credentials(), bobsCheckoutKey, "the runner no longer gets bob's user key");
    // Bob's open page is told at his next click; a reload finds him signed out.
    asBob.expectHttpError(403, '/v1/user/ssh-keys');
    await asBob.page.getByRole('link', { name: 'SSH keys' }).click();
    await asBob.page.getByRole('alert').filter({ hasText: 'The user bob is disabled' }).waitFor();
    await asBob.page.reload();
    await asBob.page.getByRole('heading', { level: 1, name: 'Sign in to Keysmith' }).waitFor();
    const refusal = await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'bob', password: BOB_PASSWORD } });
    assert.ok(refusal.statusCode >= 400 && refusal.statusCode < 500, refusal.body);
    assert.match(refusal.json().error.message, /disabled/);
    asBob.expectHttpError(refusal.statusCode, '/v1/session');
    await asBob.page.getByLabel('Login').fill('bob');
    await asBob.page.getByLabel('Password').fill(BOB_PASSWORD);
    await asBob.page.getByRole('button', { name: 'Sign in' }).click();
    await asBob.page.getByRole('alert').filter({ hasText: refusal.json().error.message }).waitFor();
    await asBob.checkPage('sign-in-disabled');

    // Enabled again: everything comes back, nothing was deleted.
    await page.getByRole('button', { name: 'Enable user' }).click();
    await page.getByRole('status').filter({ hasText: 'Enabled bob' }).waitFor();
    assert.equal(await bobsKeyStatus(), 200);
    assert.equal(await credentials(), bobsCheckoutKey);
    // Back to the page he was on when he was let go.
    await signIn(asBob, 'bob', BOB_PASSWORD, 'SSH keys');
    await ui.finish();
    await asBob.finish();
  });

  test('site-admin actions: make and remove admin, the last site admin refused with its sentence, a new link, clear the throttle, delete', async (t) => {
    // A clock that stands still, so a throttle's wait cannot run out while the test looks at it.
    const app = await appFor(t, kind, { listen: true, clock: testClock(new Date()) });
    const alice = await seed(app);
    await userWithPassword(app, alice.key, 'bob', BOB_PASSWORD);
    const ui = await openConsole(t, app, `${kind}-actions`);
    const { page } = ui;
    await signIn(ui, 'alice', alice.password);

    await page.goto('/admin/users/bob');
    await page.getByRole('button', { name: 'Make site admin' }).click();
    await page.getByRole('status').filter({ hasText: 'bob is now a site admin.' }).waitFor();
    assert.equal((await app.request({ method: 'GET', url: '/v1/admin/users/bob', headers: bearer(alice.key) })).json().site_admin, true);
    await page.getByRole('button', { name: 'Remove site admin' }).click();
    await page.getByRole('status').filter({ hasText: 'bob is no longer a site admin.' }).waitFor();
    assert.equal((await app.request({ method: 'GET', url: '/v1/admin/users/bob', headers: bearer(alice.key) })).json().site_admin, false);

    // Alice is now the only site admin: demoting her is refused, and the page says why.
    await page.goto('/admin/users/alice');
    await page.getByRole('heading', { level: 1, name: 'User alice' }).waitFor();
    const last = await app.request({ method: 'PATCH', url: '/v1/admin/users/alice', headers: bearer(alice.key), payload: { site_admin: false } });
    assert.equal(last.statusCode, 409, last.body);
    ui.expectHttpError(409, '/v1/admin/users/alice');
    await page.getByRole('button', { name: 'Remove site admin' }).click();
    await page.getByRole('alert').filter({ hasText: last.json().error.message }).waitFor();
    await ui.checkPage('admin-last-site-admin');

    // A new set-password link for bob voids the older one.
    await page.goto('/admin/users/bob');
    await page.getByRole('button', { name: 'New set-password link' }).click();
    const first = await page.getByRole('textbox', { name: 'Set-password link' }).inputValue();
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('button', { name: 'New set-password link' }).click();
    const second = await page.getByRole('textbox', { name: 'Set-password link' }).inputValue();
    assert.notEqual(first, second);
    const check = (url: string) => app.request({ method: 'POST', url: '/v1/set-password/check', payload: { token: new URL(url).searchParams.get('token') } });
    assert.equal((await check(first)).statusCode, 400, 'the older link is void');
    assert.equal((await check(second)).json().login, 'bob');
    await page.getByRole('button', { name: 'Done' }).click();

    // Throttled by wrong passwords, bob is let in again at once once the throttle is cleared.
    for (let i = 0; i < 6; i++) await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'bob', password: 'wrong' } });
    assert.equal((await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'bob', password: BOB_PASSWORD } })).statusCode, 429);
    await page.getByRole('button', { name: 'Clear sign-in throttle' }).click();
    await page.getByRole('status').filter({ hasText: 'Cleared the sign-in throttle of bob' }).waitFor();
    assert.equal((await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'bob', password: BOB_PASSWORD } })).statusCode, 200);

    await page.getByRole('button', { name: 'Delete user bob' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete user' }).click();
    await page.getByRole('status').filter({ hasText: 'Deleted the user bob.' }).waitFor();
    await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    assert.equal((await app.request({ method: 'GET', url: '/v1/admin/users/bob', headers: bearer(alice.key) })).statusCode, 404);
    assert.equal(await page.getByRole('link', { name: 'bob', exact: true }).count(), 0);
    await ui.finish();
  });

  test('a user who is not a site admin is offered no admin area, and /admin/users tells them why', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    const bob = await userWithPassword(app, alice.key, 'bob', BOB_PASSWORD);
    const ui = await openConsole(t, app, `${kind}-not-admin`);
    const { page } = ui;
    await signIn(ui, 'bob', BOB_PASSWORD);
    const menu = page.getByRole('navigation', { name: 'Settings' });
    await menu.getByRole('link', { name: 'Create an account' }).waitFor();
    assert.equal(await menu.getByRole('heading', { name: 'Site administration' }).count(), 0);
    for (const hidden of ['Users', 'Site audit log']) assert.equal(await menu.getByRole('link', { name: hidden }).count(), 0, hidden);

    const refused = await app.request({ method: 'GET', url: '/v1/admin/users', headers: bearer(bob.key) });
    assert.equal(refused.statusCode, 403);
    ui.expectHttpError(403, '/v1/admin/users');
    await page.goto('/admin/users');
    await page.getByRole('alert').filter({ hasText: refused.json().error.message }).waitFor();
    assert.equal(await page.getByRole('table').count(), 0);
    await ui.checkPage('admin-users-refused');
    await ui.finish();
  });
});
