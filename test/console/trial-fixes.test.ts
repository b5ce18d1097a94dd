// The console fixes from the trial, in Chromium, each asserting what the person sees (and, where the
// page changes something, what the API then says): action buttons on one line at 1280 px, the user-key
// panel following the grant, the grant refusal in words with its link and the project that asked,
// the API's role names with a description each, an unknown member, a past expiry date, another
// account's address, SSH keys' last use, and a project's public halves, RSA keys and pasted deploy keys.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { roleDescriptions } from '../../src/modules/access/roles.ts';
import { addProject, addUser, seed } from '../factories.ts';
import { appFor, bearer, forEachDatabase } from '../harness.ts';
import { ed25519Line, keygenFingerprint, sshKeygen } from '../ssh-fixtures.ts';
import { openConsole, signIn, WIDE } from './browser.ts';

/** Each button's label, and how many lines it takes: a label broken inside a word ("Delet / e") takes two. */
async function buttonLines(page: Page, scope: string): Promise<Array<[string, number]>> {
  // One rectangle per line box the label's text occupies (no named helper inside: the page runs this as it is).
  return page.evaluate(
    (selector) =>
      // A closed confirmation dialog's buttons sit in the table too, unrendered: only the shown ones count.
      [...document.querySelectorAll(`${selector} button`)]
        .filter((b) => !b.closest('dialog:not([open])'))
        .map((b) => {
          const range = document.createRange();
          range.selectNodeContents(b);
          return [b.textContent ?? '', new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top))).size] as [string, number];
        }),
    scope,
  );
}

async function assertOneLineButtons(page: Page, scope: string, expected: number): Promise<void> {
  assert.equal(await page.evaluate(() => window.innerWidth), WIDE);
  const lines = await buttonLines(page, scope);
  assert.ok(lines.length >= expected, `${scope}: ${lines.length} buttons`);
  for (const [label, count] of lines) assert.equal(count, 1, `the button “${label}” in ${scope} takes ${count} lines`);
}

const todayUtc = () => new Date().toISOString().slice(0, 10);

forEachDatabase('console: fixes from the trial', (kind) => {
  test('SSH keys: Delete stays on one line at 1280 px, and each key says when it was last used; a past expiry date is refused in the form', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    for (const title of ['laptop with a rather long title that takes room', 'unused']) {
      const res = await app.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bearer(alice.key), payload: { key: ed25519Line(), title } });
      assert.equal(res.statusCode, 201, res.body);
    }
    // A use, as the SSH lookups record it (the column the API's last_used_at reads).
    await app.services.db.updateTable('ssh_keys').set({ last_used_at: '2026-11-30T08:15:00.000Z' }).where('title', 'like', 'laptop%').execute();
    const listed = (await app.request({ method: 'GET', url: '/v1/user/ssh-keys', headers: bearer(alice.key) })).json() as Array<{ title: string; last_used_at: string | null }>;
    assert.equal(listed.find((k) => k.title.startsWith('laptop'))?.last_used_at, '2026-11-30T08:15:00.000Z');

    const ui = await openConsole(t, app, `${kind}-trial`);
    const { page } = ui;
    await signIn(ui, 'alice', alice.password);
    await page.goto('/settings/ssh-keys');
    const used = page.getByRole('row', { name: /laptop/ });
    await used.waitFor();
    const usedCell = used.getByRole('cell').nth(3);
    assert.equal(await usedCell.getAttribute('data-label'), 'Last used');
    assert.equal(await usedCell.innerText(), '2026-11-30 08:15 UTC');
    assert.equal(
      await page
        .getByRole('row', { name: /unused/ })
        .getByRole('cell')
        .nth(3)
        .innerText(),
      'Never',
    );
    assert.equal(await page.getByRole('columnheader', { name: 'Last used' }).count(), 1);
    await assertOneLineButtons(page, 'table', 2);
    const deleteButton = page.getByRole('button', { name: /^Delete SSH key laptop/ });
    const box = (await deleteButton.boundingBox())!;
    const lineHeight = await deleteButton.evaluate((b) => parseFloat(getComputedStyle(b).lineHeight) + parseFloat(getComputedStyle(b).paddingTop) + parseFloat(getComputedStyle(b).paddingBottom));
    assert.ok(box.height <= lineHeight + 4, `the Delete button is ${box.height} px high, one line is ${lineHeight} px`);
    await ui.checkPage('ssh-keys-last-used');

    // The expiry picker: the earliest day is today (UTC); an earlier one is refused with a sentence, and nothing is sent.
    await page.goto('/settings/api-keys');
    await page.getByLabel('Name').fill('from the past');
    await page.getByLabel('Expires').selectOption({ label: 'On a date…' });
    const date = page.getByLabel(/Expiry date/);
    assert.equal(await date.getAttribute('min'), todayUtc());
    await page.getByText(`Today (${todayUtc()}, UTC) or a later day.`).waitFor();
    await date.fill('2020-01-01');
    await page.getByRole('button', { name: 'Create API key' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: `The expiry date must be today (${todayUtc()}, UTC) or later: a key cannot expire in the past.` })
      .waitFor();
    assert.equal(await page.getByLabel('Your new API key').count(), 0);
    const keys = (await app.request({ method: 'GET', url: '/v1/user/api-keys', headers: bearer(alice.key) })).json() as Array<{ name: string }>;
    assert.ok(!keys.some((k) => k.name === 'from the past'), 'no key was created');
    await ui.checkPage('expiry-refused');

    // A later day is taken, and the key expires at its end.
    const later = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
    await date.fill(later);
    assert.equal(await page.getByRole('alert').count(), 0, 'the refusal goes once the date is changed');
    await page.getByRole('button', { name: 'Create API key' }).click();
    await page.getByLabel('Your new API key').waitFor();
    const created = (await app.request({ method: 'GET', url: '/v1/user/api-keys', headers: bearer(alice.key) })).json() as Array<{ name: string; expires_at: string | null }>;
    assert.equal(created.find((k) => k.name === 'from the past')?.expires_at, `${later}T23:59:59.000Z`);
    await ui.finish();
  });

  test('the user-key panel follows the grant; the refusal is a sentence and a link; Permissions names the project that asked', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme', 'web');
    const ui = await openConsole(t, app, `${kind}-trial`);
    const { page } = ui;
    await signIn(ui, 'alice', alice.password);
    await page.goto('/accounts/acme/projects/gh/web');
    const panel = page.getByRole('listitem').filter({ has: page.getByRole('button', { name: 'Add user key' }) });
    await panel.getByText('It needs your permission “Projects may put SSH keys on my account”, which you have not given yet').waitFor();

    ui.expectHttpError(403, '/v1/projects/gh/acme/web/checkout-keys');
    await page.getByRole('button', { name: 'Add user key' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'This needs your permission “Projects may put SSH keys on my account”, which you have not given.' });
    await alert.waitFor();
    const shown = await alert.innerText();
    assert.doesNotMatch(shown, /PUT|\/v1\/|http:/, `the page shows API text: ${shown}`);
    await ui.checkPage('grant-sentence');

    // Given elsewhere (another tab, the API): coming back to the page, the panel says so and the refusal goes.
    assert.equal((await app.request({ method: 'PUT', url: '/v1/user/grants/write:public_key', headers: bearer(alice.key) })).statusCode, 200);
    await page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await panel.getByText('It uses your permission “Projects may put SSH keys on my account”, which you have given.').waitFor();
    await alert.waitFor({ state: 'detached' });
    assert.equal(await panel.getByText('not given').count(), 0);

    // Revoked elsewhere: the panel says so again; the refusal's link leads to Permissions, which names the project.
    assert.equal((await app.request({ method: 'DELETE', url: '/v1/user/grants/write:public_key', headers: bearer(alice.key) })).statusCode, 200);
    await page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await panel.getByText('which you have not given yet').waitFor();
    ui.expectHttpError(403, '/v1/projects/gh/acme/web/checkout-keys');
    await page.getByRole('button', { name: 'Add user key' }).click();
    await alert.getByRole('link', { name: 'Give this permission in Settings → Permissions' }).click();
    await page.waitForURL(/\/settings\/permissions\?grant=write:public_key&project=gh\/acme\/web$/);
    const card = page.getByRole('article', { name: 'Projects may put SSH keys on my account' });
    await card.getByText('The project gh/acme/web asked for this permission.').waitFor();
    assert.equal(await card.getByRole('link', { name: 'gh/acme/web' }).getAttribute('href'), '/accounts/acme/projects/gh/web');
    await ui.checkPage('permissions-asking-project');
    await card.getByRole('button', { name: 'Give this permission' }).click();
    await page.getByRole('link', { name: 'Go back to where you were' }).click();
    await panel.getByText('which you have given.').waitFor();
    await page.getByRole('button', { name: 'Add user key' }).click();
    await page.getByRole('status').filter({ hasText: 'Added a user key' }).waitFor();

    // A link naming a project the person cannot see says only that a project asked: nothing of the link's choosing.
    const eve = await addUser(app, 'eve');
    assert.equal((await app.request({ method: 'POST', url: '/v1/accounts', headers: bearer(eve.key), payload: { name: 'hidden' } })).statusCode, 201);
    await addProject(app, eve.key, 'hidden', 'secret');
    assert.equal((await app.request({ method: 'DELETE', url: '/v1/user/grants/write:public_key', headers: bearer(alice.key) })).statusCode, 200);
    ui.expectHttpError(404, '/v1/projects/gh/hidden/secret');
    await page.goto('/settings/permissions?grant=write:public_key&project=gh/hidden/secret');
    await card.getByText('A project asked for this permission.').waitFor();
    assert.doesNotMatch(await page.locator('main').innerText(), /hidden|secret/);
    await ui.finish();
  });

  test('roles by their API names with a description each; an unknown member must be created first (a site admin is offered it); another account’s address is not found', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    const password = 'bob has a long password';
    assert.equal((await app.request({ method: 'POST', url: '/v1/admin/users', headers: bearer(alice.key), payload: { login: 'bob', password } })).statusCode, 201);
    assert.equal((await app.request({ method: 'PUT', url: '/v1/accounts/acme/members/bob', headers: bearer(alice.key), payload: { role: 'admin' } })).statusCode, 201);
    const eve = await addUser(app, 'eve');
    assert.equal((await app.request({ method: 'POST', url: '/v1/accounts', headers: bearer(eve.key), payload: { name: 'evecorp' } })).statusCode, 201);

    const ui = await openConsole(t, app, `${kind}-trial`);
    const { page } = ui;
    await signIn(ui, 'alice', alice.password);
    await page.goto('/accounts/acme/service-keys');
    await page.getByRole('heading', { level: 1, name: 'Service API keys of acme' }).waitFor();
    await page.getByLabel('Role', { exact: true }).locator('option[value="runner"]').waitFor({ state: 'attached' });
    const options = await page.getByLabel('Role', { exact: true }).locator('option').allInnerTexts();
    assert.deepEqual(options, ['Choose a role…', 'admin', 'read_write', 'read_only', 'runner', 'ssh_server'], 'the API’s role names');
    const described = await page.getByRole('list', { name: 'What each role can do' }).getByRole('listitem').allInnerTexts();
    assert.deepEqual(
      described,
      (['admin', 'read_write', 'read_only', 'runner', 'ssh_server'] as const).map((r) => `${r}: ${roleDescriptions[r]}`),
    );
    await ui.checkPage('service-key-roles');

    // The account's own role list, and an unknown login.
    await page.goto('/accounts/acme/members');
    await page.getByRole('row', { name: /bob/ }).filter({ hasText: 'admin' }).waitFor();
    const refused = (await app.request({ method: 'PUT', url: '/v1/accounts/acme/members/newcomer', headers: bearer(alice.key), payload: { role: 'read_only' } })).json().error;
    ui.expectHttpError(404, '/v1/accounts/acme/members/newcomer');
    await page.getByLabel('Login', { exact: true }).fill('newcomer');
    await page.getByRole('button', { name: 'Add member' }).click();
    await page.getByRole('alert').filter({ hasText: refused.message }).waitFor();
    await page.getByText('a user must be created before they can be added to an account').waitFor();
    const create = page.getByRole('link', { name: 'create the user “newcomer”' });
    assert.equal(await create.getAttribute('href'), '/admin/users?create=newcomer');
    await ui.checkPage('member-unknown-site-admin');

    // Another account's address, and one that does not exist: the same not-found page, naming neither.
    for (const account of ['evecorp', 'nosuchaccount']) {
      await page.goto(`/accounts/${account}/members`);
      await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
      assert.equal(await page.title(), 'Page not found · Keysmith');
      assert.doesNotMatch(await page.locator('main').innerText(), new RegExp(account, 'i'));
      assert.equal(await page.getByRole('heading', { name: /Members of/ }).count(), 0);
    }
    await page.goto('/accounts/evecorp/projects/gh/anything');
    await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
    await ui.checkPage('account-not-found');
    await ui.finish();

    // An account admin who is not a site admin gets the sentence, without the offer.
    const asBob = await openConsole(t, app, `${kind}-trial-bob`);
    await signIn(asBob, 'bob', password);
    await asBob.page.goto('/accounts/acme/members');
    await asBob.page.getByRole('row', { name: /alice/ }).waitFor();
    asBob.expectHttpError(404, '/v1/accounts/acme/members/newcomer');
    await asBob.page.getByLabel('Login', { exact: true }).fill('newcomer');
    await asBob.page.getByRole('button', { name: 'Add member' }).click();
    await asBob.page.getByRole('alert').filter({ hasText: refused.message }).waitFor();
    assert.equal(await asBob.page.getByRole('link', { name: /create the user/ }).count(), 0);
    await asBob.finish();
  });

  test('a project: each public half with a copy button, an RSA checkout key, a pasted deploy key; buttons on one line', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme', 'web');
    const host = sshKeygen('ed25519');
    assert.equal(
      (await app.request({ method: 'POST', url: '/v1/projects/gh/acme/web/ssh-keys', headers: bearer(alice.key), payload: { hostname: 'deploy.example.com', private_key: host.privateKey } }))
        .statusCode,
      201,
    );
    const ui = await openConsole(t, app, `${kind}-trial`);
    const { page } = ui;
    await signIn(ui, 'alice', alice.password);
    await page.goto('/accounts/acme/projects/gh/web');

    // RSA beside ed25519.
    const algorithm = page.getByLabel('Key type');
    await algorithm.locator('option[value="rsa"]').waitFor({ state: 'attached' });
    assert.deepEqual(await algorithm.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)), ['ed25519', 'rsa']);
    await algorithm.selectOption('rsa');
    await page.getByRole('button', { name: 'Add deploy key' }).click();
    await page.getByRole('status').filter({ hasText: 'Added a deploy key' }).waitFor();
    const [checkout] = (await app.request({ method: 'GET', url: '/v1/projects/gh/acme/web/checkout-keys', headers: bearer(alice.key) })).json() as Array<{
      public_key: string;
      fingerprint_md5: string;
    }>;
    assert.match(checkout!.public_key, /^ssh-rsa /);

    // The checkout key's public half, in full, copied with its button.
    const checkoutHalf = page.getByRole('textbox', { name: `Public key of checkout key ${checkout!.fingerprint_md5}` });
    assert.equal(await checkoutHalf.inputValue(), checkout!.public_key);
    await page.getByRole('button', { name: `Copy public key of checkout key ${checkout!.fingerprint_md5}` }).click();
    await page.getByRole('status').filter({ hasText: 'Copied to the clipboard.' }).first().waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), checkout!.public_key);

    // The per-host key's public half: the line ssh-keygen wrote, less its comment.
    const hostHalf = page.getByRole('textbox', { name: /^Public key of the SSH key for deploy\.example\.com/ });
    assert.equal(await hostHalf.inputValue(), host.publicLine.split(' ').slice(0, 2).join(' '));
    await page.getByRole('button', { name: /^Copy public key of the SSH key for deploy\.example\.com/ }).click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), await hostHalf.inputValue());

    // A writer pastes an existing public key as a deploy key: read-only unless asked, with ssh-keygen's fingerprint.
    const pasted = sshKeygen('ed25519', undefined, 'release bot');
    await page.getByLabel('Title (optional)').fill('release bot');
    await page.getByLabel('Public key', { exact: true }).fill(pasted.publicLine);
    await page.getByRole('button', { name: 'Add public key' }).click();
    const sha256 = keygenFingerprint(pasted.publicFile, 'sha256').fingerprint;
    await page
      .getByRole('status')
      .filter({ hasText: `Added the deploy key “release bot” (${sha256}).` })
      .waitFor();
    const row = page.getByRole('row', { name: /release bot/ });
    await row.filter({ hasText: sha256 }).filter({ hasText: 'read only' }).waitFor();
    assert.equal(await row.getByRole('cell').nth(4).innerText(), 'Never', 'last used');
    const deployKeys = (await app.request({ method: 'GET', url: '/v1/projects/gh/acme/web/deploy-keys', headers: bearer(alice.key) })).json() as Array<{
      title: string;
      fingerprint_sha256: string;
      read_only: boolean;
    }>;
    assert.deepEqual(
      deployKeys.filter((k) => k.title === 'release bot').map((k) => [k.fingerprint_sha256, k.read_only]),
      [[sha256, true]],
    );
    // The RSA checkout key's public half is a deploy key too, marked as such.
    await page.getByRole('row', { name: /a checkout key/ }).waitFor();
    await assertOneLineButtons(page, 'table', 6);
    await ui.checkPage('project-public-halves');

    // A private key pasted by mistake is refused with the parser's sentence and leaves the form.
    const refusal = (await app.request({ method: 'POST', url: '/v1/projects/gh/acme/web/deploy-keys', headers: bearer(alice.key), payload: { key: pasted.privateKey } })).json().error;
    ui.expectHttpError(422, '/v1/projects/gh/acme/web/deploy-keys');
    await page.getByLabel('Public key', { exact: true }).fill(pasted.privateKey);
    await page.getByRole('button', { name: 'Add public key' }).click();
    await page.getByRole('alert').filter({ hasText: refusal.message }).waitFor();
    assert.equal(await page.getByLabel('Public key', { exact: true }).inputValue(), '');

    await page.getByRole('button', { name: 'Delete the deploy key release bot' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete the deploy key' }).click();
    await page.getByRole('status').filter({ hasText: 'Deleted the deploy key “release bot”.' }).waitFor();
    await row.waitFor({ state: 'detached' });
    await ui.finish();
  });
});
