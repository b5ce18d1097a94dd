// Errors and bad input (README: the native API): bad input gets a clear 4xx naming the field; never a 5xx, never a partial write,
// never a secret echoed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seed, rowCount } from './factories.ts';
import { appFor, bearer, createTestApp, forEachDatabase, type TestApp } from './harness.ts';

async function rowCounts(app: TestApp) {
  const tables = ['users', 'accounts', 'memberships', 'projects', 'api_keys', 'owner_names', 'audit_events'] as const;
  const counts: Record<string, number> = {};
  for (const table of tables) {
    counts[table] = await rowCount(app, table);
  }
  return counts;
}

forEachDatabase('bad input', (kind) => {
  test('each kind of bad input gets its 4xx with a sentence naming the field, and nothing is written', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const json = { ...bearer(alice.key), 'content-type': 'application/json' };
    const cases: Array<{ label: string; method: 'POST' | 'PUT'; url: string; payload: string; headers?: Record<string, string>; status: number; message: RegExp }> = [
      { label: 'malformed JSON', method: 'POST', url: '/v1/projects', payload: '{"vcs_type": "gh", "name": ', status: 400, message: /not valid JSON/ },
      { label: 'body over 64 KiB', method: 'POST', url: '/v1/projects', payload: JSON.stringify({ vcs_type: 'gh', name: 'x'.repeat(70_000) }), status: 413, message: /larger than 64 KiB/ },
      {
        label: 'unknown field',
        method: 'POST',
        url: '/v1/projects',
        payload: JSON.stringify({ vcs_type: 'gh', name: 'web', private: true }),
        status: 400,
        message: /The field "private" is not allowed here/,
      },
      { label: 'missing field', method: 'POST', url: '/v1/projects', payload: JSON.stringify({ vcs_type: 'gh' }), status: 400, message: /The field "name" is required/ },
      {
        label: 'over-long string',
        method: 'POST',
        url: '/v1/user/api-keys',
        payload: JSON.stringify({ name: 'k'.repeat(101) }),
        status: 400,
        message: /The field "name" must be at most 100 characters long/,
      },
      { label: 'wrong type', method: 'POST', url: '/v1/user/api-keys', payload: JSON.stringify({ name: ['a'] }), status: 400, message: /The field "name" must be a string/ },
      { label: 'not an object', method: 'POST', url: '/v1/accounts', payload: '"acme"', status: 400, message: /must be a JSON object/ },
      {
        label: 'invalid account name',
        method: 'POST',
        url: '/v1/accounts',
        payload: JSON.stringify({ name: '-bad-' }),
        status: 400,
        message: /The field "name" is not valid: use 1 to 39 letters, digits or single hyphens/,
      },
      { label: 'double hyphen', method: 'POST', url: '/v1/accounts', payload: JSON.stringify({ name: 'a--b' }), status: 400, message: /not valid/ },
      {
        label: 'over-long login',
        method: 'POST',
        url: '/v1/admin/users',
        payload: JSON.stringify({ login: 'a'.repeat(40) }),
        status: 400,
        message: /The field "login" must be at most 39 characters long/,
      },
      { label: 'invalid login', method: 'POST', url: '/v1/admin/users', payload: JSON.stringify({ login: 'al ice' }), status: 400, message: /The field "login" is not valid/ },
      {
        label: 'invalid project name',
        method: 'POST',
        url: '/v1/projects',
        payload: JSON.stringify({ vcs_type: 'gh', name: 'a/b' }),
        status: 400,
        message: /letters, digits, dots, hyphens or underscores/,
      },
      { label: 'unknown vcs', method: 'POST', url: '/v1/projects', payload: JSON.stringify({ vcs_type: 'svn', name: 'web' }), status: 400, message: /use gh \(GitHub\) or bb \(Bitbucket\)/ },
      {
        label: 'role that does not exist',
        method: 'POST',
        url: '/v1/service-api-keys',
        payload: JSON.stringify({ name: 'ci', role: 'superuser' }),
        status: 400,
        message: /The field "role" must be one of: admin, read_write, read_only, runner/,
      },
      {
        label: 'member role that does not exist',
        method: 'PUT',
        url: '/v1/accounts/acme/members/alice',
        payload: JSON.stringify({ role: 'god' }),
        status: 400,
        message: /must be one of: owner, admin, read_write, read_only/,
      },
      {
        label: 'bad date',
        method: 'POST',
        url: '/v1/user/api-keys',
        payload: JSON.stringify({ name: 'x', expires_at: 'tomorrow' }),
        status: 400,
        message: /The field "expires_at" must be a date-time/,
      },
      { label: 'form body', method: 'POST', url: '/v1/projects', payload: 'name=web', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, message: /must be JSON/ },
    ];
    const before = await rowCounts(app);
    for (const c of cases) {
      const res = await app.request({ method: c.method, url: c.url, payload: c.payload, headers: { ...json, ...c.headers } });
      assert.equal(res.statusCode, c.status, `${c.label}: ${res.body}`);
      const body = res.json();
      assert.match(body.error.message, c.message, c.label);
      assert.equal(typeof body.request_id, 'string');
      assert.ok(!res.body.includes(alice.key), `${c.label}: no secret echoed`);
    }
    assert.deepEqual(await rowCounts(app), before, 'nothing written');
  });

  test('a token with a wrong checksum is refused without a database look-up', async (t) => {
    const app = await createTestApp(kind);
    // The database is closed below, so the final flush of the refused-authentication queue fails.
    t.after(() => app.close().catch(() => {}));
    const alice = await seed(app);
    const wrong = alice.key.slice(0, -1) + (alice.key.endsWith('A') ? 'B' : 'A');
    // With the database closed, a look-up would fail with a 5xx; a checksum refusal cannot.
    await app.services.db.destroy();
    const res = await app.request({ method: 'GET', url: '/v1/user', headers: bearer(wrong) });
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().error.code, 'token_invalid');
    assert.match(res.json().error.message, /checksum does not match/);
  });

  test('a password never comes back in an error, and over-long headers are bounded', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const secret = 'hunter2-but-longer-!';
    const res = await app.request({ method: 'POST', url: '/v1/admin/users', headers: bearer(alice.key), payload: { login: 'x y', password: secret } });
    assert.equal(res.statusCode, 400);
    assert.ok(!res.body.includes(secret));
    const header = await app.request({ method: 'GET', url: '/v1/projects', headers: { ...bearer(alice.key), 'x-keysmith-account': 'a'.repeat(200) } });
    assert.equal(header.statusCode, 400);
    assert.equal(header.json().error.field, 'X-Keysmith-Account');
    const long = await app.request({ method: 'GET', url: '/v1/user', headers: bearer('x'.repeat(5000)) });
    assert.equal(long.statusCode, 401);
    assert.ok(!long.body.includes('xxxxxxxx'));
    assert.ok(!app.logs.join('\n').includes(secret), 'not in the logs either');
  });

  test('unknown paths are a 404 in the native shape, whatever the credential', async (t) => {
    const app = await appFor(t, kind);
    const res = await app.request({ method: 'GET', url: '/v1/nothing-here', headers: bearer('garbage') });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error.code, 'not_found');
  });
});
