// Parser strictness: what ssh-keygen refuses we refuse; an id in a path has one spelling; an MD5
// fingerprint matches in either case; a control character in a path is a 400 on both databases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSshPublicKey, SshKeyError } from '../src/crypto/ssh-public-key.ts';
import { addProject, addServiceKey, seed, rowCount } from './factories.ts';
import { appFor, bearer, forEachDatabase } from './harness.ts';
import { ed25519Line } from './ssh-fixtures.ts';

const UNICODE_SPACES = ['\u00a0', '\u2003', '\u3000', '\ufeff'];

test('a key line is trimmed of ASCII whitespace only: a BOM or a Unicode space before it is refused, as ssh-keygen refuses it', () => {
  const line = ed25519Line('me@host');
  const bare = line.split(' ').slice(0, 2).join(' ');
  assert.equal(parseSshPublicKey(` \t${line}\r\n`).type, 'ssh-ed25519', 'ASCII whitespace around the line is fine');
  for (const space of UNICODE_SPACES) {
    const label = `U+${space.codePointAt(0)!.toString(16).padStart(4, '0')}`;
    assert.throws(
      () => parseSshPublicKey(`${space}${line}`),
      (err: unknown) => err instanceof SshKeyError && err.code === 'key_malformed' && /invisible character/.test(err.message),
      `leading ${label}`,
    );
    assert.throws(
      () => parseSshPublicKey(`${bare}${space}`),
      (err: unknown) => err instanceof SshKeyError && err.code === 'key_malformed',
      `trailing ${label} after the base64`,
    );
  }
});

forEachDatabase('strict input', (kind) => {
  test('a key pasted with a leading no-break space is refused over HTTP with a sentence', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const res = await app.request({ method: 'POST', url: '/api/v3/user/keys', headers: bearer(alice.key), payload: { title: 'x', key: `\u00a0${ed25519Line()}` } });
    assert.equal(res.statusCode, 422, res.body);
    assert.match(res.json().errors[0].message, /invisible character/);
    assert.equal(await rowCount(app, 'ssh_keys'), 0);
  });

  test('an id in a path is accepted only as canonical digits, on every route that takes one', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme');
    const userKey = await app.request({ method: 'POST', url: '/api/v3/user/keys', headers: bearer(alice.key), payload: { title: 'laptop', key: ed25519Line() } });
    assert.equal(userKey.statusCode, 201, userKey.body);
    const deployKey = await app.request({ method: 'POST', url: '/api/v3/repos/acme/web/keys', headers: bearer(alice.key), payload: { title: 'ci', key: ed25519Line() } });
    assert.equal(deployKey.statusCode, 201, deployKey.body);
    const apiKey = await app.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(alice.key), payload: { name: 'spare' } });
    assert.equal(apiKey.statusCode, 201, apiKey.body);
    const serviceKey = await addServiceKey(app, alice.key, 'acme', 'read_only');
    const ids = { user: userKey.json().id as number, deploy: deployKey.json().id as number, api: apiKey.json().id as number, service: serviceKey.id };
    const spellings = (id: number) => [`%20${id}`, `${id}%20`, `0x${id.toString(16)}`, `${id}.0`, `+${id}`, `0${id}`, `${id}e0`, `1e${String(id).length - 1}`];
    const routes: Array<{ method: 'GET' | 'DELETE'; url: (id: string) => string; id: number; github: boolean }> = [
      { method: 'GET', url: (id) => `/api/v3/user/keys/${id}`, id: ids.user, github: true },
      { method: 'DELETE', url: (id) => `/api/v3/user/keys/${id}`, id: ids.user, github: true },
      { method: 'GET', url: (id) => `/api/v3/repos/acme/web/keys/${id}`, id: ids.deploy, github: true },
      { method: 'DELETE', url: (id) => `/api/v3/repos/acme/web/keys/${id}`, id: ids.deploy, github: true },
      { method: 'DELETE', url: (id) => `/v1/user/api-keys/${id}`, id: ids.api, github: false },
      { method: 'DELETE', url: (id) => `/v1/service-api-keys/${id}`, id: ids.service, github: false },
    ];
    const headers = { ...bearer(alice.key), 'x-keysmith-account': 'acme' };
    for (const route of routes) {
      for (const spelling of spellings(route.id)) {
        const res = await app.request({ method: route.method, url: route.url(spelling), headers });
        const label = `${route.method} ${route.url(spelling)}`;
        assert.equal(res.statusCode, 400, `${label}: ${res.body}`);
        const message = route.github ? res.json().message : res.json().error.message;
        assert.match(message, /must be an id written as plain digits, such as 145/, label);
      }
      const tooLarge = await app.request({ method: route.method, url: route.url('99999999999999999999'), headers });
      assert.equal(tooLarge.statusCode, 400, tooLarge.body);
    }
    // Nothing was deleted by a non-canonical spelling, and the canonical one still works.
    const got = await app.request({ method: 'GET', url: `/api/v3/user/keys/${ids.user}`, headers });
    assert.equal(got.statusCode, 200, got.body);
    const gotDeploy = await app.request({ method: 'GET', url: `/api/v3/repos/acme/web/keys/${ids.deploy}`, headers });
    assert.equal(gotDeploy.statusCode, 200, gotDeploy.body);
    const apiKeys = await app.request({ method: 'GET', url: '/v1/user/api-keys', headers });
    assert.ok(apiKeys.json().some((k: { id: number }) => k.id === ids.api));
    const deleted = await app.request({ method: 'DELETE', url: `/v1/user/api-keys/${ids.api}`, headers });
    assert.equal(deleted.statusCode, 204, deleted.body);
  });

  test('an MD5 fingerprint in a path matches in upper or lower case', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme');
    const created = await app.request({ method: 'POST', url: '/api/v1.1/project/gh/acme/web/checkout-key', headers: bearer(alice.key), payload: { type: 'deploy-key' } });
    assert.equal(created.statusCode, 201, created.body);
    const md5: string = created.json().fingerprint;
    assert.match(md5, /^[0-9a-f]{2}(:[0-9a-f]{2}){15}$/);
    for (const spelling of [md5, md5.toUpperCase()]) {
      const v1 = await app.request({ method: 'GET', url: `/api/v1.1/project/gh/acme/web/checkout-key/${spelling}`, headers: bearer(alice.key) });
      assert.equal(v1.statusCode, 200, `${spelling}: ${v1.body}`);
      const v2 = await app.request({ method: 'GET', url: `/api/v2/project/gh/acme/web/checkout-key/${spelling}`, headers: bearer(alice.key) });
      assert.equal(v2.statusCode, 200, `${spelling}: ${v2.body}`);
    }
    const removed = await app.request({ method: 'DELETE', url: `/api/v2/project/gh/acme/web/checkout-key/${md5.toUpperCase()}`, headers: bearer(alice.key) });
    assert.equal(removed.statusCode, 200, removed.body);
    const gone = await app.request({ method: 'GET', url: `/api/v1.1/project/gh/acme/web/checkout-key/${md5}`, headers: bearer(alice.key) });
    assert.equal(gone.statusCode, 404);
  });

  test('a NUL or another control character in a path is a 400 with a sentence, before any look-up', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme');
    const headers = { ...bearer(alice.key), 'x-keysmith-account': 'acme' };
    const urls = [
      '/v1/projects/gh/acme/we%00b',
      '/v1/projects/gh/ac%00me/web',
      '/v1/accounts/ac%01me/members',
      '/v1/user/grants/write%00',
      '/v1/user/api-keys/1%00',
      '/v1/nothing%00here',
      '/api/v3/repos/acme/w%00eb/keys',
      '/api/v3/users/al%7fice/keys',
      '/api/v1.1/project/gh/acme/w%00eb/checkout-key',
      '/api/v2/project/gh%2Facme%2Fw%00eb/checkout-key',
    ];
    for (const url of urls) {
      const res = await app.request({ method: 'GET', url, headers });
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
      const body = res.json();
      assert.match(body.error?.message ?? body.message, /NUL byte or another control character/, url);
    }
  });
});
