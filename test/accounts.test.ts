// Accounts, memberships and the shared namespace of logins and account names (README: the native API).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addServiceKey, addUser, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase } from './harness.ts';

forEachDatabase('accounts and members', (kind) => {
  test('creating an account makes the caller its owner; names are unique across logins and accounts, ignoring case', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const created = await app.request({ method: 'POST', url: '/v1/accounts', headers: bearer(alice.key), payload: { name: 'Globex' } });
    assert.equal(created.statusCode, 201);
    assert.equal(created.json().role, 'owner');
    for (const name of ['globex', 'ALICE', 'Acme']) {
      const res = await app.request({ method: 'POST', url: '/v1/accounts', headers: bearer(alice.key), payload: { name } });
      assert.equal(res.statusCode, 409, name);
      assert.equal(res.json().error.code, 'name_taken');
    }
    const user = await app.request({ method: 'POST', url: '/v1/admin/users', headers: bearer(alice.key), payload: { login: 'GLOBEX' } });
    assert.equal(user.statusCode, 409);
    const list = await app.request({ method: 'GET', url: '/v1/accounts', headers: bearer(alice.key) });
    assert.deepEqual(
      list.json().map((a: { name: string; role: string }) => [a.name, a.role]),
      [
        ['acme', 'owner'],
        ['Globex', 'owner'],
      ],
    );
  });

  test('admins manage roles below owner; only owners make or unmake owners', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const bob = await addUser(app, 'bob', { account: 'acme', role: 'admin', by: alice.key });
    await addUser(app, 'carol', { account: 'acme', role: 'read_only', by: alice.key });
    const put = (key: string, login: string, role: string) => app.request({ method: 'PUT', url: `/v1/accounts/acme/members/${login}`, headers: bearer(key), payload: { role } });
    assert.equal((await put(bob.key, 'carol', 'read_write')).statusCode, 200);
    const promote = await put(bob.key, 'carol', 'owner');
    assert.equal(promote.statusCode, 403);
    assert.match(promote.json().error.message, /Making or removing owners needs the owner role/);
    assert.equal((await put(bob.key, 'alice', 'read_only')).statusCode, 403, 'an admin cannot demote an owner');
    assert.equal((await put(alice.key, 'carol', 'owner')).statusCode, 200);
    const members = await app.request({ method: 'GET', url: '/v1/accounts/acme/members', headers: bearer(bob.key) });
    assert.deepEqual(
      members.json().map((m: { login: string; role: string }) => [m.login, m.role]),
      [
        ['alice', 'owner'],
        ['bob', 'admin'],
        ['carol', 'owner'],
      ],
    );
    const events = await app.services.db.selectFrom('audit_events').select(['action', 'details']).where('action', '=', 'member.role_change').execute();
    assert.equal(events.length, 2);
  });

  test('the last owner can be neither removed nor demoted; the account can be deleted by its owner', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const demote = await app.request({ method: 'PUT', url: '/v1/accounts/acme/members/alice', headers: bearer(alice.key), payload: { role: 'admin' } });
    assert.equal(demote.statusCode, 409);
    assert.equal(demote.json().error.code, 'last_owner');
    const leave = await app.request({ method: 'DELETE', url: '/v1/accounts/acme/members/alice', headers: bearer(alice.key) });
    assert.equal(leave.statusCode, 409);
    assert.match(leave.json().error.message, /without an owner/);
    assert.equal((await app.request({ method: 'DELETE', url: '/v1/accounts/acme', headers: bearer(alice.key) })).statusCode, 204);
    assert.deepEqual((await app.request({ method: 'GET', url: '/v1/accounts', headers: bearer(alice.key) })).json(), []);
    const again = await app.request({ method: 'POST', url: '/v1/accounts', headers: bearer(alice.key), payload: { name: 'acme' } });
    assert.equal(again.statusCode, 201, 'the name is free again');
  });

  test('a member may leave on their own; an unknown login or account is a 404', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const dan = await addUser(app, 'dan', { account: 'acme', role: 'read_only', by: alice.key });
    assert.equal((await app.request({ method: 'DELETE', url: '/v1/accounts/acme/members/dan', headers: bearer(dan.key) })).statusCode, 204);
    const ghost = await app.request({ method: 'PUT', url: '/v1/accounts/acme/members/ghost', headers: bearer(alice.key), payload: { role: 'read_only' } });
    assert.equal(ghost.statusCode, 404);
    const notMine = await app.request({ method: 'GET', url: '/v1/accounts/nowhere/members', headers: bearer(alice.key) });
    assert.equal(notMine.statusCode, 404);
  });

  test('a service key cannot create accounts', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const service = await addServiceKey(app, alice.key, 'acme', 'admin');
    const res = await app.request({ method: 'POST', url: '/v1/accounts', headers: bearer(service.key), payload: { name: 'sneaky' } });
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().error.code, 'user_key_required');
  });

  test('site admins create users; the new user has no access until added to an account', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const res = await app.request({
      method: 'POST',
      url: '/v1/admin/users',
      headers: bearer(alice.key),
      payload: { login: 'zoe', email: 'zoe@example.com', name: 'Zoe', password: 'a long enough password' },
    });
    assert.equal(res.statusCode, 201);
    assert.deepEqual(
      { ...(res.json() as Record<string, unknown>), id: 0, created_at: '' },
      { id: 0, login: 'zoe', email: 'zoe@example.com', name: 'Zoe', site_admin: false, disabled: false, has_password: true, created_at: '' },
    );
    assert.ok(!res.body.includes('a long enough password'));
    const short = await app.request({ method: 'POST', url: '/v1/admin/users', headers: bearer(alice.key), payload: { login: 'yan', password: 'short' } });
    assert.equal(short.statusCode, 400);
    assert.equal(short.json().error.field, 'password');
    assert.ok(!short.body.includes('short"'));
  });
});
