// The console in a real browser, part 2: the grant-required flow end to end, and an account's
// settings (members, the account switcher, service keys, projects with their checkout and per-host
// keys, the audit log). Every change the page reports is checked against the API itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addProject, addUser, seed } from '../factories.ts';
import { appFor, bearer, forEachDatabase, type TestApp } from '../harness.ts';
import { keygenFingerprint, sshKeygen } from '../ssh-fixtures.ts';
import { openConsole, signIn } from './browser.ts';

const userKeysOf = async (app: TestApp, key: string) => (await app.request({ method: 'GET', url: '/v1/user/ssh-keys', headers: bearer(key) })).json() as Array<{ key: string; title: string }>;
const checkoutKeysOf = async (app: TestApp, key: string, slug: string) =>
  (await app.request({ method: 'GET', url: `/v1/projects/${slug}/checkout-keys`, headers: bearer(key) })).json() as Array<{ public_key: string; type: string }>;

forEachDatabase('console: permissions and account settings', (kind) => {
  test('grant required, end to end: the refusal says so on the project page and links to Permissions with the grant selected; given, retried, revoked', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    const ui = await openConsole(t, app, kind);
    const { page } = ui;
    await signIn(ui, 'alice', alice.password);

    await page.getByRole('link', { name: 'Projects' }).click();
    await page.getByRole('heading', { level: 1, name: 'Projects of acme' }).waitFor();
    await page.getByLabel('Repository name').fill('web');
    await page.getByRole('button', { name: 'Add project' }).click();
    await page.getByRole('status').filter({ hasText: 'Created the project gh/acme/web.' }).waitFor();
    await ui.checkPage('projects');
    await page.getByRole('link', { name: 'web', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'GitHub project acme/web' }).waitFor();
    await page.getByText('No checkout keys yet.').waitFor();

    // The refusal: a sentence for a person (the API's text, with its PUT, is for API clients), with the way to fix it.
    const refusal = (await app.request({ method: 'POST', url: '/v1/projects/gh/acme/web/checkout-keys', headers: bearer(alice.key), payload: { type: 'user' } })).json().error;
    assert.equal(refusal.code, 'grant_required');
    ui.expectHttpError(403, '/v1/projects/gh/acme/web/checkout-keys');
    await page.getByRole('button', { name: 'Add user key' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'This needs your permission “Projects may put SSH keys on my account”' });
    await alert.waitFor();
    assert.doesNotMatch(await alert.innerText(), /PUT|\/v1\//, 'no API text on the page');
    await ui.checkPage('project-grant-required');
    await alert.getByRole('link', { name: 'Give this permission in Settings → Permissions' }).click();

    await page.waitForURL(/\/settings\/permissions\?grant=write:public_key&project=gh\/acme\/web$/);
    const card = page.getByRole('article', { name: 'Projects may put SSH keys on my account' });
    assert.equal(await card.getAttribute('aria-current'), 'true', 'the grant is selected');
    await card.getByText('The project gh/acme/web asked for this permission.').waitFor();
    await card.getByText('Not given').waitFor();
    await ui.checkPage('permissions-grant-selected');
    await card.getByRole('button', { name: 'Give this permission' }).click();
    await card.getByText('Given').waitFor();
    await page.getByRole('link', { name: 'Go back to where you were' }).click();

    // The retry works, and the key is on alice's own account.
    await page.getByRole('heading', { level: 1, name: 'GitHub project acme/web' }).waitFor();
    await page.getByRole('button', { name: 'Add user key' }).click();
    await page.getByRole('status').filter({ hasText: 'Added a user key' }).waitFor();
    await page
      .getByRole('row', { name: /User key/ })
      .filter({ hasText: 'Preferred' })
      .waitFor();
    const [userCheckout] = await checkoutKeysOf(app, alice.key, 'gh/acme/web');
    assert.ok(
      (await userKeysOf(app, alice.key)).some((k) => userCheckout!.public_key.startsWith(k.key)),
      'the user key is in /v1/user/ssh-keys',
    );
    await page.getByRole('button', { name: 'Add deploy key' }).click();
    await page.getByRole('row', { name: /Deploy key/ }).waitFor();
    await ui.checkPage('project-checkout-keys');

    // Revoking touches nothing else unless asked; asked, it removes the key made under it.
    await page.getByRole('link', { name: 'Permissions' }).click();
    await page.getByText('One key was made under it: gh/acme/web.').waitFor();
    await page.getByRole('button', { name: 'Revoke permission write:public_key' }).click();
    let dialog = page.getByRole('dialog', { name: 'Revoke “Projects may put SSH keys on my account”?' });
    await dialog.getByText('gh/acme/web').waitFor();
    await ui.checkPage('permissions-revoke-dialog');
    await dialog.getByRole('button', { name: 'Revoke permission' }).click();
    await page.getByRole('status').filter({ hasText: 'Revoked write:public_key. Keys made under it keep working.' }).waitFor();
    assert.equal((await userKeysOf(app, alice.key)).length, 1);
    assert.equal((await checkoutKeysOf(app, alice.key, 'gh/acme/web')).length, 2);

    await page.getByRole('button', { name: 'Give this permission' }).click();
    await page.getByRole('button', { name: 'Revoke permission write:public_key' }).click();
    dialog = page.getByRole('dialog');
    await dialog.getByLabel('Also remove this key (and their checkout keys)').check();
    await dialog.getByRole('button', { name: 'Revoke permission' }).click();
    await page.getByRole('status').filter({ hasText: 'Revoked write:public_key and removed the key made under it.' }).waitFor();
    assert.deepEqual(await userKeysOf(app, alice.key), []);
    assert.deepEqual(
      (await checkoutKeysOf(app, alice.key, 'gh/acme/web')).map((k) => k.type),
      ['deploy'],
      'only the deploy key is left',
    );

    // The deploy key, then the project itself, deleted from their pages.
    await page.getByRole('link', { name: 'Projects' }).click();
    await page.getByRole('link', { name: 'web', exact: true }).click();
    const deployRow = page.getByRole('row', { name: /Deploy key/ });
    await deployRow.getByRole('button', { name: /^Delete checkout key/ }).click();
    await page.getByRole('dialog', { name: 'Delete this checkout key?' }).getByRole('button', { name: 'Delete checkout key' }).click();
    await page.getByText('No checkout keys yet.').waitFor();
    assert.deepEqual(await checkoutKeysOf(app, alice.key, 'gh/acme/web'), []);
    await page.getByRole('link', { name: '← All projects of acme' }).click();
    await page.getByRole('button', { name: 'Delete project gh/acme/web' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete project' }).click();
    await page.getByText('No projects yet.').waitFor();
    assert.equal((await app.request({ method: 'GET', url: '/v1/projects/gh/acme/web', headers: bearer(alice.key) })).statusCode, 404);
    await ui.finish();
  });

  test('a grant_url opened while signed out leads through sign-in to the grant, selected', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    const ui = await openConsole(t, app, kind);
    const { page } = ui;
    await addProject(app, alice.key, 'acme', 'web');
    const grantUrl = (await app.request({ method: 'POST', url: '/api/v1.1/project/gh/acme/web/checkout-key', headers: bearer(alice.key), payload: { type: 'github-user-key' } })).json().grant_url;
    assert.equal(grantUrl, `${app.url}/settings/permissions?grant=write:public_key&project=gh/acme/web`);
    await page.goto(grantUrl);
    await page.waitForURL(/\/sign-in\?next=/);
    await signIn(ui, 'alice', alice.password, 'Permissions');
    assert.equal(page.url(), grantUrl);
    assert.equal(await page.getByRole('article', { name: 'Projects may put SSH keys on my account' }).getAttribute('aria-current'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Give this permission', 'focus is on the way to give it');
    await ui.finish();
  });

  test('members, the account switcher, and service keys', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    await addUser(app, 'bob');
    await addUser(app, 'carol', { account: 'acme', role: 'read_write', by: alice.key });
    assert.equal((await app.request({ method: 'POST', url: '/v1/accounts', headers: bearer(alice.key), payload: { name: 'beta' } })).statusCode, 201);
    const members = async () =>
      (await app.request({ method: 'GET', url: '/v1/accounts/acme/members', headers: bearer(alice.key) })).json().map((m: { login: string; role: string }) => `${m.login}:${m.role}`);
    const ui = await openConsole(t, app, kind);
    const { page } = ui;
    await signIn(ui, 'alice', alice.password);

    await page.getByRole('link', { name: 'Members' }).click();
    await page.getByRole('heading', { level: 1, name: 'Members of acme' }).waitFor();
    await page.getByRole('row', { name: /carol/ }).waitFor();
    await ui.checkPage('members');

    await page.getByLabel('Login', { exact: true }).fill('bob');
    await page.getByLabel('Role', { exact: true }).selectOption('admin');
    await page.getByRole('button', { name: 'Add member' }).click();
    await page.getByRole('status').filter({ hasText: 'bob is now admin in acme.' }).waitFor();
    assert.deepEqual(await members(), ['alice:owner', 'bob:admin', 'carol:read_write']);

    // Choosing a role changes nothing until its button is pressed (keyboard users browse options).
    await page.getByLabel('Role of bob', { exact: true }).selectOption('read_only');
    assert.deepEqual(await members(), ['alice:owner', 'bob:admin', 'carol:read_write']);
    await page.getByRole('button', { name: 'Change role of bob' }).click();
    await page.getByRole('status').filter({ hasText: 'bob is now read_only in acme.' }).waitFor();
    assert.deepEqual(await members(), ['alice:owner', 'bob:read_only', 'carol:read_write']);

    // Refusals are the server's sentences: the last owner cannot step down.
    const lastOwner = await app.request({ method: 'PUT', url: '/v1/accounts/acme/members/alice', headers: bearer(alice.key), payload: { role: 'admin' } });
    assert.equal(lastOwner.statusCode, 409);
    ui.expectHttpError(409, '/v1/accounts/acme/members/alice');
    await page.getByLabel('Role of alice', { exact: true }).selectOption('admin');
    await page.getByRole('button', { name: 'Change role of alice' }).click();
    await page.getByRole('alert').filter({ hasText: lastOwner.json().error.message }).waitFor();
    assert.deepEqual(await members(), ['alice:owner', 'bob:read_only', 'carol:read_write'], 'nothing changed');

    await page.getByRole('button', { name: 'Remove member bob' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove member' }).click();
    await page.getByRole('status').filter({ hasText: 'Removed bob from acme.' }).waitFor();
    assert.deepEqual(await members(), ['alice:owner', 'carol:read_write']);

    // The switcher keeps the page and changes the account.
    await page.getByLabel('Account', { exact: true }).selectOption('beta');
    await page.getByRole('button', { name: 'Switch' }).click();
    await page.waitForURL(/\/accounts\/beta\/members$/);
    await page.getByRole('heading', { level: 1, name: 'Members of beta' }).waitFor();
    // From the moment the heading changes, no row of acme may show; then beta's own members arrive.
    assert.equal(await page.getByRole('row', { name: /carol/ }).count(), 0);
    await page.getByRole('row', { name: /alice/ }).waitFor();
    assert.equal(await page.getByRole('row', { name: /carol/ }).count(), 0);
    await page.getByLabel('Account', { exact: true }).selectOption('acme');
    await page.getByRole('button', { name: 'Switch' }).click();
    await page.getByRole('heading', { level: 1, name: 'Members of acme' }).waitFor();

    await page.getByRole('link', { name: 'Service API keys' }).click();
    await page.getByRole('heading', { level: 1, name: 'Service API keys of acme' }).waitFor();
    await ui.checkPage('service-keys');
    await page.getByLabel('Name').fill('ci runner');
    await page.getByLabel('Role', { exact: true }).selectOption('runner');
    await page.getByRole('button', { name: 'Create API key' }).click();
    const secret = await page.getByLabel('Your new API key').inputValue();
    assert.match(secret, /^kss_[0-9A-Za-z]{36}$/);
    await page.getByText('This is the only time Keysmith shows this key.').waitFor();
    const me = await (await fetch(`${app.url}/v1/user`, { headers: bearer(secret) })).json();
    assert.equal(me.service_key.role, 'runner');

    // Switching account while the secret shows leaves it behind: nothing of acme's follows into beta.
    await page.getByLabel('Account', { exact: true }).selectOption('beta');
    await page.getByRole('button', { name: 'Switch' }).click();
    await page.getByRole('heading', { level: 1, name: 'Service API keys of beta' }).waitFor();
    await page.getByText('No API keys yet.').waitFor();
    assert.equal(await page.getByLabel('Your new API key').count(), 0, 'the secret is not carried into beta');
    await page.goBack();
    await page.getByRole('heading', { level: 1, name: 'Service API keys of acme' }).waitFor();
    await page.getByRole('row', { name: /ci runner/ }).waitFor();
    assert.equal(await page.getByLabel('Your new API key').count(), 0, 'coming back does not show it again');
    await page
      .getByRole('row', { name: /ci runner/ })
      .filter({ hasText: 'runner' })
      .filter({ hasText: secret.slice(0, 8) })
      .waitFor();
    await ui.checkPage('service-keys-listed');
    await page.getByRole('button', { name: 'Delete key ci runner' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete key' }).click();
    await page.getByText('No API keys yet.').waitFor();
    assert.equal((await fetch(`${app.url}/v1/user`, { headers: bearer(secret) })).status, 401);
    await ui.finish();
  });

  test('a read-only member is offered only what the role allows; a page opened by address gets the server’s sentence', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    const password = 'dan has a long password';
    const created = await app.request({ method: 'POST', url: '/v1/admin/users', headers: bearer(alice.key), payload: { login: 'dan', password } });
    assert.equal(created.statusCode, 201, created.body);
    await app.request({ method: 'PUT', url: '/v1/accounts/acme/members/dan', headers: bearer(alice.key), payload: { role: 'read_only' } });
    await addProject(app, alice.key, 'acme', 'web');
    await app.request({ method: 'POST', url: '/v1/projects/gh/acme/web/checkout-keys', headers: bearer(alice.key), payload: { type: 'deploy' } });
    const ui = await openConsole(t, app, kind);
    const { page } = ui;
    await signIn(ui, 'dan', password);

    const menu = page.getByRole('navigation', { name: 'Settings' });
    await menu.getByText('Your role here: read_only').waitFor();
    for (const offered of ['Members', 'Projects']) assert.equal(await menu.getByRole('link', { name: offered, exact: true }).count(), 1, offered);
    for (const hidden of ['Service API keys', 'Audit log']) assert.equal(await menu.getByRole('link', { name: hidden }).count(), 0, hidden);

    await menu.getByRole('link', { name: 'Members' }).click();
    await page.getByRole('row', { name: /alice/ }).waitFor();
    assert.equal(await page.getByRole('combobox', { name: /Role of/ }).count(), 0, 'roles are shown, not offered for change');
    assert.equal(await page.getByRole('button', { name: /Remove member/ }).count(), 0);
    await ui.checkPage('members-read-only');

    await menu.getByRole('link', { name: 'Projects' }).click();
    await page.getByRole('link', { name: 'web', exact: true }).click();
    await page.getByRole('row', { name: /Deploy key/ }).waitFor();
    assert.equal(await page.getByRole('button', { name: /Delete|Add deploy key|Add user key|Add SSH key/ }).count(), 0, 'no change is offered');
    await ui.checkPage('project-read-only');

    ui.expectHttpError(403, '/v1/audit-events');
    await page.goto('/accounts/acme/audit-log');
    await page.getByRole('alert').filter({ hasText: 'needs the admin or owner role in account acme' }).waitFor();
    await ui.finish();
  });

  test('per-host SSH keys: a refused private key says why; one is added with ssh-keygen’s fingerprints and deleted', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme', 'deploy');
    const ui = await openConsole(t, app, kind);
    const { page } = ui;
    await signIn(ui, 'alice', alice.password);
    await page.goto('/accounts/acme/projects/gh/deploy');
    await page.getByText('No per-host SSH keys yet.').waitFor();

    const garbage = await app.request({ method: 'POST', url: '/v1/projects/gh/acme/deploy/ssh-keys', headers: bearer(alice.key), payload: { hostname: 'x', private_key: 'not a key at all' } });
    ui.expectHttpError(garbage.statusCode, '/v1/projects/gh/acme/deploy/ssh-keys');
    await page.getByLabel('Private key').fill('not a key at all');
    await page.getByRole('button', { name: 'Add SSH key' }).click();
    await page.getByRole('alert').filter({ hasText: garbage.json().error.message }).waitFor();

    const pair = sshKeygen('ed25519');
    await page.getByLabel('Hostname').fill('deploy.example.com');
    await page.getByLabel('Private key').fill(pair.privateKey);
    await page.getByRole('button', { name: 'Add SSH key' }).click();
    const md5 = keygenFingerprint(pair.publicFile, 'md5').fingerprint.replace(/^MD5:/, '');
    const sha256 = keygenFingerprint(pair.publicFile, 'sha256').fingerprint;
    await page
      .getByRole('row', { name: /deploy\.example\.com/ })
      .filter({ hasText: md5 })
      .filter({ hasText: sha256 })
      .waitFor();
    assert.equal(await page.getByLabel('Private key').inputValue(), '', 'the private key leaves the form');
    await ui.checkPage('project-host-keys');

    await page.getByRole('button', { name: `Delete SSH key for deploy.example.com ${md5}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete SSH key' }).click();
    await page.getByText('No per-host SSH keys yet.').waitFor();
    const left = (await app.request({ method: 'GET', url: '/v1/projects/gh/acme/deploy/ssh-keys', headers: bearer(alice.key) })).json();
    assert.deepEqual(left, []);
    await ui.finish();
  });

  test('audit log: filtered by action and paged', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    for (let i = 1; i <= 27; i++) await addProject(app, alice.key, 'acme', `p${i}`);
    await addUser(app, 'bob', { account: 'acme', role: 'read_only', by: alice.key });
    const ui = await openConsole(t, app, kind);
    const { page } = ui;
    await signIn(ui, 'alice', alice.password);
    await page.getByRole('link', { name: 'Audit log', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log of acme' }).waitFor();
    await ui.checkPage('audit-log');

    await page.getByLabel('Action').selectOption('member.add');
    await page.waitForURL(/\?action=member\.add$/);
    await page.getByText('Page 1 of 1 (1 in all)').waitFor();
    const rows = page.locator('tbody tr');
    assert.equal(await rows.count(), 1);
    assert.match((await rows.first().textContent()) ?? '', /member\.add.*alice.*bob/);

    await page.getByLabel('Action').selectOption('project.create');
    await page.getByText('Page 1 of 2 (27 in all)').waitFor();
    assert.equal(await rows.count(), 25);
    assert.match((await rows.first().textContent()) ?? '', /p27/, 'newest first');
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('Page 2 of 2 (27 in all)').waitFor();
    await page.waitForURL(/\?action=project\.create&page=2$/);
    assert.equal(await rows.count(), 2);
    assert.match((await rows.last().textContent()) ?? '', /p1\b/);
    assert.equal(await page.getByRole('button', { name: 'Next page' }).isDisabled(), true);
    await ui.checkPage('audit-log-page-2');
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.getByText('Page 1 of 2 (27 in all)').waitFor();
    await ui.finish();
  });
});
