// The console in a real browser, part 1: signing in and out, and the signed-in user's own settings
// (API keys, SSH keys, Integrations). Every answer the page shows is checked against the API itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seed } from '../factories.ts';
import { appFor, bearer, forEachDatabase } from '../harness.ts';
import { keygenFingerprint, sshKeygen } from '../ssh-fixtures.ts';
import { openConsole, signIn } from './browser.ts';

forEachDatabase('console: sign-in and your settings', (kind) => {
  test('sign-in: a wrong password gets the server’s sentence; keyboard only works; a reload keeps the session; sign-out ends it', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    const ui = await openConsole(t, app, kind);
    const { page } = ui;

    // A console address opened signed out goes through sign-in and comes back.
    await page.goto('/settings/ssh-keys');
    await page.waitForURL(/\/sign-in\?next=%2Fsettings%2Fssh-keys$/);
    await page.getByRole('heading', { level: 1, name: 'Sign in to Keysmith' }).waitFor();
    await ui.checkPage('sign-in');

    ui.expectHttpError(401, '/v1/session');
    await page.getByLabel('Login').fill('alice');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const refusal = (await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'alice', password: 'wrong again' } })).json().error.message;
    await page.getByRole('alert').filter({ hasText: refusal }).waitFor();
    await ui.checkPage('sign-in-refused');

    // Keyboard only: the heading has focus, Tab reaches the login, then the password; Enter submits.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Sign in to Keysmith' }).waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'login');
    await page.keyboard.type('alice');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'password');
    await page.keyboard.type(alice.password);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'SSH keys' }).waitFor();
    assert.match(page.url(), /\/settings\/ssh-keys$/);

    // A reload asks GET /v1/session and stays signed in; a change made afterwards carries the CSRF token.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'SSH keys' }).waitFor();
    await page.getByRole('link', { name: 'Integrations' }).click();
    await page.getByLabel('Heroku API key').fill('heroku-after-reload-0000');
    await page.getByRole('button', { name: 'Save Heroku key' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved your Heroku API key.' }).waitFor();

    // The skip link is the first stop of the page, before the header, and moves focus to the content.
    await page.getByRole('link', { name: 'Keysmith' }).focus();
    await page.keyboard.press('Shift+Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');

    // A session that ends on the server (expired, or signed out elsewhere) sends the page to sign-in
    // with a plain notice, and back to where it was afterwards.
    await app.services.db.deleteFrom('sessions').execute();
    ui.expectHttpError(401, '/v1/user/api-keys');
    await page.getByRole('link', { name: 'API keys', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Your session has ended. Sign in again to go on.' }).waitFor();
    assert.match(page.url(), /\/sign-in\?next=%2Fsettings%2Fapi-keys$/);
    await signIn(ui, 'alice', alice.password);
    await page.getByRole('row', { name: /created by keysmith init/ }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/sign-in/);
    await page.getByRole('status').filter({ hasText: 'You are signed out.' }).waitFor();
    const sessions = await app.services.db.selectFrom('sessions').select('id_hash').execute();
    assert.equal(sessions.length, 0, 'the session is gone on the server too');
    await page.goto('/settings/api-keys');
    await page.waitForURL(/\/sign-in\?next=/);

    // Signing out of a session that already ended elsewhere still signs out.
    await signIn(ui, 'alice', alice.password);
    // The page has finished its own loading, so the one refusal is the sign-out's.
    await page.getByRole('row', { name: /created by keysmith init/ }).waitFor();
    await app.services.db.deleteFrom('sessions').execute();
    ui.expectHttpError(401, '/v1/session');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('status').filter({ hasText: 'You are signed out.' }).waitFor();

    // `next` only ever leads to a page of this console.
    for (const next of ['//evil.example/x', '/\\evil.example/x', '/\t/evil.example/x', 'https://evil.example/x']) {
      await page.goto(`/sign-in?next=${encodeURIComponent(next)}`);
      await signIn(ui, 'alice', alice.password);
      assert.equal(new URL(page.url()).origin, app.url, next);
      await page.getByRole('row', { name: /created by keysmith init/ }).waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('status').filter({ hasText: 'You are signed out.' }).waitFor();
    }
    await ui.finish();
  });

  test('API keys: create with expiry and scopes, the secret shown once and copied, listed, used, deleted', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    const ui = await openConsole(t, app, kind);
    const { page } = ui;
    await signIn(ui, 'alice', alice.password);
    await ui.checkPage('api-keys');

    await page.getByLabel('Name').fill('ci laptop');
    await page.getByLabel('Expires').selectOption({ label: 'In 30 days' });
    await page.getByLabel(/read:public_key/).check();
    await page.getByRole('button', { name: 'Create API key' }).click();
    const secretField = page.getByLabel('Your new API key');
    const secret = await secretField.inputValue();
    assert.match(secret, /^ksu_[0-9A-Za-z]{36}$/);
    await page.getByText('This is the only time Keysmith shows this key.').waitFor();
    await ui.checkPage('api-key-created');

    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByRole('status').filter({ hasText: 'Copied to the clipboard.' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);

    // The secret is a working key with the scope that was ticked.
    const used = await fetch(`${app.url}/api/v3/user/keys`, { headers: bearer(secret) });
    assert.equal(used.status, 200);
    assert.equal(used.headers.get('x-oauth-scopes'), 'read:public_key');

    await page.getByRole('button', { name: 'I have copied it' }).click();
    assert.ok(!(await page.content()).includes(secret), 'the secret leaves the page');
    const row = page.getByRole('row', { name: /ci laptop/ });
    const stored = (await app.request({ method: 'GET', url: '/v1/user/api-keys', headers: bearer(alice.key) })).json().find((k: { name: string }) => k.name === 'ci laptop');
    const days = (Date.parse(stored.expires_at) - Date.now()) / 86_400_000;
    assert.ok(days > 29.9 && days <= 30, `expires in 30 days (${stored.expires_at})`);
    await row
      .filter({ hasText: secret.slice(0, 8) })
      .filter({ hasText: 'read:public_key' })
      .waitFor();
    assert.equal(await row.locator('td[data-label="Expires"] time').getAttribute('datetime'), stored.expires_at);
    assert.equal(await row.locator('td[data-label="Last used"]').textContent(), 'Never');

    await app.services.flush();
    await page.reload();
    const lastUsed = await page
      .getByRole('row', { name: /ci laptop/ })
      .locator('td[data-label="Last used"] time')
      .getAttribute('datetime');
    assert.ok(lastUsed && Date.now() - Date.parse(lastUsed) < 120_000, `last used shows the recent use (${lastUsed})`);

    await page.getByRole('button', { name: 'Delete key ci laptop' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete the API key “ci laptop”?' });
    await dialog.waitFor();
    await ui.checkPage('api-key-delete-dialog');
    await dialog.getByRole('button', { name: 'Delete key' }).click();
    await page.getByRole('status').filter({ hasText: 'Deleted the API key “ci laptop”.' }).waitFor();
    await page.getByRole('row', { name: /ci laptop/ }).waitFor({ state: 'detached' });
    assert.equal(await page.getByRole('row').filter({ hasText: 'created by keysmith init' }).count(), 1, 'the other key stays');
    assert.equal((await fetch(`${app.url}/v1/user`, { headers: bearer(secret) })).status, 401, 'the deleted key no longer works');

    // A key that ends on a chosen date.
    await page.getByLabel('Name').fill('until new year');
    await page.getByLabel('Expires').selectOption({ label: 'On a date…' });
    await page.getByLabel(/Expiry date/).fill('2099-01-01');
    await page.getByRole('button', { name: 'Create API key' }).click();
    await page.getByRole('button', { name: 'I have copied it' }).click();
    assert.equal(
      await page
        .getByRole('row', { name: /until new year/ })
        .locator('td[data-label="Expires"] time')
        .getAttribute('datetime'),
      '2099-01-01T23:59:59.000Z',
    );

    // The delete dialog works from the keyboard: Escape cancels and gives focus back; Tab reaches the
    // confirm button and Enter presses it.
    const remaining = page.getByRole('button', { name: 'Delete key until new year' });
    await remaining.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Delete key until new year');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Delete key');
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Deleted the API key “until new year”.' }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('role')), 'status', 'focus moves to what happened');
    await ui.finish();
  });

  test('SSH keys: a refused paste shows the parser’s sentence (and a pasted private key is cleared); a key is added with ssh-keygen’s fingerprint and deleted', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    const ui = await openConsole(t, app, kind);
    const { page } = ui;
    await signIn(ui, 'alice', alice.password);
    await page.getByRole('link', { name: 'SSH keys' }).click();
    await page.getByText('No SSH keys yet.').waitFor();
    await ui.checkPage('ssh-keys-empty');

    const broken = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBroken';
    const parserSays = (await app.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bearer(alice.key), payload: { key: broken } })).json().error.message;
    ui.expectHttpError(422, '/v1/user/ssh-keys');
    await page.getByLabel('Public key').fill(broken);
    await page.getByRole('button', { name: 'Add SSH key' }).click();
    await page.getByRole('alert').filter({ hasText: parserSays }).waitFor();
    await ui.checkPage('ssh-key-refused');

    const pair = sshKeygen('ed25519', undefined, 'laptop@home');
    ui.expectHttpError(422, '/v1/user/ssh-keys');
    await page.getByLabel('Public key').fill(pair.privateKey);
    await page.getByRole('button', { name: 'Add SSH key' }).click();
    await page.getByRole('alert').filter({ hasText: '.pub' }).waitFor();
    assert.equal(await page.getByLabel('Public key').inputValue(), '', 'the private key is cleared from the page');

    await page.getByLabel('Public key').fill(pair.publicLine);
    await page.getByRole('button', { name: 'Add SSH key' }).click();
    const fingerprint = keygenFingerprint(pair.publicFile, 'sha256').fingerprint;
    await page.getByRole('status').filter({ hasText: fingerprint }).waitFor();
    await page
      .getByRole('row', { name: /laptop@home/ })
      .filter({ hasText: fingerprint })
      .waitFor();
    await ui.checkPage('ssh-keys-listed');
    const listed = (await app.request({ method: 'GET', url: '/v1/user/ssh-keys', headers: bearer(alice.key) })).json();
    assert.deepEqual(
      listed.map((k: { title: string; fingerprint_sha256: string }) => [k.title, k.fingerprint_sha256]),
      [['laptop@home', fingerprint]],
    );

    await page.getByRole('button', { name: 'Delete SSH key laptop@home' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete SSH key' }).click();
    await page.getByText('No SSH keys yet.').waitFor();
    assert.deepEqual((await app.request({ method: 'GET', url: '/v1/user/ssh-keys', headers: bearer(alice.key) })).json(), []);
    await ui.finish();
  });

  test('Integrations: the Heroku key is set, shown only as its last 4 characters, and removed', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    const ui = await openConsole(t, app, kind);
    const { page } = ui;
    await signIn(ui, 'alice', alice.password);
    await page.getByRole('link', { name: 'Integrations' }).click();
    await page.getByText('No Heroku API key is stored.').waitFor();
    await ui.checkPage('integrations-empty');

    const herokuKey = 'c0ffee00-1234-4bad-8d00-5eed0000abcd';
    await page.getByLabel('Heroku API key').fill(herokuKey);
    await page.getByRole('button', { name: 'Save Heroku key' }).click();
    await page.getByText('A Heroku API key ending in abcd is stored.').waitFor();
    assert.equal(await page.getByLabel('Replace with a new Heroku API key').inputValue(), '', 'the key leaves the form');
    assert.ok(!(await page.content()).includes(herokuKey), 'the key is not on the page');
    assert.deepEqual((await app.request({ method: 'GET', url: '/v1/user/integrations/heroku', headers: bearer(alice.key) })).json(), { configured: true, last4: 'abcd' });
    await ui.checkPage('integrations-set');

    await page.getByRole('button', { name: 'Remove Heroku API key' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove Heroku key' }).click();
    await page.getByText('No Heroku API key is stored.').waitFor();
    assert.equal((await app.request({ method: 'GET', url: '/v1/user/integrations/heroku', headers: bearer(alice.key) })).json().configured, false);
    await ui.finish();
  });
});
