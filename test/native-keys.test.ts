// The native /v1 key routes the console uses: a user's SSH keys, a project's deploy keys, checkout
// keys and per-host keys, and the Heroku key. Each: the happy path, another tenant's 404, bad input
// as a 400 that names the field, refused key material as a 422, and the audit row the change wrote.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { addProject, addServiceKey, addUser, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase, type TestApp } from './harness.ts';
import { ed25519Line } from './ssh-fixtures.ts';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** alice owns acme (projects gh/acme/web and bb/acme/web); eve owns evecorp and cannot see acme. */
async function world(t: Parameters<typeof appFor>[0], kind: Parameters<typeof appFor>[1]) {
  const app = await appFor(t, kind);
  const alice = await seed(app);
  await addProject(app, alice.key, 'acme', 'web');
  const bb = await app.request({ method: 'POST', url: '/v1/projects', headers: { ...bearer(alice.key), 'x-keysmith-account': 'acme' }, payload: { vcs_type: 'bb', name: 'web' } });
  assert.equal(bb.statusCode, 201, bb.body);
  const eve = await addUser(app, 'eve');
  const evecorp = await app.request({ method: 'POST', url: '/v1/accounts', headers: bearer(eve.key), payload: { name: 'evecorp' } });
  assert.equal(evecorp.statusCode, 201, evecorp.body);
  const call = (key: string) => (method: Method, url: string, payload?: unknown) =>
    app.request({ method, url, headers: bearer(key), ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
  return { app, alice, eve, asAlice: call(alice.key), asEve: call(eve.key) };
}

const pathOf = (location: string | string[] | number | undefined) => new URL(String(location)).pathname;

function nativeError(res: { statusCode: number; json(): unknown; body: string }, status: number, code: string, field?: string) {
  assert.equal(res.statusCode, status, res.body);
  const body = res.json() as { error: { code: string; message: string; field?: string }; request_id: string };
  assert.equal(body.error.code, code, res.body);
  assert.ok(body.error.message.length > 10 && body.error.message.endsWith('.'), `a sentence: ${body.error.message}`);
  assert.equal(typeof body.request_id, 'string');
  if (field) assert.equal(body.error.field, field, res.body);
  return body.error;
}

async function auditActions(app: TestApp, key: string, scope: 'user' | 'account', action: string) {
  const url = scope === 'user' ? `/v1/user/audit-events?action=${action}` : `/v1/audit-events?action=${action}`;
  const res = await app.request({ method: 'GET', url, headers: { ...bearer(key), 'x-keysmith-account': 'acme' } });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as Array<{ action: string; target: { type: string; id: string | null; label: string | null } | null; details: Record<string, unknown> | null }>;
}

const pkcs8 = () => generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

/** Ids that must not reach key 1 (or any key): only the canonical spelling of an integer is one. */
const badIds = ['0145', '+1', '01', '1.0', '0x1', '%201', '-1', '0', '1e3', '__proto__', 'constructor', '99999999999'];
const badVcs = ['__proto__', 'constructor', 'hasOwnProperty', 'svn'];

forEachDatabase("native keys: a user's SSH keys", (kind) => {
  test('add, list, get and delete; Location names the key; fields are native', async (t) => {
    const { app, alice, asAlice } = await world(t, kind);
    const line = ed25519Line('alice@laptop');
    const added = await asAlice('POST', '/v1/user/ssh-keys', { key: line });
    assert.equal(added.statusCode, 201, added.body);
    const key = added.json() as Record<string, unknown> & { id: number; url: string };
    assert.equal(pathOf(added.headers.location), `/v1/user/ssh-keys/${key.id}`);
    assert.equal(key.url, added.headers.location);
    assert.equal(key.title, 'alice@laptop', 'the comment is the default title');
    assert.equal(key.key, line.split(' ').slice(0, 2).join(' '), 'the key without its comment');
    assert.equal(key.type, 'ssh-ed25519');
    assert.equal(key.bits, 256);
    assert.match(String(key.fingerprint_sha256), /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.match(String(key.fingerprint_md5), /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    assert.equal(key.read_only, false);
    assert.equal(key.last_used_at, null);
    assert.match(String(key.created_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/);

    const titled = await asAlice('POST', '/v1/user/ssh-keys', { key: ed25519Line(), title: 'CI box' });
    assert.equal((titled.json() as { title: string }).title, 'CI box');

    const list = await asAlice('GET', '/v1/user/ssh-keys');
    assert.equal(list.statusCode, 200);
    assert.deepEqual(
      (list.json() as Array<{ id: number }>).map((k) => k.id),
      [key.id, (titled.json() as { id: number }).id],
    );
    assert.equal(list.headers['x-total-count'], '2');
    const page = await asAlice('GET', '/v1/user/ssh-keys?per_page=1');
    assert.match(String(page.headers.link), /rel="next"/);

    assert.deepEqual((await asAlice('GET', pathOf(added.headers.location))).json(), key);
    // The GitHub dialect sees the same key: one service behind both doors.
    const github = await app.request({ method: 'GET', url: `/api/v3/user/keys/${key.id}`, headers: bearer(alice.key) });
    assert.equal((github.json() as { fingerprint: string }).fingerprint, key.fingerprint_sha256);

    const gone = await asAlice('DELETE', `/v1/user/ssh-keys/${key.id}`);
    assert.equal(gone.statusCode, 204);
    assert.equal(gone.body, '');
    nativeError(await asAlice('GET', `/v1/user/ssh-keys/${key.id}`), 404, 'not_found');
    nativeError(await asAlice('DELETE', `/v1/user/ssh-keys/${key.id}`), 404, 'not_found');

    const created = await auditActions(app, alice.key, 'user', 'ssh_key.create');
    assert.equal(created.length, 2);
    const deleted = await auditActions(app, alice.key, 'user', 'ssh_key.delete');
    assert.equal(deleted.length, 1);
    assert.equal(deleted[0]!.target?.id, String(key.id));
    assert.equal(deleted[0]!.details?.fingerprint, key.fingerprint_sha256);
  });

  test("another user's key is a 404, read or delete; a service key is told it needs a user's key", async (t) => {
    const { app, alice, asAlice, asEve } = await world(t, kind);
    const id = (await asAlice('POST', '/v1/user/ssh-keys', { key: ed25519Line() })).json().id as number;
    nativeError(await asEve('GET', `/v1/user/ssh-keys/${id}`), 404, 'not_found');
    nativeError(await asEve('DELETE', `/v1/user/ssh-keys/${id}`), 404, 'not_found');
    assert.deepEqual((await asEve('GET', '/v1/user/ssh-keys')).json(), []);
    assert.equal((await asAlice('GET', `/v1/user/ssh-keys/${id}`)).statusCode, 200, 'still there');
    const service = await addServiceKey(app, alice.key, 'acme', 'admin');
    nativeError(await app.request({ method: 'GET', url: '/v1/user/ssh-keys', headers: bearer(service.key) }), 403, 'user_key_required');
  });

  test('bad input is a 400 naming the field: ids in any but the canonical form, wrong types, unknown fields', async (t) => {
    const { app, alice, asAlice } = await world(t, kind);
    const id = (await asAlice('POST', '/v1/user/ssh-keys', { key: ed25519Line() })).json().id as number;
    assert.equal(id, 1, 'key 1 exists, so a lenient parser would find it');
    for (const bad of badIds) {
      for (const method of ['GET', 'DELETE'] as const) nativeError(await asAlice(method, `/v1/user/ssh-keys/${bad}`), 400, 'validation_failed', 'id');
    }
    assert.equal((await asAlice('GET', '/v1/user/ssh-keys/1')).statusCode, 200, 'no bad id deleted key 1');
    nativeError(await asAlice('POST', '/v1/user/ssh-keys', { key: 12345 }), 400, 'validation_failed', 'key');
    nativeError(await asAlice('POST', '/v1/user/ssh-keys', { key: ed25519Line(), title: 123 }), 400, 'validation_failed', 'title');
    nativeError(await asAlice('POST', '/v1/user/ssh-keys', { key: ed25519Line(), title: 'a\nb' }), 400, 'validation_failed', 'title');
    nativeError(await asAlice('POST', '/v1/user/ssh-keys', { key: ed25519Line(), __proto__: { x: 1 }, admin: true }), 400, 'validation_failed');
    nativeError(await asAlice('POST', '/v1/user/ssh-keys', {}), 400, 'validation_failed', 'key');
    nativeError(await asAlice('POST', '/v1/user/ssh-keys', { key: 'x'.repeat(70_000) }), 413, 'payload_too_large');
    nativeError(await asAlice('GET', '/v1/user/ssh-keys?per_page=101'), 400, 'validation_failed');
    assert.equal((await auditActions(app, alice.key, 'user', 'ssh_key.create')).length, 1, 'no refused request wrote anything');
  });

  test("invalid key material is a 422 with the parser's code; a private key is neither kept nor echoed", async (t) => {
    const { app, alice, asAlice, asEve } = await world(t, kind);
    nativeError(await asAlice('POST', '/v1/user/ssh-keys', { key: 'ssh-ed25519 not-base64!' }), 422, 'key_malformed', 'key');
    nativeError(await asAlice('POST', '/v1/user/ssh-keys', { key: 'ssh-dss AAAAB3NzaC1kc3MAAACBAP' }), 422, 'key_type_refused', 'key');
    const secret = pkcs8();
    const pasted = await asAlice('POST', '/v1/user/ssh-keys', { key: secret });
    nativeError(pasted, 422, 'key_is_private', 'key');
    assert.ok(!pasted.body.includes(secret.split('\n')[1]!), 'the private key is not echoed');
    const line = ed25519Line();
    const id = (await asAlice('POST', '/v1/user/ssh-keys', { key: line })).json().id as number;
    const mine = nativeError(await asAlice('POST', '/v1/user/ssh-keys', { key: line }), 422, 'key_in_use_by_you', 'key');
    assert.ok(mine.message.includes(String(id)), "names the id of the caller's own key");
    const theirs = nativeError(await asEve('POST', '/v1/user/ssh-keys', { key: line }), 422, 'key_in_use_elsewhere', 'key');
    assert.ok(!theirs.message.includes(String(id)) && !theirs.message.includes('alice'), 'says nothing of whose it is');
    assert.equal((await auditActions(app, alice.key, 'user', 'ssh_key.create')).length, 1);
  });
});

forEachDatabase("native keys: a project's deploy keys", (kind) => {
  test('add (read-only by default), list, get and delete, per project and vcs', async (t) => {
    const { app, alice, asAlice } = await world(t, kind);
    const base = '/v1/projects/gh/acme/web/deploy-keys';
    const added = await asAlice('POST', base, { key: ed25519Line(), title: 'deploy bot' });
    assert.equal(added.statusCode, 201, added.body);
    const key = added.json() as { id: number; read_only: boolean; added_by: string; title: string; url: string };
    assert.equal(pathOf(added.headers.location), `${base}/${key.id}`);
    assert.equal(key.read_only, true);
    assert.equal(key.added_by, 'alice');
    assert.equal(key.title, 'deploy bot');
    const writable = (await asAlice('POST', '/v1/projects/github/acme/web/deploy-keys', { key: ed25519Line(), read_only: false })).json() as { id: number; read_only: boolean };
    assert.equal(writable.read_only, false);

    const onBitbucket = await asAlice('POST', '/v1/projects/bb/acme/web/deploy-keys', { key: ed25519Line() });
    assert.equal(onBitbucket.statusCode, 201, onBitbucket.body);
    const bbId = (onBitbucket.json() as { id: number }).id;
    assert.deepEqual(
      (await asAlice('GET', base)).json().map((k: { id: number }) => k.id),
      [key.id, writable.id],
      'the gh project lists its own keys only',
    );
    assert.deepEqual(
      (await asAlice('GET', '/v1/projects/bb/acme/web/deploy-keys')).json().map((k: { id: number }) => k.id),
      [bbId],
    );
    nativeError(await asAlice('GET', `${base}/${bbId}`), 404, 'not_found');

    assert.equal((await asAlice('GET', `${base}/${key.id}`)).json().id, key.id);
    const github = await app.request({ method: 'GET', url: '/api/v3/repos/acme/web/keys', headers: bearer(alice.key) });
    assert.equal(github.json().length, 2, 'the GitHub dialect lists the same keys');

    assert.equal((await asAlice('DELETE', `${base}/${key.id}`)).statusCode, 204);
    nativeError(await asAlice('GET', `${base}/${key.id}`), 404, 'not_found');

    const created = await auditActions(app, alice.key, 'account', 'deploy_key.create');
    assert.deepEqual(created.map((e) => e.target?.label).sort(), ['bb/acme/web', 'gh/acme/web', 'gh/acme/web']);
    const deleted = await auditActions(app, alice.key, 'account', 'deploy_key.delete');
    assert.equal(deleted.length, 1);
    assert.equal(deleted[0]!.target?.id, String(key.id));
  });

  test("another account's project is a 404 for every route; a read-only member is refused the changes", async (t) => {
    const { app, alice, asAlice, asEve } = await world(t, kind);
    const base = '/v1/projects/gh/acme/web/deploy-keys';
    const id = (await asAlice('POST', base, { key: ed25519Line() })).json().id as number;
    nativeError(await asEve('GET', base), 404, 'not_found');
    nativeError(await asEve('POST', base, { key: ed25519Line() }), 404, 'not_found');
    nativeError(await asEve('GET', `${base}/${id}`), 404, 'not_found');
    nativeError(await asEve('DELETE', `${base}/${id}`), 404, 'not_found');
    const dan = await addUser(app, 'dan', { account: 'acme', role: 'read_only', by: alice.key });
    assert.equal((await app.request({ method: 'GET', url: base, headers: bearer(dan.key) })).statusCode, 200);
    nativeError(await app.request({ method: 'DELETE', url: `${base}/${id}`, headers: bearer(dan.key) }), 403, 'role_required');
    assert.equal((await asAlice('GET', `${base}/${id}`)).statusCode, 200, 'still there');
  });

  test('bad input is a 400: prototype names and unknown vcs, non-canonical ids, wrong types', async (t) => {
    const { app, alice, asAlice } = await world(t, kind);
    const id = (await asAlice('POST', '/v1/projects/gh/acme/web/deploy-keys', { key: ed25519Line() })).json().id as number;
    for (const vcs of badVcs) {
      const base = `/v1/projects/${vcs}/acme/web/deploy-keys`;
      nativeError(await asAlice('GET', base), 400, 'validation_failed', 'vcs');
      nativeError(await asAlice('POST', base, { key: ed25519Line() }), 400, 'validation_failed', 'vcs');
      nativeError(await asAlice('GET', `${base}/${id}`), 400, 'validation_failed', 'vcs');
      nativeError(await asAlice('DELETE', `${base}/${id}`), 400, 'validation_failed', 'vcs');
    }
    for (const bad of badIds) nativeError(await asAlice('DELETE', `/v1/projects/gh/acme/web/deploy-keys/${bad}`), 400, 'validation_failed', 'id');
    nativeError(await asAlice('POST', '/v1/projects/gh/acme/web/deploy-keys', { key: ed25519Line(), read_only: 'yes' }), 400, 'validation_failed', 'read_only');
    for (const name of ['__proto__', 'constructor']) {
      nativeError(await asAlice('GET', `/v1/projects/gh/acme/${name}/deploy-keys`), 404, 'not_found');
      nativeError(await asAlice('GET', `/v1/projects/gh/${name}/web/deploy-keys`), 404, 'not_found');
    }
    assert.equal((await asAlice('GET', `/v1/projects/gh/acme/web/deploy-keys/${id}`)).statusCode, 200);
    assert.equal((await auditActions(app, alice.key, 'account', 'deploy_key.create')).length, 1);
    assert.equal((await app.request({ method: 'GET', url: '/v1/projects', headers: { ...bearer(alice.key), 'x-keysmith-account': 'acme' } })).statusCode, 200, 'the account still lists its projects');
  });

  test('invalid key material is a 422; a key in use elsewhere says nothing of where', async (t) => {
    const { asAlice, asEve } = await world(t, kind);
    await asEve('POST', '/v1/projects', { vcs_type: 'gh', name: 'site' });
    const base = '/v1/projects/gh/acme/web/deploy-keys';
    nativeError(await asAlice('POST', base, { key: 'ssh-rsa AAAA' }), 422, 'key_malformed', 'key');
    nativeError(await asAlice('POST', base, { key: pkcs8() }), 422, 'key_is_private', 'key');
    const line = ed25519Line();
    assert.equal((await asEve('POST', '/v1/user/ssh-keys', { key: line })).statusCode, 201);
    nativeError(await asAlice('POST', base, { key: line }), 422, 'key_in_use_elsewhere', 'key');
    assert.deepEqual((await asAlice('GET', base)).json(), []);
  });
});

forEachDatabase("native keys: a project's checkout keys", (kind) => {
  test('generate a deploy key, read it by either fingerprint, delete it with its public half', async (t) => {
    const { app, alice, asAlice } = await world(t, kind);
    const base = '/v1/projects/gh/acme/web/checkout-keys';
    const added = await asAlice('POST', base, { type: 'deploy' });
    assert.equal(added.statusCode, 201, added.body);
    const key = added.json() as { public_key: string; type: string; fingerprint_md5: string; fingerprint_sha256: string; preferred: boolean; created_at: string; url: string };
    assert.equal(key.type, 'deploy');
    assert.equal(key.preferred, true);
    assert.match(key.public_key, /^ssh-ed25519 /);
    assert.equal(pathOf(added.headers.location), `${base}/${encodeURIComponent(key.fingerprint_sha256)}`);
    assert.ok(!added.body.includes('PRIVATE'), 'no private half');
    const rsa = (await asAlice('POST', base, { type: 'deploy', algorithm: 'rsa' })).json() as typeof key;
    assert.match(rsa.public_key, /^ssh-rsa /);
    assert.equal(rsa.preferred, true, 'the newest deploy key is preferred');

    const list = (await asAlice('GET', base)).json() as Array<typeof key>;
    assert.deepEqual(
      list.map((k) => [k.fingerprint_sha256, k.preferred]),
      [
        [rsa.fingerprint_sha256, true],
        [key.fingerprint_sha256, false],
      ],
    );
    assert.equal((await asAlice('GET', `${base}/${key.fingerprint_md5}`)).json().fingerprint_sha256, key.fingerprint_sha256);
    assert.equal((await asAlice('GET', pathOf(added.headers.location))).json().fingerprint_md5, key.fingerprint_md5);

    const deployKeys = await asAlice('GET', '/v1/projects/gh/acme/web/deploy-keys');
    assert.ok(
      deployKeys.json().some((k: { fingerprint_sha256: string }) => k.fingerprint_sha256 === key.fingerprint_sha256),
      'its public half is a deploy key',
    );
    assert.equal((await asAlice('DELETE', pathOf(added.headers.location))).statusCode, 204);
    nativeError(await asAlice('GET', pathOf(added.headers.location)), 404, 'not_found');
    assert.ok(!(await asAlice('GET', '/v1/projects/gh/acme/web/deploy-keys')).json().some((k: { fingerprint_sha256: string }) => k.fingerprint_sha256 === key.fingerprint_sha256));

    const created = await auditActions(app, alice.key, 'account', 'checkout_key.create');
    assert.equal(created.length, 2);
    assert.equal(created.find((e) => e.details?.fingerprint === key.fingerprint_md5)?.details?.algorithm, 'ed25519');
    const deleted = await auditActions(app, alice.key, 'account', 'checkout_key.delete');
    assert.deepEqual(
      deleted.map((e) => e.details?.fingerprint),
      [key.fingerprint_md5],
    );
  });

  test("a user key needs the grant (403 with the remedy), then lands on the user's own SSH keys", async (t) => {
    const { app, alice, asAlice } = await world(t, kind);
    const base = '/v1/projects/gh/acme/web/checkout-keys';
    const refused = nativeError(await asAlice('POST', base, { type: 'user' }), 403, 'grant_required') as { remedy?: string };
    assert.match(String(refused.remedy), /\/settings\/permissions\?grant=write:public_key/);
    assert.equal((await asAlice('PUT', '/v1/user/grants/write:public_key')).statusCode, 200);
    const added = await asAlice('POST', base, { type: 'user' });
    assert.equal(added.statusCode, 201, added.body);
    const key = added.json() as { type: string; fingerprint_sha256: string; preferred: boolean };
    assert.equal(key.type, 'user');
    const own = (await asAlice('GET', '/v1/user/ssh-keys')).json() as Array<{ fingerprint_sha256: string }>;
    assert.ok(
      own.some((k) => k.fingerprint_sha256 === key.fingerprint_sha256),
      "on alice's own SSH keys",
    );
    const service = await addServiceKey(app, alice.key, 'acme', 'admin');
    nativeError(await app.request({ method: 'POST', url: base, headers: bearer(service.key), payload: { type: 'user' } }), 403, 'user_key_required');
  });

  test("another account's project is a 404; bad input is a 400", async (t) => {
    const { asAlice, asEve } = await world(t, kind);
    const base = '/v1/projects/gh/acme/web/checkout-keys';
    const key = (await asAlice('POST', base, { type: 'deploy' })).json() as { fingerprint_md5: string };
    nativeError(await asEve('GET', base), 404, 'not_found');
    nativeError(await asEve('POST', base, { type: 'deploy' }), 404, 'not_found');
    nativeError(await asEve('GET', `${base}/${key.fingerprint_md5}`), 404, 'not_found');
    nativeError(await asEve('DELETE', `${base}/${key.fingerprint_md5}`), 404, 'not_found');
    nativeError(await asAlice('GET', `${base}/SHA256:nothere`), 404, 'not_found');

    for (const vcs of badVcs) {
      nativeError(await asAlice('GET', `/v1/projects/${vcs}/acme/web/checkout-keys`), 400, 'validation_failed', 'vcs');
      nativeError(await asAlice('POST', `/v1/projects/${vcs}/acme/web/checkout-keys`, { type: 'deploy' }), 400, 'validation_failed', 'vcs');
      nativeError(await asAlice('DELETE', `/v1/projects/${vcs}/acme/web/checkout-keys/${key.fingerprint_md5}`), 400, 'validation_failed', 'vcs');
    }
    for (const type of ['__proto__', 'constructor', 'deploy-key', 'user-key', 'github-user-key', '']) {
      nativeError(await asAlice('POST', base, { type }), 400, 'validation_failed', 'type');
    }
    nativeError(await asAlice('POST', base, { type: 'deploy', algorithm: 'dsa' }), 400, 'validation_failed', 'algorithm');
    nativeError(await asAlice('POST', base, {}), 400, 'validation_failed', 'type');
    nativeError(await asAlice('GET', `${base}/${'a'.repeat(101)}`), 400, 'validation_failed', 'fingerprint');
    assert.equal((await asAlice('GET', base)).json().length, 1, 'nothing refused was made');
  });
});

forEachDatabase("native keys: a project's per-host SSH keys", (kind) => {
  test('add (201, public parts only), list, delete by fingerprint and ?hostname=', async (t) => {
    const { app, alice, asAlice } = await world(t, kind);
    const base = '/v1/projects/gh/acme/web/ssh-keys';
    const secret = pkcs8();
    const added = await asAlice('POST', base, { hostname: 'Deploy.Example.com', private_key: secret });
    assert.equal(added.statusCode, 201, added.body);
    const key = added.json() as { hostname: string; fingerprint: string; fingerprint_sha256: string; public_key: string; created_at: string };
    assert.equal(key.hostname, 'deploy.example.com');
    assert.match(key.public_key, /^ssh-ed25519 /);
    assert.ok(!added.body.includes('PRIVATE') && !added.body.includes(secret.split('\n')[1]!), 'the private key is not echoed');
    const everyHost = (await asAlice('POST', base, { hostname: '', private_key: pkcs8() })).json() as typeof key;
    assert.equal(everyHost.hostname, '');

    const list = (await asAlice('GET', base)).json() as Array<typeof key>;
    assert.deepEqual(
      list.map((k) => k.hostname),
      ['', 'deploy.example.com'],
    );
    assert.deepEqual(list[1], key, 'the list shows what the create answered');

    nativeError(await asAlice('DELETE', `${base}/${encodeURIComponent(key.fingerprint_sha256)}?hostname=other.example.com`), 404, 'not_found');
    assert.equal((await asAlice('DELETE', `${base}/${encodeURIComponent(key.fingerprint_sha256)}?hostname=deploy.example.com`)).statusCode, 204);
    assert.equal((await asAlice('DELETE', `${base}/${everyHost.fingerprint}?hostname=`)).statusCode, 204, 'MD5 and the empty hostname');
    assert.deepEqual((await asAlice('GET', base)).json(), []);

    const created = await auditActions(app, alice.key, 'account', 'host_key.create');
    assert.deepEqual(created.map((e) => e.details?.hostname).sort(), ['', 'deploy.example.com']);
    const deleted = await auditActions(app, alice.key, 'account', 'host_key.delete');
    assert.equal(deleted.length, 2);
    assert.ok(!JSON.stringify([...created, ...deleted]).includes('PRIVATE'), 'no secret in the trail');
  });

  test("another account's project is a 404; bad input is a 400; a key that is not a usable private key is a 422", async (t) => {
    const { asAlice, asEve } = await world(t, kind);
    const base = '/v1/projects/gh/acme/web/ssh-keys';
    const key = (await asAlice('POST', base, { hostname: 'db.example.com', private_key: pkcs8() })).json() as { fingerprint: string };
    nativeError(await asEve('GET', base), 404, 'not_found');
    nativeError(await asEve('POST', base, { hostname: 'x.example.com', private_key: pkcs8() }), 404, 'not_found');
    nativeError(await asEve('DELETE', `${base}/${key.fingerprint}?hostname=db.example.com`), 404, 'not_found');

    for (const vcs of badVcs) {
      nativeError(await asAlice('GET', `/v1/projects/${vcs}/acme/web/ssh-keys`), 400, 'validation_failed', 'vcs');
      nativeError(await asAlice('POST', `/v1/projects/${vcs}/acme/web/ssh-keys`, { hostname: '', private_key: pkcs8() }), 400, 'validation_failed', 'vcs');
      nativeError(await asAlice('DELETE', `/v1/projects/${vcs}/acme/web/ssh-keys/${key.fingerprint}?hostname=db.example.com`), 400, 'validation_failed', 'vcs');
    }
    nativeError(await asAlice('DELETE', `${base}/${key.fingerprint}`), 400, 'validation_failed', 'hostname');
    nativeError(await asAlice('POST', base, { hostname: 'bad host!', private_key: pkcs8() }), 400, 'validation_failed', 'hostname');
    nativeError(await asAlice('POST', base, { hostname: 'x.example.com' }), 400, 'validation_failed', 'private_key');
    nativeError(await asAlice('POST', base, { hostname: 'x.example.com', private_key: 42 }), 400, 'validation_failed', 'private_key');

    nativeError(await asAlice('POST', base, { hostname: 'x.example.com', private_key: ed25519Line() }), 422, 'key_is_public', 'private_key');
    const garbage = await asAlice('POST', base, { hostname: 'x.example.com', private_key: '-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n-----END OPENSSH PRIVATE KEY-----\n' });
    assert.equal(garbage.statusCode, 422, garbage.body);
    assert.equal((garbage.json() as { error: { field: string } }).error.field, 'private_key');
    assert.equal((await asAlice('GET', base)).json().length, 1, 'nothing refused was stored');
  });
});

forEachDatabase('native keys: the Heroku key', (kind) => {
  test('PUT sets it (only its last four characters come back), a person only; bad keys are a 400', async (t) => {
    const { app, alice, asAlice, asEve } = await world(t, kind);
    const url = '/v1/user/integrations/heroku';
    const set = await asAlice('PUT', url, { apikey: 'heroku-0123456789abcd' });
    assert.equal(set.statusCode, 200, set.body);
    assert.deepEqual(set.json(), { configured: true, last4: 'abcd' });
    assert.ok(!set.body.includes('0123456789'), 'the key is not echoed');
    assert.deepEqual((await asAlice('GET', url)).json(), { configured: true, last4: 'abcd' });
    assert.deepEqual((await asEve('GET', url)).json(), { configured: false, last4: null }, "eve does not see alice's key");
    assert.equal((await auditActions(app, alice.key, 'user', 'heroku_key.set')).length, 1);

    nativeError(await asAlice('PUT', url, { apikey: 'no spaces allowed here' }), 400, 'validation_failed', 'apikey');
    nativeError(await asAlice('PUT', url, { apikey: 12345678 }), 400, 'validation_failed', 'apikey');
    nativeError(await asAlice('PUT', url, {}), 400, 'validation_failed', 'apikey');
    const service = await addServiceKey(app, alice.key, 'acme', 'admin');
    nativeError(await app.request({ method: 'PUT', url, headers: bearer(service.key), payload: { apikey: 'heroku-0123456789' } }), 403, 'user_key_required');
    assert.deepEqual((await asAlice('GET', url)).json(), { configured: true, last4: 'abcd' }, 'refusals changed nothing');
  });
});

forEachDatabase('native keys: the API description', (kind) => {
  test('every native key route is described, tagged and summarised, with its errors in the native shape', async (t) => {
    const app = await appFor(t, kind);
    const spec = (await app.request({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { tags?: string[]; summary?: string; responses: Record<string, unknown> }>>;
    };
    const routes = [
      ['get', '/v1/user/ssh-keys'],
      ['post', '/v1/user/ssh-keys'],
      ['get', '/v1/user/ssh-keys/{id}'],
      ['delete', '/v1/user/ssh-keys/{id}'],
      ['get', '/v1/projects/{vcs}/{account}/{name}/deploy-keys'],
      ['post', '/v1/projects/{vcs}/{account}/{name}/deploy-keys'],
      ['get', '/v1/projects/{vcs}/{account}/{name}/deploy-keys/{id}'],
      ['delete', '/v1/projects/{vcs}/{account}/{name}/deploy-keys/{id}'],
      ['get', '/v1/projects/{vcs}/{account}/{name}/checkout-keys'],
      ['post', '/v1/projects/{vcs}/{account}/{name}/checkout-keys'],
      ['get', '/v1/projects/{vcs}/{account}/{name}/checkout-keys/{fingerprint}'],
      ['delete', '/v1/projects/{vcs}/{account}/{name}/checkout-keys/{fingerprint}'],
      ['get', '/v1/projects/{vcs}/{account}/{name}/ssh-keys'],
      ['post', '/v1/projects/{vcs}/{account}/{name}/ssh-keys'],
      ['delete', '/v1/projects/{vcs}/{account}/{name}/ssh-keys/{fingerprint}'],
      ['put', '/v1/user/integrations/heroku'],
    ] as const;
    for (const [method, path] of routes) {
      const op = spec.paths[path]?.[method];
      assert.ok(op, `${method.toUpperCase()} ${path} is described`);
      assert.ok(op.tags?.length && op.summary, `${method.toUpperCase()} ${path} has a tag and a summary`);
      assert.ok(Object.keys(op.responses).some((s) => s.startsWith('2')) && op.responses['4XX'] !== undefined, `${method.toUpperCase()} ${path} declares its answers: ${Object.keys(op.responses)}`);
    }
  });
});
