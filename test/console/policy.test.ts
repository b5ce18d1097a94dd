// The Policy pages in Chromium: an account owner sets limits and sees the credentials that break them
// beside a badge naming the rule (nothing deleted); a read_only member reads the policy but cannot
// change it; a site admin edits the instance policy in the admin area.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addProject, addServiceKey, seed } from '../factories.ts';
import { appFor, bearer, forEachDatabase } from '../harness.ts';
import { sshKeygen } from '../ssh-fixtures.ts';
import { openConsole, signIn } from './browser.ts';
import { userWithPassword } from './users.ts';

forEachDatabase('console: credential policy', (kind) => {
  test('an owner tightens the account policy and sees the violation; a member reads it; the admin edits the instance policy', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme', 'web');
    const rsa = await app.request({ method: 'POST', url: '/v1/projects/gh/acme/web/deploy-keys', headers: bearer(alice.key), payload: { key: sshKeygen('rsa', 2048).publicLine, title: 'old rsa' } });
    assert.equal(rsa.statusCode, 201, rsa.body);
    const ci = await addServiceKey(app, alice.key, 'acme', 'read_only');
    const ui = await openConsole(t, app, `${kind}-policy`);
    const { page } = ui;
    await signIn(ui, 'alice', alice.password);

    await page.goto('/accounts/acme/policy');
    await page.getByRole('heading', { level: 1, name: 'Policy of acme' }).waitFor();
    await page.getByText('Every credential fits the policy.').waitFor();
    await page.getByLabel('Smallest RSA key (bits)').fill('3072');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText('Saved the credential policy of acme.').waitFor();
    const row = page.getByRole('row', { name: /old rsa/ });
    await row.getByText('rsa_min_bits').waitFor();
    assert.equal((await app.request({ method: 'GET', url: '/v1/accounts/acme/policy', headers: bearer(alice.key) })).json().rsa_min_bits, 3072);
    await ui.checkPage('account-policy');
    // Beside the deploy key on its project's page too, with its expiry.
    await page.goto('/accounts/acme/projects/gh/web');
    await page
      .getByRole('row', { name: /old rsa/ })
      .getByText('breaks rsa_min_bits')
      .waitFor();
    await page
      .getByRole('table', { name: /deploy keys/i })
      .getByRole('columnheader', { name: 'Expires' })
      .waitFor();
    await page.goto('/accounts/acme/policy');

    // A value the server refuses gets its sentence.
    await page.getByLabel('Smallest RSA key (bits)').fill('1024');
    ui.expectHttpError(400, '/v1/accounts/acme/policy');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByRole('alert').filter({ hasText: 'rsa_min_bits must be a whole number from 2048' }).waitFor();

    await page.goto('/admin/policy');
    await page.getByRole('heading', { level: 1, name: 'Instance policy' }).waitFor();
    await page.getByLabel('Longest API key lifetime (days)').fill('90');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText('Saved the credential policy of this instance.').waitFor();
    assert.equal((await app.request({ method: 'GET', url: '/v1/admin/policy', headers: bearer(alice.key) })).json().api_key_max_lifetime_days, 90);
    // The service key made without an expiry now breaks it, and says so on its own page.
    await page.goto('/accounts/acme/service-keys');
    await page
      .getByRole('row', { name: new RegExp(ci.name) })
      .getByText('breaks api_key_max_lifetime_days')
      .waitFor();
    await ui.finish();

    // A read_only member sees the limits, disabled, and no Save button.
    const dan = await userWithPassword(app, alice.key, 'dan', 'dan chose a long passphrase');
    const joined = await app.request({ method: 'PUT', url: '/v1/accounts/acme/members/dan', headers: bearer(alice.key), payload: { role: 'read_only' } });
    assert.equal(joined.statusCode, 201, joined.body);
    const ui2 = await openConsole(t, app, `${kind}-policy-member`);
    await signIn(ui2, 'dan', dan.password);
    await ui2.page.goto('/accounts/acme/policy');
    await ui2.page.getByText('Only owners and admins can change this policy; you can read it.').waitFor();
    assert.equal(await ui2.page.getByLabel('Smallest RSA key (bits)').inputValue(), '3072');
    assert.equal(await ui2.page.getByLabel('Smallest RSA key (bits)').isDisabled(), true);
    assert.equal(await ui2.page.getByRole('button', { name: 'Save policy' }).count(), 0);
    await ui2.finish();
  });
});
