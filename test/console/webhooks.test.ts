// The Webhooks page and Settings → Email in Chromium. An owner adds a webhook pointing at a real HTTP
// receiver on 127.0.0.1, copies the secret shown once, pings it and sees the delivery (checked at the
// receiver with the shown secret), sees a failed attempt's 500, redelivers it and deletes the webhook.
// The Email page lists the notices and says why nothing is sent. The test sends due deliveries itself
// (deliverDue) and its clock stands still, so no retry falls due mid-test.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import { seed } from '../factories.ts';
import { appFor, bearer, forEachDatabase, testClock } from '../harness.ts';
import { openConsole, signIn } from './browser.ts';
import { signedWith, startWebhookReceiver } from '../receivers.ts';

/** The shared receiver, closed when the test ends. */
async function startReceiver(t: TestContext) {
  const receiver = await startWebhookReceiver();
  t.after(() => receiver.close());
  return receiver;
}

const signed = signedWith;

/** Clicks a button whose request is `path`, and waits for the server's answer to it. */
async function clickAndWait(page: Page, button: ReturnType<Page['getByRole']>, path: string) {
  await Promise.all([page.waitForResponse((r) => new URL(r.url()).pathname.endsWith(path) && r.request().method() === 'POST'), button.click()]);
}

const MAIL_ENV = { KEYSMITH_SMTP_URL: 'smtp://127.0.0.1:2525', KEYSMITH_MAIL_FROM: 'keysmith@example.com' };

forEachDatabase('console: webhooks and email', (kind) => {
  test('an owner adds a webhook, sees its secret once, pings it, sees delivered and failed attempts, redelivers and deletes it', async (t) => {
    const app = await appFor(t, kind, { listen: true, clock: testClock(new Date()) });
    const alice = await seed(app);
    const receiver = await startReceiver(t);
    const ui = await openConsole(t, app, `${kind}-webhooks`);
    const { page } = ui;
    await signIn(ui, 'alice', alice.password);

    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { level: 1, name: 'Webhooks of acme' }).waitFor();
    await page.getByText('acme has no webhooks yet.').waitFor();

    // A bad URL gets the API's sentence.
    await page.getByLabel('URL').fill('http://169.254.169.254/latest');
    await page.getByLabel('credential.created').check();
    ui.expectHttpError(400, '/v1/accounts/acme/webhooks');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await page.getByRole('alert').filter({ hasText: 'in the link-local range' }).waitFor();

    // "Every event" ticks (and locks) every box.
    await page.getByLabel('Every event, including ones added later').check();
    assert.equal(await page.getByLabel('member.added').isChecked(), true);
    assert.equal(await page.getByLabel('member.added').isDisabled(), true);
    await page.getByLabel('Every event, including ones added later').uncheck();
    await page.getByLabel('member.added').check();
    await page.getByLabel('URL').fill(receiver.url);
    await page.getByLabel('Description').fill('ops alerts');
    await page.getByRole('button', { name: 'Add webhook' }).click();

    const secretRegion = page.getByRole('region', { name: `Copy the signing secret of ${receiver.url} now` });
    await secretRegion.waitFor();
    await secretRegion.getByText('X-Keysmith-Signature-256').waitFor();
    const secret = await page.getByRole('textbox', { name: 'Signing secret' }).inputValue();
    assert.match(secret, /^whsec_/);
    await secretRegion.getByRole('button', { name: 'Copy' }).click();
    await page.getByText('Copied to the clipboard.').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
    await ui.checkPage('secret');
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await secretRegion.waitFor({ state: 'detached' });
    assert.ok(!(await page.content()).includes(secret), 'the secret is gone from the page');

    const row = page.getByRole('row', { name: new RegExp(receiver.url) });
    await row.getByText('credential.created, member.added').waitFor();
    await row.getByText('ops alerts').waitFor();
    const listed = (await app.request({ method: 'GET', url: '/v1/accounts/acme/webhooks', headers: bearer(alice.key) })).json() as Array<{ id: number; events: string[] }>;
    assert.deepEqual(listed[0]!.events, ['credential.created', 'member.added']);
    const hookId = listed[0]!.id;

    // Ping: the receiver gets a POST signed with the shown secret.
    await clickAndWait(page, page.getByRole('button', { name: `Send ping to ${receiver.url}` }), `/webhooks/${hookId}/ping`);
    await page
      .getByRole('status')
      .filter({ hasText: `Sent a ping to ${receiver.url}` })
      .waitFor();
    await app.services.webhooks.deliverDue();
    assert.equal(receiver.received.length, 1);
    const first = receiver.received[0]!;
    assert.equal(first.headers['x-keysmith-event'], 'ping');
    assert.ok(signed(secret, first), 'X-Keysmith-Signature-256 is the HMAC-SHA256 of the raw body with the shown secret');

    const deliveries = page.getByRole('table', { name: `Deliveries to ${receiver.url}` });
    await page.getByRole('button', { name: 'Refresh' }).click();
    const pingRow = deliveries.getByRole('row', { name: new RegExp(first.headers['x-keysmith-delivery'] as string) });
    await pingRow.getByRole('cell', { name: 'delivered', exact: true }).waitFor();
    await pingRow.getByRole('cell', { name: '200', exact: true }).waitFor();
    await pingRow.getByText('1 attempt of delivery').click();
    await pingRow.getByText('HTTP 200').waitFor();

    // A second ping the receiver answers with 500: retrying, with the 500 and the next attempt's time.
    receiver.answers.push(500);
    await clickAndWait(page, page.getByRole('button', { name: `Send ping to ${receiver.url}` }), `/webhooks/${hookId}/ping`);
    await app.services.webhooks.deliverDue();
    assert.equal(receiver.received.length, 2);
    const second = receiver.received[1]!;
    await page.getByRole('button', { name: 'Refresh' }).click();
    const failedRow = deliveries.getByRole('row', { name: new RegExp(second.headers['x-keysmith-delivery'] as string) });
    await failedRow.getByRole('cell', { name: 'retrying', exact: true }).waitFor();
    await failedRow.getByRole('cell', { name: '500', exact: true }).waitFor();
    assert.notEqual((await failedRow.locator('td[data-label="Next attempt"]').innerText()).trim(), '—', 'the next attempt is scheduled');
    await failedRow.getByText('1 attempt of delivery').click();
    await failedRow.getByText('HTTP 500').waitFor();
    await ui.checkPage('deliveries');

    // Redeliver: a new delivery of the same event (same payload id), delivered this time.
    await clickAndWait(page, failedRow.getByRole('button', { name: `Redeliver ${second.headers['x-keysmith-delivery'] as string}` }), '/redeliver');
    await page.getByRole('status').filter({ hasText: 'Queued the redelivery' }).waitFor();
    await app.services.webhooks.deliverDue();
    assert.equal(receiver.received.length, 3);
    const third = receiver.received[2]!;
    assert.notEqual(third.headers['x-keysmith-delivery'], second.headers['x-keysmith-delivery']);
    assert.equal((JSON.parse(third.raw) as { id: string }).id, (JSON.parse(second.raw) as { id: string }).id, 'the same event id');
    assert.ok(signed(secret, third));
    await page.getByRole('button', { name: 'Refresh' }).click();
    const again = deliveries.getByRole('row', { name: new RegExp(third.headers['x-keysmith-delivery'] as string) });
    await again.getByRole('cell', { name: 'delivered', exact: true }).waitFor();
    assert.equal(await deliveries.getByRole('row').count(), 4, 'a header and three deliveries');

    // Delete, after confirming.
    await page.getByRole('button', { name: `Delete ${receiver.url}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete webhook' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Deleted the webhook ${receiver.url}` })
      .waitFor();
    await page.getByText('acme has no webhooks yet.').waitFor();
    assert.equal(await deliveries.count(), 0, 'its deliveries are no longer shown');
    assert.deepEqual((await app.request({ method: 'GET', url: '/v1/accounts/acme/webhooks', headers: bearer(alice.key) })).json(), []);
    await ui.finish();
  });

  test('Settings → Email lists the notices, and says nothing is sent when the server has no SMTP settings or the user no address', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    const ui = await openConsole(t, app, `${kind}-email-off`);
    const { page } = ui;
    await signIn(ui, 'alice', alice.password);
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Email' }).click();
    await page.getByRole('heading', { level: 1, name: 'Email' }).waitFor();
    await page.getByText('Nothing will be emailed to you').waitFor();
    await page.getByText('This Keysmith server does not send email: it has no SMTP settings.').waitFor();
    await page.getByText('You have no email address on your account').waitFor();
    const list = page.getByRole('list', { name: 'Email notices' });
    assert.equal(await list.getByRole('listitem').count(), 6);
    await list.getByText('A new SSH key or API key is added to your account.').waitFor();
    await list.getByText('One of your keys expires in 30, 7 or 1 days.').waitFor();
    await ui.checkPage('email-off');
    await ui.finish();
  });

  test('Settings → Email with SMTP set and an address says where email goes', async (t) => {
    const app = await appFor(t, kind, { listen: true, env: MAIL_ENV });
    const alice = await seed(app);
    const patched = await app.request({ method: 'PATCH', url: '/v1/admin/users/alice', headers: bearer(alice.key), payload: { email: 'alice@example.com' } });
    assert.equal(patched.statusCode, 200, patched.body);
    const ui = await openConsole(t, app, `${kind}-email-on`);
    const { page } = ui;
    await signIn(ui, 'alice', alice.password);
    await page.goto('/settings/email');
    await page.getByRole('heading', { level: 1, name: 'Email' }).waitFor();
    await page.getByText('Keysmith emails you at alice@example.com.').waitFor();
    assert.equal(await page.getByText('Nothing will be emailed to you').count(), 0);
    await page.getByRole('heading', { name: 'What you are emailed about' }).waitFor();
    await ui.checkPage('email-on');
    await ui.finish();
  });
});
