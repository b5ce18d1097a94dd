// Keys disabled for going unused, in Chromium: after the scheduler disables an unused API key and SSH
// key, Settings shows each as disabled with an Enable button, and enabling it there makes it work
// again (checked against the API). The clock is the test's: 31 days pass between making the keys and
// the scan.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seed } from '../factories.ts';
import { appFor, bearer, forEachDatabase, testClock } from '../harness.ts';
import { ed25519Line } from '../ssh-fixtures.ts';
import { openConsole, signIn } from './browser.ts';

forEachDatabase('console: enabling dormant keys', (kind) => {
  test('an API key and an SSH key disabled as unused show as disabled, and Enable turns each back on', async (t) => {
    const clock = testClock(new Date());
    const app = await appFor(t, kind, { listen: true, clock });
    const alice = await seed(app);
    const policy = await app.request({ method: 'PUT', url: '/v1/admin/policy', headers: bearer(alice.key), payload: { disable_unused_after_days: 30 } });
    assert.equal(policy.statusCode, 200, policy.body);
    const token = (await app.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(alice.key), payload: { name: 'old token' } })).json() as { key: string };
    const ssh = await app.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bearer(alice.key), payload: { title: 'old laptop', key: ed25519Line() } });
    assert.equal(ssh.statusCode, 201, ssh.body);
    clock.advance(31 * 86_400_000);
    assert.equal(await app.app.jobs.runNow('credentials.scan'), 'ran');
    assert.equal(((await app.request({ method: 'GET', url: '/v1/user', headers: bearer(token.key) })).json() as { error: { code: string } }).error.code, 'token_disabled');

    const ui = await openConsole(t, app, `${kind}-dormant`);
    const { page } = ui;
    await signIn(ui, 'alice', alice.password);
    await page.getByRole('heading', { level: 1, name: 'API keys' }).waitFor();
    await page
      .getByText(/Disabled .* because it went unused/)
      .first()
      .waitFor();
    await ui.checkPage('dormant-api-keys');
    await page.getByRole('button', { name: 'Enable key old token' }).click();
    await page.getByText('Enabled the API key “old token” again.').waitFor();
    assert.equal((await app.request({ method: 'GET', url: '/v1/user', headers: bearer(token.key) })).statusCode, 200, 'the key works again');

    await page.goto('/settings/ssh-keys');
    await page.getByRole('heading', { level: 1, name: 'SSH keys' }).waitFor();
    await page.getByText(/because it went unused: SSH servers refuse it/).waitFor();
    await page.getByRole('button', { name: 'Enable SSH key old laptop' }).click();
    await page.getByText('Enabled the SSH key “old laptop” again.').waitFor();
    const keys = (await app.request({ method: 'GET', url: '/v1/user/ssh-keys', headers: bearer(token.key) })).json() as Array<{ title: string; disabled_at: string | null }>;
    assert.equal(keys.find((k) => k.title === 'old laptop')!.disabled_at, null);
    // The list reloads after the message: the button goes once the key shows as enabled.
    await page.getByRole('button', { name: 'Enable SSH key old laptop' }).waitFor({ state: 'detached' });
    await ui.finish();
  });
});
