// Site admins administer users: list, read, change, delete. The last site admin who is not disabled
// can be neither demoted, disabled nor deleted; a user who alone owns an account cannot be deleted;
// deleting takes everything the user owns in one audited transaction.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Database } from '../src/db/schema.ts';
import { addProject, addServiceKey, addUser, rowCount, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase, type TestApp } from './harness.ts';
import { ed25519Line } from './ssh-fixtures.ts';

const json = { 'content-type': 'application/json' };

async function auditActions(app: TestApp, action: string) {
  return app.services.db.selectFrom('audit_events').select(['actor_label', 'target_label', 'details']).where('action', '=', action).orderBy('id').execute();
}

const countAll = async (app: TestApp, tables: (keyof Database)[]) => Object.fromEntries(await Promise.all(tables.map(async (t) => [t, await rowCount(app, t)] as const)));

forEachDatabase('user administration', (kind) => {
  test('a site admin lists users by login with a prefix filter and paging, and reads one; others are refused', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    for (const login of ['bob', 'Bea', 'carol']) await addUser(app, login);
    const all = await app.request({ method: 'GET', url: '/v1/admin/users', headers: bearer(alice.key) });
    assert.equal(all.statusCode, 200, all.body);
    assert.deepEqual(
      all.json().map((u: { login: string }) => u.login),
      ['alice', 'Bea', 'bob', 'carol'],
    );
    assert.equal(all.headers['x-total-count'], '4');
    assert.deepEqual(Object.keys(all.json()[0]).sort(), ['created_at', 'disabled', 'email', 'has_password', 'id', 'login', 'name', 'site_admin']);
    assert.equal(all.json()[0].has_password, true);
    assert.equal(all.json()[1].has_password, false);
    assert.equal(all.json()[0].disabled, false);

    const b = await app.request({ method: 'GET', url: '/v1/admin/users?login_prefix=B&per_page=1', headers: bearer(alice.key) });
    assert.deepEqual(
      b.json().map((u: { login: string }) => u.login),
      ['Bea'],
    );
    assert.equal(b.headers['x-total-count'], '2');
    assert.match(String(b.headers.link), /rel="next"/);
    // LIKE's wildcards in a prefix match only themselves.
    const wild = await app.request({ method: 'GET', url: '/v1/admin/users?login_prefix=%25', headers: bearer(alice.key) });
    assert.deepEqual(wild.json(), []);

    const one = await app.request({ method: 'GET', url: '/v1/admin/users/BOB', headers: bearer(alice.key) });
    assert.equal(one.statusCode, 200);
    assert.equal(one.json().login, 'bob');
    const missing = await app.request({ method: 'GET', url: '/v1/admin/users/nobody', headers: bearer(alice.key) });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, 'not_found');
    assert.match(missing.json().error.message, /no user with the login "nobody"/);
    for (const name of ['__proto__', 'constructor']) {
      assert.equal((await app.request({ method: 'GET', url: `/v1/admin/users/${name}`, headers: bearer(alice.key) })).statusCode, 404);
    }

    const bob = await addUser(app, 'bobby');
    const refused = await app.request({ method: 'GET', url: '/v1/admin/users', headers: bearer(bob.key) });
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().error.code, 'site_admin_required');
    const service = await addServiceKey(app, alice.key, 'acme', 'admin');
    assert.equal((await app.request({ method: 'GET', url: '/v1/admin/users/bob', headers: bearer(service.key) })).json().error.code, 'site_admin_required');
    const scoped = await app.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(alice.key), payload: { name: 'scoped', scopes: ['read:project'] } });
    const scopedList = await app.request({ method: 'GET', url: '/v1/admin/users', headers: bearer(scoped.json().key) });
    assert.equal(scopedList.statusCode, 403);
    assert.equal(scopedList.json().error.code, 'unrestricted_key_required');
  });

  test('PATCH changes name, email and site_admin, audited; bad input is a 400 and changes nothing', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const bob = await addUser(app, 'bob');
    const res = await app.request({ method: 'PATCH', url: '/v1/admin/users/bob', headers: { ...bearer(alice.key), ...json }, payload: { name: 'Bob B', email: 'bob@example.com', site_admin: true } });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().name, 'Bob B');
    assert.equal(res.json().email, 'bob@example.com');
    assert.equal(res.json().site_admin, true);
    // The cached key of bob carries the new flag at once.
    const asAdmin = await app.request({ method: 'GET', url: '/v1/admin/users', headers: bearer(bob.key) });
    assert.equal(asAdmin.statusCode, 200, asAdmin.body);
    const [update] = await auditActions(app, 'user.update');
    assert.equal(update!.actor_label, 'alice');
    assert.equal(update!.target_label, 'bob');
    assert.deepEqual(JSON.parse(update!.details!), { fields: 'name, email, site_admin', site_admin: true });

    const before = JSON.stringify(await app.services.db.selectFrom('users').selectAll().orderBy('id').execute());
    for (const payload of [{ email: 'not an email' }, { site_admin: 'yes' }, { disabled: 1 }, { login: 'renamed' }, { name: 'x'.repeat(256) }]) {
      const bad = await app.request({ method: 'PATCH', url: '/v1/admin/users/bob', headers: { ...bearer(alice.key), ...json }, payload });
      assert.equal(bad.statusCode, 400, `${JSON.stringify(payload)}: ${bad.body}`);
      assert.equal(bad.json().error.code, 'validation_failed');
    }
    assert.equal(JSON.stringify(await app.services.db.selectFrom('users').selectAll().orderBy('id').execute()), before);
    const cleared = await app.request({ method: 'PATCH', url: '/v1/admin/users/bob', headers: { ...bearer(alice.key), ...json }, payload: { name: null } });
    assert.equal(cleared.json().name, null);
    const unknown = await app.request({ method: 'PATCH', url: '/v1/admin/users/nobody', headers: { ...bearer(alice.key), ...json }, payload: { name: 'x' } });
    assert.equal(unknown.statusCode, 404);
  });

  test('the last site admin who is not disabled can be neither demoted, disabled nor deleted', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const headers = { ...bearer(alice.key), ...json };
    for (const payload of [{ site_admin: false }, { disabled: true }, { site_admin: false, name: 'Alice' }]) {
      const res = await app.request({ method: 'PATCH', url: '/v1/admin/users/alice', headers, payload });
      assert.equal(res.statusCode, 409, res.body);
      assert.equal(res.json().error.code, 'last_site_admin');
      assert.match(res.json().error.message, /alice is the last site admin who is not disabled, so they cannot be (demoted|disabled)/);
    }
    const del = await app.request({ method: 'DELETE', url: '/v1/admin/users/alice', headers: bearer(alice.key) });
    assert.equal(del.statusCode, 409);
    assert.equal(del.json().error.code, 'last_site_admin');
    assert.match(del.json().error.message, /cannot be deleted/);
    const row = await app.services.db.selectFrom('users').selectAll().executeTakeFirstOrThrow();
    assert.equal(row.name, null, 'the refused PATCH changed nothing');
    assert.equal(row.disabled_at, null);
    assert.equal(await rowCount(app, 'users'), 1);

    // A second site admin who is disabled does not count; once enabled, alice may step down.
    await addUser(app, 'bob');
    await app.request({ method: 'PATCH', url: '/v1/admin/users/bob', headers, payload: { site_admin: true } });
    assert.equal((await app.request({ method: 'PATCH', url: '/v1/admin/users/bob', headers, payload: { disabled: true } })).statusCode, 200);
    assert.equal((await app.request({ method: 'PATCH', url: '/v1/admin/users/alice', headers, payload: { site_admin: false } })).statusCode, 409);
    assert.equal((await app.request({ method: 'PATCH', url: '/v1/admin/users/bob', headers, payload: { disabled: false } })).statusCode, 200);
    const demoted = await app.request({ method: 'PATCH', url: '/v1/admin/users/alice', headers, payload: { site_admin: false } });
    assert.equal(demoted.statusCode, 200, demoted.body);
    assert.equal(demoted.json().site_admin, false);
    assert.equal(await auditActions(app, 'user.disable').then((r) => r.length), 1);
    assert.equal(await auditActions(app, 'user.enable').then((r) => r.length), 1);
  });

  test('deleting a user removes what they own in one transaction, audited; the last owner of an account is refused', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const bob = await addUser(app, 'bob', { account: 'acme', role: 'read_write', by: alice.key });
    await addProject(app, alice.key, 'acme', 'web');
    const bobHeaders = { ...bearer(bob.key), ...json };
    assert.equal((await app.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bobHeaders, payload: { key: ed25519Line() } })).statusCode, 201);
    assert.equal((await app.request({ method: 'PUT', url: '/v1/user/grants/write:public_key', headers: bearer(bob.key) })).statusCode, 200);
    const checkout = await app.request({ method: 'POST', url: '/v1/projects/gh/acme/web/checkout-keys', headers: bobHeaders, payload: { type: 'user' } });
    assert.equal(checkout.statusCode, 201, checkout.body);
    assert.equal((await app.request({ method: 'PUT', url: '/v1/user/integrations/heroku', headers: bobHeaders, payload: { apikey: 'heroku-0123456789' } })).statusCode, 200);
    const bobco = await app.request({ method: 'POST', url: '/v1/accounts', headers: bobHeaders, payload: { name: 'bobco' } });
    assert.equal(bobco.statusCode, 201);
    assert.equal((await app.request({ method: 'POST', url: '/v1/admin/users/bob/password-reset', headers: bearer(alice.key) })).statusCode, 201);
    assert.equal((await app.services.passwords.setPasswordByOperator({ cli: true }, 'bob', 'a long enough password')).login, 'bob');
    assert.equal((await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'bob', password: 'a long enough password' } })).statusCode, 200);

    const tables: (keyof Database)[] = ['users', 'owner_names', 'memberships', 'sessions', 'api_keys', 'ssh_keys', 'checkout_keys', 'grants', 'heroku_keys', 'accounts', 'password_resets'];
    const before = await countAll(app, tables);
    const soleOwner = await app.request({ method: 'DELETE', url: '/v1/admin/users/bob', headers: bearer(alice.key) });
    assert.equal(soleOwner.statusCode, 409, soleOwner.body);
    assert.equal(soleOwner.json().error.code, 'last_owner');
    assert.match(soleOwner.json().error.message, /bob is the only owner of account bobco/);
    assert.match(soleOwner.json().error.remedy, /make another owner first or delete the account/i);
    assert.deepEqual(await countAll(app, tables), before, 'nothing half-written');

    assert.equal((await app.request({ method: 'DELETE', url: '/v1/accounts/bobco', headers: bearer(bob.key) })).statusCode, 204);
    const del = await app.request({ method: 'DELETE', url: '/v1/admin/users/bob', headers: bearer(alice.key) });
    assert.equal(del.statusCode, 204, del.body);
    const after = await countAll(app, tables);
    assert.deepEqual(after, {
      users: 1,
      owner_names: 2,
      memberships: 1,
      sessions: 0,
      api_keys: 1,
      ssh_keys: 0,
      checkout_keys: 0,
      grants: 0,
      heroku_keys: 0,
      accounts: 1,
      password_resets: 0,
    });
    // The key stops at once, and the name is free again.
    assert.equal((await app.request({ method: 'GET', url: '/v1/user', headers: bearer(bob.key) })).statusCode, 401);
    const [deleted] = await auditActions(app, 'user.delete');
    assert.equal(deleted!.actor_label, 'alice');
    assert.deepEqual(JSON.parse(deleted!.details!), { site_admin: false, checkout_keys: 1 });
    const removedKeys = await app.services.db.selectFrom('audit_events').select('details').where('action', '=', 'checkout_key.delete').execute();
    assert.equal(removedKeys.length, 1);
    assert.match(removedKeys[0]!.details!, /user deleted/);
    const again = await app.request({ method: 'POST', url: '/v1/admin/users', headers: { ...bearer(alice.key), ...json }, payload: { login: 'BOB' } });
    assert.equal(again.statusCode, 201, again.body);
    assert.equal((await app.request({ method: 'DELETE', url: '/v1/admin/users/nobody', headers: bearer(alice.key) })).statusCode, 404);
  });

  test('a site admin may delete another site admin, and a user who shares ownership', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    await addUser(app, 'bob', { account: 'acme', role: 'owner', by: alice.key });
    const headers = { ...bearer(alice.key), ...json };
    await app.request({ method: 'PATCH', url: '/v1/admin/users/bob', headers, payload: { site_admin: true } });
    const del = await app.request({ method: 'DELETE', url: '/v1/admin/users/bob', headers: bearer(alice.key) });
    assert.equal(del.statusCode, 204, del.body);
    assert.equal(await rowCount(app, 'memberships'), 1);
  });
});
