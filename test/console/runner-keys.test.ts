// The console's service-key page for runner keys: an owner limits a new runner key to picked projects
// and sees which projects' private keys each runner key can read; an admin is not offered the role.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addProject, seed } from '../factories.ts';
import { appFor, bearer, forEachDatabase } from '../harness.ts';
import { openConsole, signIn } from './browser.ts';

forEachDatabase('console: runner keys', (kind) => {
  test('an owner creates a runner key limited to one project; the page says what each runner reads; an admin is not offered runner', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme', 'web');
    await addProject(app, alice.key, 'acme', 'api');
    const password = 'bob has a long password';
    assert.equal((await app.request({ method: 'POST', url: '/v1/admin/users', headers: bearer(alice.key), payload: { login: 'bob', password } })).statusCode, 201);
    assert.equal((await app.request({ method: 'PUT', url: '/v1/accounts/acme/members/bob', headers: bearer(alice.key), payload: { role: 'admin' } })).statusCode, 201);

    const ui = await openConsole(t, app, `${kind}-runner`);
    const { page } = ui;
    await signIn(ui, 'alice', alice.password);
    await page.goto('/accounts/acme/service-keys');
    await page.getByRole('heading', { level: 1, name: 'Service API keys of acme' }).waitFor();
    await page.getByLabel('Name').fill('web runner');
    await page.getByLabel('Role', { exact: true }).selectOption('runner');
    await page.getByLabel('Only the projects ticked below').check();
    await page.getByLabel('gh/acme/web').check();
    await ui.checkPage('runner-key-form');
    await page.getByRole('button', { name: 'Create API key' }).click();
    const secret = await page.getByLabel('Your new API key').inputValue();
    const list = page.getByRole('list', { name: /Runner keys of acme/ });
    await list.getByText('gh/acme/web').waitFor();
    assert.match(await list.innerText(), /web runner: gh\/acme\/web/);
    await ui.checkPage('runner-key-listed');

    // What the page says is what the server does.
    const keys = (await app.request({ method: 'GET', url: '/v1/service-api-keys', headers: { ...bearer(alice.key), 'x-keysmith-account': 'acme' } })).json() as Array<{
      name: string;
      projects: string[] | null;
    }>;
    assert.deepEqual(keys.find((k) => k.name === 'web runner')?.projects, ['gh/acme/web']);
    assert.equal((await app.request({ method: 'GET', url: '/v1/projects/gh/acme/api/checkout-credentials', headers: bearer(secret) })).statusCode, 404);
    assert.equal((await app.request({ method: 'GET', url: '/v1/projects/gh/acme/web/checkout-credentials', headers: bearer(secret) })).statusCode, 200);
    await ui.finish();

    const asBob = await openConsole(t, app, `${kind}-runner-admin`);
    await signIn(asBob, 'bob', password);
    await asBob.page.goto('/accounts/acme/service-keys');
    await asBob.page.getByRole('heading', { level: 1, name: 'Service API keys of acme' }).waitFor();
    const roles = await asBob.page.getByLabel('Role', { exact: true }).locator('option').allInnerTexts();
    assert.ok(roles.length >= 3, roles.join(', '));
    assert.ok(!roles.some((r) => /runner/i.test(r)), `an admin is offered ${roles.join(', ')}`);
    await asBob.page
      .getByRole('list', { name: /Runner keys of acme/ })
      .getByText('web runner')
      .waitFor();
    await asBob.finish();
  });
});
