// Names every JavaScript object answers to (`__proto__`, `constructor`, `hasOwnProperty`, `toString`)
// are plain unknown names to every route: a 4xx with a sentence, never a 5xx and never a write.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addProject, seed, rowCount } from './factories.ts';
import { appFor, bearer, forEachDatabase, type TestApp } from './harness.ts';

export const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'hasOwnProperty', 'toString'] as const;

async function rowCounts(app: TestApp) {
  const tables = ['projects', 'api_keys', 'grants', 'ssh_keys', 'checkout_keys', 'memberships', 'accounts', 'audit_events'] as const;
  const counts: Record<string, number> = {};
  for (const table of tables) {
    counts[table] = await rowCount(app, table);
  }
  // A refused sign-in (the battery signs in as each name) is recorded, as every refused
  // authentication is; what must not appear is the audit row of a change.
  const changes = await app.services.db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('action', '!=', 'auth.refused')
    .executeTakeFirstOrThrow();
  counts.audit_events = Number(changes.n);
  return counts;
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** Every route that takes a name in its path or body, with `name` in that place (for an existing thing or a vocabulary). */
function battery(name: string): Array<{ method: Method; url: string; payload?: unknown }> {
  const n = encodeURIComponent(name);
  return [
    { method: 'POST', url: '/v1/projects', payload: { vcs_type: name, name: 'web2' } },
    { method: 'GET', url: `/v1/projects/${n}/acme/web` },
    { method: 'DELETE', url: `/v1/projects/${n}/acme/web` },
    { method: 'GET', url: `/v1/projects/gh/${n}/web` },
    { method: 'GET', url: `/v1/projects/gh/acme/${n}` },
    { method: 'GET', url: `/v1/projects/${n}/acme/web/ssh-keys` },
    { method: 'GET', url: `/v1/projects/${n}/acme/web/checkout-credentials` },
    { method: 'PUT', url: `/v1/user/grants/${n}` },
    { method: 'DELETE', url: `/v1/user/grants/${n}` },
    { method: 'DELETE', url: `/v1/user/grants/${n}?remove_keys=true` },
    { method: 'DELETE', url: `/v1/accounts/${n}` },
    { method: 'GET', url: `/v1/accounts/${n}/members` },
    { method: 'PUT', url: `/v1/accounts/acme/members/${n}`, payload: { role: 'read_only' } },
    { method: 'PUT', url: `/v1/accounts/acme/members/alice`, payload: { role: name } },
    { method: 'DELETE', url: `/v1/accounts/acme/members/${n}` },
    { method: 'POST', url: '/v1/service-api-keys', payload: { name: 'ci', role: name } },
    { method: 'POST', url: '/v1/user/api-keys', payload: { name: 'k', scopes: [name] } },
    { method: 'POST', url: '/v1/service-api-keys', payload: { name: 'ci', role: 'read_only', scopes: [name] } },
    { method: 'GET', url: `/v1/audit-events?action=${n}` },
    { method: 'GET', url: `/v1/user/audit-events?action=${n}` },
    { method: 'POST', url: '/v1/session', payload: { login: name, password: 'x'.repeat(12) } },
    { method: 'GET', url: `/api/v3/users/${n}/keys` },
    { method: 'GET', url: `/api/v3/repos/${n}/web/keys` },
    { method: 'GET', url: `/api/v3/repos/acme/${n}/keys` },
    { method: 'GET', url: `/api/v1.1/project/${n}/acme/web/checkout-key` },
    { method: 'POST', url: `/api/v1.1/project/${n}/acme/web/checkout-key`, payload: { type: 'deploy-key' } },
    { method: 'GET', url: `/api/v1.1/project/${n}/acme/web/checkout-key/aa:bb` },
    { method: 'DELETE', url: `/api/v1.1/project/${n}/acme/web/checkout-key/aa:bb` },
    { method: 'GET', url: `/api/v1.1/project/gh/${n}/web/checkout-key` },
    { method: 'GET', url: `/api/v1.1/project/gh/acme/${n}/checkout-key` },
    { method: 'GET', url: `/api/v1.1/project/gh/acme/web/checkout-key/${n}` },
    { method: 'POST', url: `/api/v1.1/project/${n}/acme/web/ssh-key`, payload: { hostname: '', private_key: 'x' } },
    { method: 'DELETE', url: `/api/v1.1/project/${n}/acme/web/ssh-key`, payload: { hostname: '', fingerprint: 'aa:bb' } },
    { method: 'GET', url: `/api/v2/project/${n}/acme/web/checkout-key` },
    { method: 'POST', url: `/api/v2/project/${n}/acme/web/checkout-key`, payload: { type: 'deploy-key' } },
    { method: 'GET', url: `/api/v2/project/${encodeURIComponent(`${name}/acme/web`)}/checkout-key` },
    { method: 'GET', url: `/api/v2/project/${n}/acme/web/checkout-key/aa:bb` },
    { method: 'DELETE', url: `/api/v2/project/gh/acme/web/checkout-key/${n}` },
    { method: 'POST', url: `/api/v2/project/gh/acme/web/checkout-key`, payload: { type: 'deploy-key', algorithm: name } },
  ];
}

forEachDatabase('prototype names as names', (kind) => {
  test('every route answers a 4xx with a sentence for each prototype name, and writes nothing', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme');
    const headers = { ...bearer(alice.key), 'x-keysmith-account': 'acme' };
    const before = await rowCounts(app);
    for (const name of PROTOTYPE_NAMES) {
      for (const c of battery(name)) {
        const res = await app.request({ method: c.method, url: c.url, headers, ...(c.payload === undefined ? {} : { payload: c.payload as object }) });
        const label = `${c.method} ${c.url} ${JSON.stringify(c.payload ?? '')}`;
        assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${label}: ${res.statusCode} ${res.body}`);
        const body = res.json();
        const message: unknown = body.error?.message ?? body.message;
        assert.equal(typeof message, 'string', `${label}: a sentence`);
        assert.doesNotMatch(String(message), /went wrong on our side/, label);
      }
    }
    await app.services.flush();
    assert.deepEqual(await rowCounts(app), before, 'nothing written');
    const refused = await app.services.db.selectFrom('audit_events').select(['details', 'count']).where('action', '=', 'auth.refused').execute();
    for (const name of PROTOTYPE_NAMES) {
      assert.ok(
        refused.some((r) => (JSON.parse(String(r.details)) as { login?: string }).login === name),
        `the refused sign-in as ${name} is recorded`,
      );
    }
    // The project list of the account still answers (a row with vcs "{}" used to break it on PostgreSQL).
    const list = await app.request({ method: 'GET', url: '/v1/projects', headers });
    assert.equal(list.statusCode, 200, list.body);
    assert.deepEqual(list.json().items?.map((p: { slug: string }) => p.slug) ?? list.json().map((p: { slug: string }) => p.slug), ['gh/acme/web']);
  });

  test('a project, account or user may be called constructor or __proto__: such names are free text, not vocabulary', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const headers = { ...bearer(alice.key), 'x-keysmith-account': 'acme' };
    for (const name of PROTOTYPE_NAMES) {
      const created = await app.request({ method: 'POST', url: '/v1/projects', headers, payload: { vcs_type: 'gh', name } });
      assert.equal(created.statusCode, 201, created.body);
      const got = await app.request({ method: 'GET', url: `/v1/projects/gh/acme/${name}`, headers });
      assert.equal(got.statusCode, 200, got.body);
      assert.equal(got.json().name, name);
      const keys = await app.request({ method: 'GET', url: `/api/v1.1/project/gh/acme/${name}/checkout-key`, headers });
      assert.equal(keys.statusCode, 200, keys.body);
    }
    const list = await app.request({ method: 'GET', url: '/v1/projects', headers });
    assert.equal(list.statusCode, 200, list.body);
    const account = await app.request({ method: 'POST', url: '/v1/accounts', headers: bearer(alice.key), payload: { name: 'constructor' } });
    assert.equal(account.statusCode, 201, account.body);
    const members = await app.request({ method: 'GET', url: '/v1/accounts/constructor/members', headers: bearer(alice.key) });
    assert.equal(members.statusCode, 200, members.body);
    const user = await app.request({ method: 'POST', url: '/v1/admin/users', headers: bearer(alice.key), payload: { login: 'constructor' } });
    assert.ok(user.statusCode === 201 || user.statusCode === 409, user.body);
  });

  test('vcs_type "__proto__" is refused with the vocabulary, and no project row appears', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    for (const name of PROTOTYPE_NAMES) {
      const res = await app.request({ method: 'POST', url: '/v1/projects', headers: bearer(alice.key), payload: { vcs_type: name, name: 'web' } });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().error.field, 'vcs_type');
      assert.match(res.json().error.message, /use gh \(GitHub\) or bb \(Bitbucket\)/);
    }
    const rows = await app.services.db.selectFrom('projects').select('vcs').execute();
    assert.deepEqual(rows, []);
  });

  test('PUT /v1/user/grants/hasOwnProperty is a 404 naming the grants, with no grant and no audit row saved', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const before = await rowCounts(app);
    for (const name of PROTOTYPE_NAMES) {
      const res = await app.request({ method: 'PUT', url: `/v1/user/grants/${name}`, headers: bearer(alice.key) });
      assert.equal(res.statusCode, 404, `${name}: ${res.body}`);
      assert.match(res.json().error.message, /There is no grant called ".+"; the grants are: write:public_key\./);
    }
    assert.deepEqual(await rowCounts(app), before, 'no grant, no audit row');
    const list = await app.request({ method: 'GET', url: '/v1/user/grants', headers: bearer(alice.key) });
    assert.equal(list.statusCode, 200);
    assert.deepEqual(
      list.json().map((g: { scope: string }) => g.scope),
      ['write:public_key'],
    );
  });
});
