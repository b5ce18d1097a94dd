// The console's Rotate button, in Chromium: beside a user API key and a service key it asks how long
// the old key keeps working, shows the new key once, and the list says when the old one stops; what
// the page says is what the server does (the new secret works, the old one stops at the grace end).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addServiceKey, seed } from '../factories.ts';
import { appFor, bearer, forEachDatabase } from '../harness.ts';
import { openConsole, signIn } from './browser.ts';

forEachDatabase('console: rotating API keys', (kind) => {
  test('a user rotates their own key with a one-hour grace, and an owner rotates a service key at once', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    const made = await app.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(alice.key), payload: { name: 'deploy bot' } });
    assert.equal(made.statusCode, 201, made.body);
    const old = made.json() as { id: number; key: string };
    const service = await addServiceKey(app, alice.key, 'acme', 'read_only', { name: 'nightly backup' });

    const ui = await openConsole(t, app, `${kind}-rotate`);
    const { page } = ui;
    await signIn(ui, 'alice', alice.password);
    await page.getByRole('heading', { level: 1, name: 'API keys' }).waitFor();
    await page.getByRole('button', { name: 'Rotate key deploy bot' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rotate the API key “deploy bot”?' });
    await dialog.getByLabel('The old key stops working').selectOption('3600');
    await ui.checkPage('rotate-dialog');
    await dialog.getByRole('button', { name: 'Rotate key' }).click();
    const secret = await page.getByLabel('Your new API key').inputValue();
    assert.match(secret, /^ksu_/);
    await page.getByText(/Rotated: works until/).waitFor();
    await ui.checkPage('rotate-secret-once');

    const keys = (await app.request({ method: 'GET', url: '/v1/user/api-keys', headers: bearer(alice.key) })).json() as Array<{
      id: number;
      name: string;
      rotated_to: number | null;
      stops_working_at: string | null;
    }>;
    const before = keys.find((k) => k.id === old.id)!;
    assert.ok(before.rotated_to !== null && before.stops_working_at !== null, JSON.stringify(before));
    const lead = Date.parse(before.stops_working_at!) - Date.now();
    assert.ok(lead > 50 * 60_000 && lead <= 3_600_000, `the grace picked is one hour: ${lead} ms`);
    assert.equal((await app.request({ method: 'GET', url: '/v1/user', headers: bearer(secret) })).statusCode, 200, 'the secret shown works');
    assert.equal((await app.request({ method: 'GET', url: '/v1/user', headers: bearer(old.key) })).statusCode, 200, 'the old key works in its grace');
    assert.equal(await page.getByRole('button', { name: 'Rotate key deploy bot' }).count(), 1, 'only the new key offers Rotate');
    await page.getByRole('button', { name: 'I have copied it' }).click();

    await page.goto('/accounts/acme/service-keys');
    await page.getByRole('heading', { level: 1, name: 'Service API keys of acme' }).waitFor();
    await page.getByRole('button', { name: 'Rotate key nightly backup' }).click();
    const serviceDialog = page.getByRole('dialog', { name: 'Rotate the API key “nightly backup”?' });
    await serviceDialog.getByLabel('The old key stops working').selectOption('0');
    await serviceDialog.getByRole('button', { name: 'Rotate key' }).click();
    const serviceSecret = await page.getByLabel('Your new API key').inputValue();
    assert.match(serviceSecret, /^kss_/);
    await page.getByText(/Rotated: stopped working at/).waitFor();
    await ui.checkPage('rotate-service-key');
    assert.equal((await app.request({ method: 'GET', url: '/v1/projects', headers: bearer(serviceSecret) })).statusCode, 200);
    const refused = await app.request({ method: 'GET', url: '/v1/projects', headers: bearer(service.key) });
    assert.equal(refused.statusCode, 401);
    assert.equal((refused.json() as { error: { code: string } }).error.code, 'token_rotated');
    await ui.finish();
  });
});
