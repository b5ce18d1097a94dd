// Creating an account in the console: a user who belongs to none is led to the Accounts page, creates
// one and is its owner; a name the server refuses gets its sentence. The frame links to the API docs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seed } from '../factories.ts';
import { appFor, bearer, forEachDatabase } from '../harness.ts';
import { openConsole, signIn } from './browser.ts';
import { userWithPassword } from './users.ts';

forEachDatabase('console: creating an account', (kind) => {
  test('a user with no account creates one from the menu and owns it; a taken name gets the server’s sentence', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    const bob = await userWithPassword(app, alice.key, 'bob', 'bob chose a long passphrase');
    const ui = await openConsole(t, app, `${kind}-accounts`);
    const { page } = ui;
    await signIn(ui, 'bob', bob.password);
    assert.equal(await page.getByRole('link', { name: 'API docs' }).getAttribute('href'), '/docs');

    // With no account, the accounts address leads to the page that creates one.
    await page.goto('/accounts');
    await page.getByRole('heading', { level: 1, name: 'Accounts' }).waitFor();
    await page.getByText('You do not belong to any account yet. Create one below').waitFor();
    await ui.checkPage('accounts-none');

    const taken = await app.request({ method: 'POST', url: '/v1/accounts', headers: bearer(bob.key), payload: { name: 'acme' } });
    assert.equal(taken.statusCode, 409, taken.body);
    ui.expectHttpError(409, '/v1/accounts');
    await page.getByLabel('Account name').fill('acme');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('alert').filter({ hasText: taken.json().error.message }).waitFor();

    await page.getByLabel('Account name').fill('bobco');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { level: 1, name: 'Members of bobco' }).waitFor();
    await page.getByText('Your role here: owner').waitFor();
    const mine = (await app.request({ method: 'GET', url: '/v1/accounts', headers: bearer(bob.key) })).json();
    assert.deepEqual(
      mine.map((a: { name: string; role: string }) => [a.name, a.role]),
      [['bobco', 'owner']],
    );

    // The menu's link leads back to the list, which now holds it.
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByRole('row', { name: /bobco/ }).filter({ hasText: 'owner' }).waitFor();
    await ui.checkPage('accounts');
    await ui.finish();
  });
});
