// API keys (README: the native API): each Checkly rule as its own test, plus the credential schemes, expiry, scopes,
// last-used and storage rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addProject, addServiceKey, addUser, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase, testClock } from './harness.ts';

forEachDatabase('API keys', (kind) => {
  test("a removed user's key stops working for that account at once", async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const bob = await addUser(app, 'bob', { account: 'acme', role: 'read_write', by: alice.key });
    const asBob = { ...bearer(bob.key), 'x-keysmith-account': 'acme' };
    assert.equal((await app.request({ method: 'GET', url: '/v1/projects', headers: asBob })).statusCode, 200);
    const removed = await app.request({ method: 'DELETE', url: '/v1/accounts/acme/members/bob', headers: bearer(alice.key) });
    assert.equal(removed.statusCode, 204);
    const after = await app.request({ method: 'GET', url: '/v1/projects', headers: asBob });
    assert.equal(after.statusCode, 404);
    assert.equal(after.json().error.code, 'not_found');
    // The key itself still identifies bob; it just has no access to acme any more.
    assert.equal((await app.request({ method: 'GET', url: '/v1/user', headers: bearer(bob.key) })).json().user.login, 'bob');
  });

  test("a service key survives its creator's removal", async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const bob = await addUser(app, 'bob', { account: 'acme', role: 'admin', by: alice.key });
    const service = await addServiceKey(app, bob.key, 'acme', 'read_write');
    assert.equal((await app.request({ method: 'DELETE', url: '/v1/accounts/acme/members/bob', headers: bearer(alice.key) })).statusCode, 204);
    const res = await app.request({ method: 'POST', url: '/v1/projects', headers: bearer(service.key), payload: { vcs_type: 'gh', name: 'still-works' } });
    assert.equal(res.statusCode, 201, res.body);
    const listed = await app.request({ method: 'GET', url: '/v1/service-api-keys', headers: { ...bearer(alice.key), 'x-keysmith-account': 'acme' } });
    assert.equal(listed.json()[0].created_by, 'bob');
  });

  test('only admins and owners create or delete service keys, with a sentence saying so', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const carol = await addUser(app, 'carol', { account: 'acme', role: 'read_write', by: alice.key });
    const headers = { ...bearer(carol.key), 'x-keysmith-account': 'acme' };
    const res = await app.request({ method: 'POST', url: '/v1/service-api-keys', headers, payload: { name: 'ci', role: 'read_only' } });
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().error.code, 'role_required');
    assert.match(res.json().error.message, /Managing service API keys needs the admin or owner role in account acme; you have the read_write role\./);
    const key = await addServiceKey(app, alice.key, 'acme', 'read_only');
    assert.equal((await app.request({ method: 'DELETE', url: `/v1/service-api-keys/${key.id}`, headers })).statusCode, 403);
    assert.equal((await app.request({ method: 'DELETE', url: `/v1/service-api-keys/${key.id}`, headers: { ...bearer(alice.key), 'x-keysmith-account': 'acme' } })).statusCode, 204);
  });

  test('an admin cannot mint a service key above admin', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const bob = await addUser(app, 'bob', { account: 'acme', role: 'admin', by: alice.key });
    for (const key of [bob.key, alice.key]) {
      const res = await app.request({ method: 'POST', url: '/v1/service-api-keys', headers: { ...bearer(key), 'x-keysmith-account': 'acme' }, payload: { name: 'root', role: 'owner' } });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().error.field, 'role');
      assert.match(res.json().error.message, /must be one of: admin, read_write, read_only, runner/);
    }
    const admin = await addServiceKey(app, bob.key, 'acme', 'admin');
    assert.equal(admin.role, 'admin');
  });

  test('only the user deletes their user keys: to anyone else the key does not exist', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const bob = await addUser(app, 'bob', { account: 'acme', role: 'admin', by: alice.key });
    const created = await app.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(bob.key), payload: { name: 'laptop' } });
    const id = created.json().id as number;
    assert.equal((await app.request({ method: 'GET', url: '/v1/user', headers: bearer(created.json().key) })).statusCode, 200, 'used, so looked up and cached');
    // alice is a site admin and owns bob's account; still not hers to delete.
    const byAlice = await app.request({ method: 'DELETE', url: `/v1/user/api-keys/${id}`, headers: bearer(alice.key) });
    assert.equal(byAlice.statusCode, 404);
    const byService = await app.request({ method: 'DELETE', url: `/v1/user/api-keys/${id}`, headers: bearer((await addServiceKey(app, alice.key, 'acme', 'admin')).key) });
    assert.equal(byService.statusCode, 403);
    assert.equal((await app.request({ method: 'DELETE', url: `/v1/user/api-keys/${id}`, headers: bearer(bob.key) })).statusCode, 204);
    assert.equal((await app.request({ method: 'GET', url: '/v1/user', headers: bearer(created.json().key) })).statusCode, 401);
  });

  test('the secret is shown once, and only its SHA-256 is stored', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const created = await app.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(alice.key), payload: { name: 'ci laptop' } });
    assert.equal(created.statusCode, 201);
    const body = created.json();
    assert.match(body.key, /^ksu_[0-9A-Za-z]{36}$/);
    assert.equal(body.start, body.key.slice(0, 8));
    const list = await app.request({ method: 'GET', url: '/v1/user/api-keys', headers: bearer(alice.key) });
    assert.ok(!list.body.includes(body.key), 'the list never shows the secret');
    assert.ok(list.json().every((k: Record<string, unknown>) => !('key' in k)));
    const service = await addServiceKey(app, alice.key, 'acme', 'runner');
    const rows = await app.services.db.selectFrom('api_keys').selectAll().execute();
    const stored = JSON.stringify(rows);
    for (const secret of [alice.key, body.key, service.key]) assert.ok(!stored.includes(secret), 'no secret in the table');
    assert.ok(rows.every((r) => /^[0-9a-f]{64}$/.test(r.token_hash)));
  });

  test('every credential scheme is accepted', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
    const variants: Array<[string, { headers?: Record<string, string>; query?: string }]> = [
      ['Bearer', { headers: { authorization: `Bearer ${alice.key}` } }],
      ['token', { headers: { authorization: `token ${alice.key}` } }],
      ['Basic, key as user name', { headers: { authorization: basic(`${alice.key}:`) } }],
      ['Basic, key as password', { headers: { authorization: basic(`alice:${alice.key}`) } }],
      ['Circle-Token header', { headers: { 'circle-token': alice.key } }],
      ['circle-token query parameter', { query: `?circle-token=${alice.key}` }],
    ];
    for (const [label, v] of variants) {
      const res = await app.request({ method: 'GET', url: `/v1/user${v.query ?? ''}`, headers: v.headers ?? {} });
      assert.equal(res.statusCode, 200, `${label}: ${res.body}`);
      assert.equal(res.json().user.login, 'alice', label);
    }
    assert.equal((await app.request({ method: 'GET', url: '/v1/user', headers: { authorization: `Digest ${alice.key}` } })).statusCode, 401);
    const logged = app.logs.join('\n');
    assert.ok(!logged.includes(alice.key), 'the query-string key is redacted from the request log');
    assert.match(logged, /circle-token=\[redacted\]/);
  });

  test('the account is chosen by X-Keysmith-Account, implied when there is only one', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme');
    assert.equal((await app.request({ method: 'GET', url: '/v1/projects', headers: bearer(alice.key) })).statusCode, 200, 'one account: header optional');
    assert.equal((await app.request({ method: 'POST', url: '/v1/accounts', headers: bearer(alice.key), payload: { name: 'globex' } })).statusCode, 201);
    const ambiguous = await app.request({ method: 'GET', url: '/v1/projects', headers: bearer(alice.key) });
    assert.equal(ambiguous.statusCode, 400);
    assert.equal(ambiguous.json().error.code, 'account_required');
    assert.match(ambiguous.json().error.message, /2 accounts \(acme, globex\)/);
    const chosen = await app.request({ method: 'GET', url: '/v1/projects', headers: { ...bearer(alice.key), 'x-keysmith-account': 'ACME' } });
    assert.deepEqual(
      chosen.json().map((p: { slug: string }) => p.slug),
      ['gh/acme/web'],
    );
    const service = await addServiceKey(app, alice.key, 'acme', 'read_only');
    assert.equal((await app.request({ method: 'GET', url: '/v1/projects', headers: bearer(service.key) })).statusCode, 200, 'service key: own account implied');
    const other = await app.request({ method: 'GET', url: '/v1/projects', headers: { ...bearer(service.key), 'x-keysmith-account': 'globex' } });
    assert.equal(other.statusCode, 403);
    assert.equal(other.json().error.code, 'account_mismatch');
  });

  test('an expired key answers 401 token_expired with the date', async (t) => {
    const clock = testClock();
    const app = await appFor(t, kind, { clock });
    const alice = await seed(app);
    const expiresAt = '2026-11-23T00:00:00.000Z';
    const created = await app.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(alice.key), payload: { name: 'short-lived', expires_at: '2026-11-23T00:00:00Z' } });
    assert.equal(created.json().expires_at, expiresAt);
    assert.equal((await app.request({ method: 'GET', url: '/v1/user', headers: bearer(created.json().key) })).statusCode, 200);
    clock.advance(13 * 3600 * 1000);
    const res = await app.request({ method: 'GET', url: '/v1/user', headers: bearer(created.json().key) });
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().error.code, 'token_expired');
    assert.match(res.json().error.message, /expired on 2026-11-23T00:00:00.000Z/);
    const past = await app.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(alice.key), payload: { name: 'x', expires_at: '2020-01-01T00:00:00Z' } });
    assert.equal(past.statusCode, 400);
    assert.equal(past.json().error.field, 'expires_at');
  });

  test('scopes narrow a key below its role, and a scoped key cannot mint keys', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const scoped = await app.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(alice.key), payload: { name: 'reader', scopes: ['read:project'] } });
    assert.deepEqual(scoped.json().scopes, ['read:project']);
    const key = scoped.json().key as string;
    assert.equal((await app.request({ method: 'GET', url: '/v1/projects', headers: bearer(key) })).statusCode, 200);
    const write = await app.request({ method: 'POST', url: '/v1/projects', headers: bearer(key), payload: { vcs_type: 'gh', name: 'nope' } });
    assert.equal(write.statusCode, 403);
    assert.equal(write.json().error.code, 'scope_required');
    assert.match(write.json().error.message, /needs the write:project scope; this API key holds read:project/);
    const mint = await app.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(key), payload: { name: 'escalate' } });
    assert.equal(mint.statusCode, 403);
    assert.equal(mint.json().error.code, 'unrestricted_key_required');
    const wide = await app.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(alice.key), payload: { name: 'writer', scopes: ['write:project'] } });
    assert.equal((await app.request({ method: 'GET', url: '/v1/projects', headers: bearer(wide.json().key) })).statusCode, 200, 'write includes read');
    const unknown = await app.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(alice.key), payload: { name: 'x', scopes: ['root'] } });
    assert.equal(unknown.statusCode, 400);
    assert.match(unknown.json().error.message, /unknown scopes \(root\)/);
  });

  test('last_used_at shows at once but is written to the database in batches', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const before = await app.request({ method: 'GET', url: '/v1/user/api-keys', headers: bearer(alice.key) });
    // Listing is itself a use of the key.
    assert.notEqual(before.json()[0].last_used_at, null);
    const stored = await app.services.db.selectFrom('api_keys').select('last_used_at').executeTakeFirstOrThrow();
    assert.equal(stored.last_used_at, null, 'no write on the request path');
    await app.services.flush();
    const flushed = await app.services.db.selectFrom('api_keys').select('last_used_at').executeTakeFirstOrThrow();
    assert.equal(flushed.last_used_at, before.json()[0].last_used_at);
  });

  test('a service key asks for no user keys and reports its own account', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const service = await addServiceKey(app, alice.key, 'acme', 'read_only');
    const me = await app.request({ method: 'GET', url: '/v1/user', headers: bearer(service.key) });
    assert.deepEqual(me.json(), { type: 'service_key', service_key: { id: service.id, name: service.name, role: 'read_only', scopes: null, account: { name: 'acme' } } });
    const res = await app.request({ method: 'GET', url: '/v1/user/api-keys', headers: bearer(service.key) });
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().error.code, 'user_key_required');
  });

  test('a deleted key or account stops working at once here, and within the cache TTL on other instances', async (t) => {
    const clock = testClock();
    const app = await appFor(t, kind, { clock });
    const alice = await seed(app);
    const service = await addServiceKey(app, alice.key, 'acme', 'read_only');
    assert.equal((await app.request({ method: 'GET', url: '/v1/projects', headers: bearer(service.key) })).statusCode, 200);
    assert.equal((await app.request({ method: 'DELETE', url: '/v1/accounts/acme', headers: bearer(alice.key) })).statusCode, 204);
    assert.equal((await app.request({ method: 'GET', url: '/v1/projects', headers: bearer(service.key) })).statusCode, 401, 'its service keys went with the account');

    // Another instance deleting a key is a row vanishing under this one's cache.
    const other = await app.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(alice.key), payload: { name: 'elsewhere' } });
    const key = other.json().key as string;
    assert.equal((await app.request({ method: 'GET', url: '/v1/user', headers: bearer(key) })).statusCode, 200);
    await app.services.db.deleteFrom('api_keys').where('id', '=', other.json().id).execute();
    clock.advance(app.config.credentialCacheTtlMs);
    assert.equal((await app.request({ method: 'GET', url: '/v1/user', headers: bearer(key) })).statusCode, 401);
  });

  test('refused authentications are audited without the credential', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const wrong = alice.key.slice(0, -1) + (alice.key.endsWith('A') ? 'B' : 'A');
    await app.request({ method: 'GET', url: '/v1/user', headers: { ...bearer(wrong), 'user-agent': 'curl/8' } });
    await app.services.flush();
    const events = await app.services.db.selectFrom('audit_events').selectAll().where('action', '=', 'auth.refused').execute();
    assert.equal(events.length, 1);
    assert.equal(events[0]!.user_agent, 'curl/8');
    assert.deepEqual(JSON.parse(events[0]!.details!), { reason: 'bad_checksum', scheme: 'bearer' });
    assert.ok(!JSON.stringify(events).includes(wrong.slice(4, 20)));
  });
});
