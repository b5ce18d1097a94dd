// SSH certificates in Chromium: a person sees and revokes their own certificates under Settings; every
// member reads the account's CA key and the TrustedUserCAKeys line to copy; owners and admins see the
// account's issued certificates and revoke one; a read_only member is not shown that list.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seed } from '../factories.ts';
import { appFor, bearer, forEachDatabase, type TestApp } from '../harness.ts';
import { ed25519Line } from '../ssh-fixtures.ts';
import { openConsole, signIn } from './browser.ts';
import { userWithPassword } from './users.ts';

interface Record {
  serial: number;
  revoked_at: string | null;
}

async function certificateFor(app: TestApp, key: string): Promise<number> {
  const line = ed25519Line('laptop');
  const added = await app.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bearer(key), payload: { key: line } });
  assert.equal(added.statusCode, 201, added.body);
  const issued = await app.request({ method: 'POST', url: '/v1/user/ssh-certificates', headers: bearer(key), payload: { public_key: line, account: 'acme', ttl_seconds: 3600 } });
  assert.equal(issued.statusCode, 201, issued.body);
  return (issued.json() as { serial: number }).serial;
}

async function own(app: TestApp, key: string): Promise<Record[]> {
  return (await app.request({ method: 'GET', url: '/v1/user/ssh-certificates', headers: bearer(key) })).json() as Record[];
}

forEachDatabase('console: SSH certificates', (kind) => {
  test('your certificates with Revoke; the CA key and sshd_config line; the issued list for owners and admins only', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    const dan = await userWithPassword(app, alice.key, 'dan', 'dan chose a long passphrase');
    const joined = await app.request({ method: 'PUT', url: '/v1/accounts/acme/members/dan', headers: bearer(alice.key), payload: { role: 'read_only' } });
    assert.equal(joined.statusCode, 201, joined.body);
    const aliceSerial = await certificateFor(app, alice.key);
    const danSerial = await certificateFor(app, dan.key);
    const danSecond = await certificateFor(app, dan.key);
    const ca = (await app.request({ method: 'GET', url: '/v1/accounts/acme/ssh-ca', headers: bearer(alice.key) })).json() as { keys: { public_key: string; fingerprint_sha256: string }[] };

    const ui = await openConsole(t, app, `${kind}-ssh-certificates`);
    const { page } = ui;
    await signIn(ui, 'alice', alice.password);

    // Settings → SSH certificates: her own, valid, with Revoke.
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'SSH certificates' }).click();
    await page.getByRole('heading', { level: 1, name: 'SSH certificates' }).waitFor();
    const table = page.getByRole('table', { name: 'Your SSH certificates, newest first' });
    const row = table.getByRole('row').filter({ has: page.getByRole('cell', { name: String(aliceSerial), exact: true }) });
    await row.getByText('Valid', { exact: true }).waitFor();
    await row.getByText('alice', { exact: true }).waitFor();
    assert.match(await page.getByLabel('Command').inputValue(), new RegExp(`^npx keysmith ssh-certificate --url ${app.url} --key ~/.ssh/id_ed25519.pub`));
    await ui.checkPage('own');
    await row.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke certificate' }).click();
    await page.getByText(`Revoked SSH certificate ${aliceSerial} of acme.`).waitFor();
    await row.getByText('Revoked', { exact: true }).waitFor();
    assert.equal(await row.getByRole('button', { name: 'Revoke' }).count(), 0);
    assert.notEqual((await own(app, alice.key)).find((c) => c.serial === aliceSerial)?.revoked_at, null);

    // Account → SSH CA: the key and the lines to copy, and the account's issued certificates.
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'SSH CA' }).click();
    await page.getByRole('heading', { level: 1, name: 'SSH CA of acme' }).waitFor();
    assert.equal(await page.getByRole('textbox', { name: 'Active CA public key' }).inputValue(), ca.keys[0]!.public_key);
    await page.getByText(ca.keys[0]!.fingerprint_sha256).waitFor();
    assert.equal(await page.getByLabel('sshd_config line').inputValue(), 'TrustedUserCAKeys /etc/ssh/keysmith-acme-ca.pub');
    assert.equal(await page.getByLabel('Fetch the CA file').inputValue(), `curl -fsS -o /etc/ssh/keysmith-acme-ca.pub ${app.url}/v1/accounts/acme/ssh-ca.pub`);
    const served = await app.request({ method: 'GET', url: '/v1/accounts/acme/ssh-ca.pub' });
    assert.ok(served.body.startsWith(`${ca.keys[0]!.public_key} `), `the file the curl line fetches holds the key shown: ${served.body}`);
    const issued = page.getByRole('table', { name: 'Certificates issued in acme, newest first' });
    const danRow = issued.getByRole('row').filter({ has: page.getByRole('cell', { name: String(danSerial), exact: true }) });
    await danRow.getByText('user dan').waitFor();
    await ui.checkPage('account');
    await danRow.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke certificate' }).click();
    await page.getByText(`Revoked SSH certificate ${danSerial}.`).waitFor();
    await danRow.getByText('Revoked', { exact: true }).waitFor();
    assert.notEqual((await own(app, dan.key)).find((c) => c.serial === danSerial)?.revoked_at, null);
    await ui.finish();

    // A read_only member: the CA and the lines, not the account's list (the server refuses it too).
    const ui2 = await openConsole(t, app, `${kind}-ssh-certificates-member`);
    await signIn(ui2, 'dan', dan.password);
    await ui2.page.goto('/accounts/acme/ssh-ca');
    await ui2.page.getByRole('heading', { level: 1, name: 'SSH CA of acme' }).waitFor();
    assert.equal(await ui2.page.getByLabel('sshd_config line').inputValue(), 'TrustedUserCAKeys /etc/ssh/keysmith-acme-ca.pub');
    await ui2.page.getByText('Only owners and admins see the certificates issued in this account').waitFor();
    assert.equal(await ui2.page.getByRole('heading', { name: 'Issued certificates' }).count(), 0);
    assert.equal(await ui2.page.getByRole('table').count(), 0);
    await ui2.checkPage('member-account');
    const refused = await app.request({ method: 'GET', url: '/v1/accounts/acme/ssh-certificates', headers: bearer(dan.key) });
    assert.equal(refused.statusCode, 403, refused.body);
    // His own page shows his certificate, revoked by the owner.
    await ui2.page.goto('/settings/ssh-certificates');
    const danOwn = ui2.page
      .getByRole('table', { name: 'Your SSH certificates, newest first' })
      .getByRole('row')
      .filter({ has: ui2.page.getByRole('cell', { name: String(danSerial), exact: true }) });
    await danOwn.getByText('Revoked', { exact: true }).waitFor();
    // And revokes his own other one himself: its user may, whatever his role.
    const secondRow = ui2.page
      .getByRole('table', { name: 'Your SSH certificates, newest first' })
      .getByRole('row')
      .filter({ has: ui2.page.getByRole('cell', { name: String(danSecond), exact: true }) });
    await secondRow.getByRole('button', { name: 'Revoke' }).click();
    await ui2.page.getByRole('dialog').getByRole('button', { name: 'Revoke certificate' }).click();
    await ui2.page.getByText(`Revoked SSH certificate ${danSecond} of acme.`).waitFor();
    await secondRow.getByText('Revoked', { exact: true }).waitFor();
    assert.notEqual((await own(app, dan.key)).find((c) => c.serial === danSecond)?.revoked_at, null);
    await ui2.checkPage('member-own');
    await ui2.finish();
  });
});
