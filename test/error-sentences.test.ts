// Refusals that say what to do next: the content type to send, the methods a path answers, every
// allowed value, the key's next step, what to use instead of a role no person holds, and a/an.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as keyNames from '../src/db/migrations/2026_12_01_0003_key_names.ts';
import { describeValidation } from '../src/http/errors.ts';
import { addProject, seed, rowCount } from './factories.ts';
import { appFor, bearer, forEachDatabase } from './harness.ts';
import { ed25519Line } from './ssh-fixtures.ts';

test('a type error reads "an integer", "an email" and "a string"; a union of literals lists every value', () => {
  const integer = describeValidation([{ keyword: 'type', instancePath: '/per_page', params: { type: 'integer' } }], 'querystring');
  assert.equal(integer.message, 'The query parameter "per_page" must be an integer.');
  const either = describeValidation([{ keyword: 'type', instancePath: '/x', params: { type: 'integer,string' } }], 'body');
  assert.equal(either.message, 'The field "x" must be an integer or a string.');
  const email = describeValidation([{ keyword: 'format', instancePath: '/email', params: { format: 'email' } }], 'body');
  assert.equal(email.message, 'The field "email" must be an email.');
  const union = describeValidation(
    [
      { keyword: 'const', instancePath: '/algorithm', params: { allowedValue: 'ed25519' } },
      { keyword: 'const', instancePath: '/algorithm', params: { allowedValue: 'rsa' } },
      { keyword: 'anyOf', instancePath: '/algorithm', params: {} },
    ],
    'body',
  );
  assert.equal(union.message, 'The field "algorithm" must be one of: ed25519, rsa.');
});

forEachDatabase('error sentences', (kind) => {
  test('a JSON body sent as text/plain, or an object missing, says to send Content-Type: application/json', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const plain = await app.request({ method: 'POST', url: '/v1/accounts', headers: { ...bearer(alice.key), 'content-type': 'text/plain' }, payload: '{"name":"beta"}' });
    assert.equal(plain.statusCode, 415, plain.body);
    assert.match(`${plain.json().error.message} ${plain.json().error.remedy}`, /text\/plain.*Content-Type: application\/json/);
    const none = await app.request({ method: 'POST', url: '/v1/accounts', headers: bearer(alice.key), payload: '{"name":"beta"}' });
    assert.equal(none.statusCode, 415, none.body);
    assert.match(none.json().error.remedy, /Content-Type: application\/json/);
    const empty = await app.request({ method: 'POST', url: '/v1/accounts', headers: bearer(alice.key) });
    assert.equal(empty.statusCode, 400, empty.body);
    assert.match(empty.json().error.message, /must be a JSON object, sent with Content-Type: application\/json/);
    const accounts = await app.services.db.selectFrom('accounts').select('name').execute();
    assert.deepEqual(
      accounts.map((a) => a.name),
      ['acme'],
    );
  });

  test('a wrong method on an existing path is a 405 naming the allowed methods, with an Allow header', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme');
    const cases: Array<{ method: 'PUT' | 'PATCH' | 'POST' | 'DELETE'; url: string; allow: string }> = [
      { method: 'PUT', url: '/v1/projects', allow: 'GET, HEAD, POST' },
      { method: 'PATCH', url: '/v1/user', allow: 'GET, HEAD' },
      { method: 'POST', url: '/v1/projects/gh/acme/web', allow: 'DELETE, GET, HEAD' },
      { method: 'PUT', url: '/v1/user/api-keys/1', allow: 'DELETE' },
      { method: 'DELETE', url: '/v1/user/grants', allow: 'GET, HEAD' },
      { method: 'PATCH', url: '/v1/accounts/acme/members/alice', allow: 'DELETE, PUT' },
    ];
    for (const c of cases) {
      const res = await app.request({ method: c.method, url: c.url, headers: bearer(alice.key), payload: {} });
      assert.equal(res.statusCode, 405, `${c.method} ${c.url}: ${res.body}`);
      assert.equal(res.headers.allow, c.allow, `${c.method} ${c.url}`);
      assert.equal(res.json().error.code, 'method_not_allowed');
      assert.match(res.json().error.message, new RegExp(`^${c.method} is not allowed on ${c.url}; it answers ${c.allow}\\.$`));
    }
    const nothing = await app.request({ method: 'GET', url: '/v1/nothing-here', headers: bearer(alice.key) });
    assert.equal(nothing.statusCode, 404, 'a path no route has is still a 404');
    // The GitHub dialect keeps its own sentence for changing a key.
    const patch = await app.request({ method: 'PATCH', url: '/api/v3/user/keys/1', headers: bearer(alice.key), payload: {} });
    assert.equal(patch.statusCode, 405);
    assert.equal(patch.headers.allow, 'GET, DELETE');
    assert.match(patch.json().message, /delete this key and add it again/);
  });

  test('algorithm "dsa" is told both allowed values', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme');
    for (const url of ['/api/v1.1/project/gh/acme/web/checkout-key', '/api/v2/project/gh/acme/web/checkout-key']) {
      const res = await app.request({ method: 'POST', url, headers: bearer(alice.key), payload: { type: 'deploy-key', algorithm: 'dsa' } });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().message, 'The field "algorithm" must be one of: ed25519, rsa.');
    }
  });

  test('key: 12345 is a type error naming the field, not a malformed key', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme');
    for (const url of ['/api/v3/user/keys', '/api/v3/repos/acme/web/keys']) {
      const res = await app.request({ method: 'POST', url, headers: bearer(alice.key), payload: { title: 'x', key: 12345 } });
      assert.equal(res.statusCode, 422, res.body);
      assert.deepEqual(res.json().errors, [{ resource: 'PublicKey', field: 'key', code: 'invalid', message: 'The field "key" must be a string.' }]);
    }
  });

  test('a key already in use says what to do next', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme');
    const line = ed25519Line();
    const first = await app.request({ method: 'POST', url: '/api/v3/user/keys', headers: bearer(alice.key), payload: { title: 'a', key: line } });
    assert.equal(first.statusCode, 201, first.body);
    const again = await app.request({ method: 'POST', url: '/api/v3/user/keys', headers: bearer(alice.key), payload: { title: 'b', key: line } });
    assert.equal(again.statusCode, 422);
    assert.equal(again.json().errors[0].code, 'key_in_use_by_you');
    assert.match(again.json().errors[0].message, new RegExp(`as key ${first.json().id}\\. Nothing to do if you meant to add it here; to use it elsewhere, delete key ${first.json().id} first`));
    const asDeploy = await app.request({ method: 'POST', url: '/api/v3/repos/acme/web/keys', headers: bearer(alice.key), payload: { title: 'c', key: ed25519Line() } });
    assert.equal(asDeploy.statusCode, 201);
    const elsewhere = await app.request({ method: 'POST', url: '/api/v3/user/keys', headers: bearer(alice.key), payload: { title: 'd', key: asDeploy.json().key } });
    assert.equal(elsewhere.statusCode, 422);
    assert.equal(elsewhere.json().errors[0].code, 'key_in_use_elsewhere');
    assert.match(elsewhere.json().errors[0].message, /Generate a new key pair for this purpose with ssh-keygen -t ed25519 -f <new file> and add the new \.pub file instead\./);
  });

  test('a person asking for checkout credentials is told to use a runner service key', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme');
    const res = await app.request({ method: 'GET', url: '/v1/projects/gh/acme/web/checkout-credentials', headers: bearer(alice.key) });
    assert.equal(res.statusCode, 403, res.body);
    assert.equal(res.json().error.code, 'role_required');
    assert.match(res.json().error.remedy, /No person can hold the runner role: use a service API key with it/);
    assert.match(res.json().error.remedy, /POST \/v1\/service-api-keys \{"name": "ci", "role": "runner"\}/);
    assert.doesNotMatch(res.json().error.remedy, /change your role/);
  });

  test('API key names are unique per owner: a second key of the same name is a 409 and nothing is written', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const headers = { ...bearer(alice.key), 'x-keysmith-account': 'acme' };
    const count = async () => rowCount(app, 'api_keys');
    const audits = async () => rowCount(app, 'audit_events');
    assert.equal((await app.request({ method: 'POST', url: '/v1/user/api-keys', headers, payload: { name: 'laptop' } })).statusCode, 201);
    assert.equal((await app.request({ method: 'POST', url: '/v1/service-api-keys', headers, payload: { name: 'ci', role: 'read_only' } })).statusCode, 201);
    const [keysBefore, auditsBefore] = [await count(), await audits()];
    const user = await app.request({ method: 'POST', url: '/v1/user/api-keys', headers, payload: { name: 'laptop' } });
    assert.equal(user.statusCode, 409, user.body);
    assert.equal(user.json().error.code, 'name_taken');
    assert.equal(user.json().error.field, 'name');
    assert.match(user.json().error.message, /You already have a user API key called "laptop"\./);
    assert.match(user.json().error.remedy, /Choose another name, or delete the old key first/);
    const service = await app.request({ method: 'POST', url: '/v1/service-api-keys', headers, payload: { name: 'ci', role: 'admin' } });
    assert.equal(service.statusCode, 409, service.body);
    assert.match(service.json().error.message, /Account acme already has a service API key called "ci"\./);
    assert.deepEqual([await count(), await audits()], [keysBefore, auditsBefore], 'no key and no audit row');
    // The same name is fine for another owner or another kind of key.
    assert.equal((await app.request({ method: 'POST', url: '/v1/user/api-keys', headers, payload: { name: 'ci' } })).statusCode, 201);
  });

  test('the key-names migration renames older duplicates deterministically before it adds the unique indexes', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const db = app.services.db;
    await keyNames.down(db);
    const account = await db.selectFrom('accounts').select('id').where('name', '=', 'acme').executeTakeFirstOrThrow();
    const base = { role: null, start: 'ksu_x', scopes: null, expires_at: null, last_used_at: null, created_by: alice.userId, created_at: '2026-11-30T00:00:00.000Z' };
    const long = 'n'.repeat(100);
    const rows = [
      { kind: 'user', user_id: alice.userId, account_id: null, name: 'dup' },
      { kind: 'user', user_id: alice.userId, account_id: null, name: 'dup' },
      { kind: 'user', user_id: alice.userId, account_id: null, name: 'dup (2)' },
      { kind: 'user', user_id: alice.userId, account_id: null, name: 'dup' },
      { kind: 'user', user_id: alice.userId, account_id: null, name: long },
      { kind: 'user', user_id: alice.userId, account_id: null, name: long },
      { kind: 'service', user_id: null, account_id: account.id, name: 'dup', role: 'read_only' },
      { kind: 'service', user_id: null, account_id: account.id, name: 'dup', role: 'read_only' },
    ];
    const ids: number[] = [];
    for (const [i, row] of rows.entries()) {
      const inserted = await db
        .insertInto('api_keys')
        .values({ ...base, ...row, token_hash: String(i).padStart(64, '0') } as never)
        .returning('id')
        .executeTakeFirstOrThrow();
      ids.push(inserted.id);
    }
    await keyNames.up(db);
    const names = new Map((await db.selectFrom('api_keys').select(['id', 'name']).where('id', 'in', ids).execute()).map((r) => [r.id, r.name]));
    assert.deepEqual(
      ids.map((id) => names.get(id)),
      ['dup', 'dup (3)', 'dup (2)', 'dup (4)', long, `${'n'.repeat(96)} (2)`, 'dup', 'dup (2)'],
    );
    await assert.rejects(
      db
        .insertInto('api_keys')
        .values({ ...base, kind: 'user', user_id: alice.userId, account_id: null, name: 'dup', token_hash: 'f'.repeat(64) } as never)
        .execute(),
      'the unique index is in place',
    );
  });
});
