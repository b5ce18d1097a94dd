// Edges of key ownership and input: keys that must leave with their user, scoped keys on user-level
// actions, characters PostgreSQL cannot store, and malformed cookies.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addProject, addUser, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase } from './harness.ts';

forEachDatabase('edges', (kind) => {
  test("a user's checkout keys leave the account with them, and go with their project", async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const bob = await addUser(app, 'bob', { account: 'acme', role: 'read_write', by: alice.key });
    await addProject(app, alice.key, 'acme', 'web');
    await addProject(app, alice.key, 'acme', 'api');
    await app.request({ method: 'PUT', url: '/v1/user/grants/write:public_key', headers: bearer(bob.key) });
    for (const project of ['web', 'api']) {
      const res = await app.request({ method: 'POST', url: `/api/v1.1/project/gh/acme/${project}/checkout-key`, headers: bearer(bob.key), payload: { type: 'user-key' } });
      assert.equal(res.statusCode, 201, res.body);
    }
    const bobsKeys = async () => (await app.request({ method: 'GET', url: '/api/v3/user/keys', headers: bearer(bob.key) })).json().length;
    assert.equal(await bobsKeys(), 2);
    assert.equal((await app.request({ method: 'DELETE', url: '/v1/projects/gh/acme/api', headers: bearer(alice.key) })).statusCode, 204);
    assert.equal(await bobsKeys(), 1, 'deleting the project removed the key it put on bob');
    assert.equal((await app.request({ method: 'DELETE', url: '/v1/accounts/acme/members/bob', headers: bearer(alice.key) })).statusCode, 204);
    assert.equal(await bobsKeys(), 0, 'leaving the account removed the rest');
    assert.deepEqual((await app.request({ method: 'GET', url: '/api/v1.1/project/gh/acme/web/checkout-key', headers: bearer(alice.key) })).json(), []);
  });

  test('scoped keys: a user checkout key needs write:public_key; user-level actions need an unrestricted key', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme', 'web');
    await app.request({ method: 'PUT', url: '/v1/user/grants/write:public_key', headers: bearer(alice.key) });
    const scoped = (await app.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(alice.key), payload: { name: 'ci', scopes: ['write:project'] } })).json().key as string;
    const userKey = await app.request({ method: 'POST', url: '/api/v1.1/project/gh/acme/web/checkout-key', headers: bearer(scoped), payload: { type: 'user-key' } });
    assert.equal(userKey.statusCode, 403);
    assert.equal(userKey.json().code, 'scope_required');
    assert.equal((await app.request({ method: 'POST', url: '/api/v1.1/project/gh/acme/web/checkout-key', headers: bearer(scoped), payload: { type: 'deploy-key' } })).statusCode, 201);
    for (const [method, url, payload] of [
      ['POST', '/api/v1.1/user/heroku-key', { apikey: 'heroku-0123456789' }],
      ['POST', '/v1/accounts', { name: 'sidecorp' }],
      ['POST', '/v1/admin/users', { login: 'mallory' }],
      ['PUT', '/v1/user/grants/write:public_key', undefined],
    ] as const) {
      const res = await app.request({ method, url, headers: bearer(scoped), ...(payload ? { payload } : {}) });
      assert.equal(res.statusCode, 403, `${method} ${url}: ${res.body}`);
      assert.equal((res.json().code ?? res.json().error.code) as string, 'unrestricted_key_required', url);
    }
  });

  test('characters PostgreSQL cannot store, and malformed cookies, are 4xx on both databases', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const signIn = await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'al\u0000ice', password: 'x' } });
    assert.ok(signIn.statusCode >= 400 && signIn.statusCode < 500, `sign-in: ${signIn.statusCode}`);
    const named = await app.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(alice.key), payload: { name: 'nul\u0000key' } });
    assert.equal(named.statusCode, 400, named.body);
    assert.match(named.json().error.message, /The field "name" is not valid: use text without control characters/);
    const path = await app.request({ method: 'GET', url: '/v1/accounts/ac%00me/members', headers: bearer(alice.key) });
    assert.ok(path.statusCode >= 400 && path.statusCode < 500, `path: ${path.statusCode}`);
    const cookie = await app.request({ method: 'GET', url: '/v1/user', headers: { cookie: 'keysmith_session=%' } });
    assert.equal(cookie.statusCode, 401);
    assert.equal((await app.services.db.selectFrom('api_keys').select('id').execute()).length, 1, 'nothing written');
  });
});
