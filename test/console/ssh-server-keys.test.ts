// The console's service-key page offers the ssh_server role with a sentence on what it is for; an
// admin may create one (it reads no private key), and the key it shows is one an SSH server can use.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seed } from '../factories.ts';
import { appFor, bearer, forEachDatabase } from '../harness.ts';
import { openConsole, signIn } from './browser.ts';

forEachDatabase('console: ssh_server keys', (kind) => {
  test('an admin is offered ssh_server with its description and creates a key that answers SSH lookups', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    const password = 'bob has a long password';
    assert.equal((await app.request({ method: 'POST', url: '/v1/admin/users', headers: bearer(alice.key), payload: { login: 'bob', password } })).statusCode, 201);
    assert.equal((await app.request({ method: 'PUT', url: '/v1/accounts/acme/members/bob', headers: bearer(alice.key), payload: { role: 'admin' } })).statusCode, 201);

    const ui = await openConsole(t, app, `${kind}-ssh-server`);
    const { page } = ui;
    await signIn(ui, 'bob', password);
    await page.goto('/accounts/acme/service-keys');
    await page.getByRole('heading', { level: 1, name: 'Service API keys of acme' }).waitFor();
    const roles = await page.getByLabel('Role', { exact: true }).locator('option').allInnerTexts();
    assert.ok(
      roles.some((r) => /ssh_server/.test(r)),
      `an admin is offered ${roles.join(', ')}`,
    );
    await page.getByLabel('Name').fill('bastion');
    await page.getByLabel('Role', { exact: true }).selectOption('ssh_server');
    await page.getByText('For sshd on a bastion, build host or git server: asks which SSH keys of the account may log in or reach a repository; reads no private key.').waitFor();
    await ui.checkPage('ssh-server-key-form');
    await page.getByRole('button', { name: 'Create API key' }).click();
    const secret = await page.getByLabel('Your new API key').inputValue();
    const me = (await app.request({ method: 'GET', url: '/v1/user', headers: bearer(secret) })).json() as { service_key: { role: string } };
    assert.equal(me.service_key.role, 'ssh_server');
    const lookup = await app.request({
      method: 'GET',
      url: `/v1/ssh/authorized-keys?user=alice&fingerprint=${encodeURIComponent('SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s')}`,
      headers: bearer(secret),
    });
    assert.deepEqual([lookup.statusCode, lookup.body], [200, ''], 'the new key asks, and nobody holds that fingerprint');
    await ui.finish();
  });
});
