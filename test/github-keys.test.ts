// The GitHub-compatible key API (README) through @octokit/rest: the client nobody here wrote is the judge of the wire format.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Octokit } from '@octokit/rest';
import { RequestError } from '@octokit/request-error';
import { addProject, addServiceKey, addUser, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase, type TestApp } from './harness.ts';
import { ed25519Line, keygenFingerprint, sshKeygen } from './ssh-fixtures.ts';

const client = (baseUrl: string, auth?: string) => new Octokit({ baseUrl: `${baseUrl}/api/v3`, ...(auth ? { auth } : {}), log: { debug() {}, info() {}, warn() {}, error() {} } });

/** The error Octokit throws, for assertions on status and body. */
async function refusal(promise: Promise<unknown>): Promise<RequestError & { response: { data: { message: string; errors?: Array<{ code: string; field: string; message: string }> } } }> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof RequestError, String(err));
    return err as never;
  }
  assert.fail('the request was expected to fail');
}

async function started(t: Parameters<typeof appFor>[0], kind: Parameters<typeof appFor>[1]): Promise<{ app: TestApp; url: string; alice: Awaited<ReturnType<typeof seed>> }> {
  const app = await appFor(t, kind, { listen: true });
  const alice = await seed(app);
  return { app, url: app.url, alice };
}

forEachDatabase('GitHub-compatible key API', (kind) => {
  test('Octokit adds, lists, gets and deletes its user keys; the public list needs no credential', async (t) => {
    const { app, url, alice } = await started(t, kind);
    const octokit = client(url, alice.key);
    const generated = sshKeygen('ed25519');
    const created = await octokit.rest.users.createPublicSshKeyForAuthenticatedUser({ title: 'laptop', key: generated.publicLine });
    assert.equal(created.status, 201);
    assert.equal(created.headers.location, `${url}/api/v3/user/keys/${created.data.id}`);
    assert.equal(created.data.key, generated.publicLine.split(' ').slice(0, 2).join(' '), 'the key without its comment');
    assert.equal(created.data.title, 'laptop');
    assert.equal(created.data.verified, false, 'not verified until the holder signs a challenge (PUT /v1/user/ssh-keys/{id}/verification)');
    assert.equal(created.data.read_only, false);
    assert.equal(created.data.last_used, null);
    assert.match(created.data.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal((created.data as { fingerprint?: string }).fingerprint, keygenFingerprint(generated.publicFile, 'sha256').fingerprint);

    const listed = await octokit.rest.users.listPublicSshKeysForAuthenticatedUser();
    assert.deepEqual(
      listed.data.map((k) => k.id),
      [created.data.id],
    );
    const got = await octokit.rest.users.getPublicSshKeyForAuthenticatedUser({ key_id: created.data.id });
    assert.deepEqual(got.data, created.data);
    const publicList = await client(url).rest.users.listPublicKeysForUser({ username: 'ALICE' });
    assert.deepEqual(publicList.data, [{ id: created.data.id, key: created.data.key }]);

    const deleted = await octokit.rest.users.deletePublicSshKeyForAuthenticatedUser({ key_id: created.data.id });
    assert.equal(deleted.status, 204);
    assert.equal((await refusal(octokit.rest.users.getPublicSshKeyForAuthenticatedUser({ key_id: created.data.id }))).status, 404);
    assert.equal((await refusal(client(url).rest.users.listPublicKeysForUser({ username: 'nobody' }))).status, 404);
    const events = await app.services.db.selectFrom('audit_events').select('action').where('action', 'like', 'ssh_key.%').execute();
    assert.deepEqual(
      events.map((e) => e.action),
      ['ssh_key.create', 'ssh_key.delete'],
    );
  });

  test('octokit.paginate walks 250 keys through the Link header', async (t) => {
    const { app, url, alice } = await started(t, kind);
    await app.services.sshKeys.importUserKeys(
      { cli: true },
      alice.userId,
      Array.from({ length: 250 }, (_, i) => ({ title: `k${i}`, key: ed25519Line() })),
    );
    const octokit = client(url, alice.key);
    const firstPage = await octokit.rest.users.listPublicSshKeysForAuthenticatedUser();
    assert.equal(firstPage.data.length, 30, 'default per_page');
    assert.match(String(firstPage.headers.link), /page=2&per_page=30>; rel="next", <.*page=9&per_page=30>; rel="last"$/);
    const all = await octokit.paginate(octokit.rest.users.listPublicSshKeysForAuthenticatedUser, { per_page: 100 });
    assert.equal(all.length, 250);
    assert.equal(new Set(all.map((k) => k.id)).size, 250);
    assert.deepEqual(
      all.map((k) => k.title),
      Array.from({ length: 250 }, (_, i) => `k${i}`),
    );
    const publicAll = await client(url).paginate(client(url).rest.users.listPublicKeysForUser, { username: 'alice', per_page: 100 });
    assert.equal(publicAll.length, 250);
    const over = await refusal(octokit.rest.users.listPublicSshKeysForAuthenticatedUser({ per_page: 101 }));
    assert.equal(over.status, 400);
  });

  test('invalid keys get 422 "Validation Failed" with a distinct code and a sentence, and nothing is stored', async (t) => {
    const { app, url, alice } = await started(t, kind);
    const octokit = client(url, alice.key);
    const privateKey = sshKeygen('ed25519').privateKey;
    const rsa = sshKeygen('rsa', 3072).publicLine;
    const cases: Array<[string, string, string, RegExp]> = [
      ['garbage', 'not a key at all', 'key_malformed', /./],
      ['truncated', rsa.slice(0, 200), 'key_malformed', /./],
      ['re-padded', rsa.split(' ').slice(0, 2).join(' ') + '==', 'key_malformed', /./],
      ['options prefix', `no-pty,command="/bin/sh" ${ed25519Line()}`, 'key_malformed', /without/i],
      ['two keys', `${ed25519Line()}\n${ed25519Line()}`, 'key_malformed', /one key/i],
      [
        'ssh-dss',
        'ssh-dss AAAAB3NzaC1kc3MAAACBAP1/U4EddRIpUt9KnC7s5Of2EbdSPO9EAMMeP4C2USZpRV1AIlH7WT2NWPq/xfW6MPbLm1Vs14E7gB00b/JmYLdrmVClpJ+f6AR7ECLCT7up1/63xhv4O1fnxqimFQ8E+4P208UewwI1VBNaFpEy9nXzrith1yrv8iIDGZ3RSAHHAAAAFQCXYFCPFSMLzLKSuYKi64QL8Fgc9QAAAIEA9+GghdabPd7LvKtcNrhXuXmUr7v6OuqC+VdMCz0HgmdRWVeOutRZT+ZxBxCBgLRJFnEj6EwoFhO3zwkyjMim4TwWeotUfI0o4KOuHiuzpnWRbqN/C/ohNWLx+2J6ASQ7zKTxvqhRkImog9/hWuWfBpKLZl6Ae1UlZAFMO/7PSSoAAACBAPNSf0/4h4sSzIZw8KHQKjQC6bSFIFPfzjVNsyRyX6wE8ySJEkq+EpPMDD5Gn6X3OsUL2aPPtP4TtDl6J/c2Lj8E3NJJYVWjRxyvNJh4gCoXdHEPxu56h6cV2CyY7uC8rNPsQBUd5gjqBf1xGybhlAbeXiuxqYGmAIkKhAV14k/A test',
        'key_type_refused',
        /ed25519/,
      ],
      ['rsa 1024', sshKeygen('rsa', 1024).publicLine, 'key_too_weak', /2048/],
      ['private key', privateKey, 'key_is_private', /\.pub/],
      ['binary', '\u0000\u0001\u0002ssh-ed25519 \u00ff\u00fe', 'key_malformed', /./],
    ];
    for (const [label, key, code, sentence] of cases) {
      const err = await refusal(octokit.rest.users.createPublicSshKeyForAuthenticatedUser({ title: label, key }));
      assert.equal(err.status, 422, label);
      assert.equal(err.response.data.message, 'Validation Failed', label);
      assert.equal(err.response.data.errors?.[0]?.code, code, label);
      assert.equal(err.response.data.errors?.[0]?.field, 'key', label);
      assert.match(err.response.data.errors![0]!.message, sentence, label);
      assert.match(err.response.data.errors![0]!.message, /\.$/, `${label}: a sentence`);
    }
    const body = privateKey.split('\n').filter((l) => l.length > 40);
    const logs = app.logs.join('\n');
    for (const line of body) assert.ok(!logs.includes(line), 'the private key is not logged');
    const huge = await refusal(octokit.rest.users.createPublicSshKeyForAuthenticatedUser({ key: 'A'.repeat(1024 * 1024) }));
    assert.equal(huge.status, 413);
    assert.equal((await app.services.db.selectFrom('ssh_keys').select('id').execute()).length, 0, 'nothing stored');
  });

  test('a key exists once in the instance: the duplicate says whether it is yours (with its id) or in use elsewhere', async (t) => {
    const { url, alice, app } = await started(t, kind);
    const bob = await addUser(app, 'bob');
    const line = ed25519Line();
    const mine = await client(url, alice.key).rest.users.createPublicSshKeyForAuthenticatedUser({ key: line });
    const again = await refusal(client(url, alice.key).rest.users.createPublicSshKeyForAuthenticatedUser({ key: line }));
    assert.equal(again.status, 422);
    assert.equal(again.response.data.errors?.[0]?.code, 'key_in_use_by_you');
    assert.match(again.response.data.errors![0]!.message, new RegExp(`already on your account, as key ${mine.data.id}\\.`));
    const theirs = await refusal(client(url, bob.key).rest.users.createPublicSshKeyForAuthenticatedUser({ key: line }));
    assert.equal(theirs.response.data.errors?.[0]?.code, 'key_in_use_elsewhere');
    assert.ok(!theirs.response.data.errors![0]!.message.includes('alice'), 'does not say where');
    await addProject(app, alice.key, 'acme', 'web');
    const asDeploy = await refusal(client(url, alice.key).rest.repos.createDeployKey({ owner: 'acme', repo: 'web', key: line }));
    assert.equal(asDeploy.response.data.errors?.[0]?.code, 'key_in_use_by_you', 'the same key as a deploy key');
  });

  test('a bulk import is all or nothing, and names the line that failed', async (t) => {
    const { app, alice } = await started(t, kind);
    const good = ed25519Line();
    const batch = (keys: string[]) =>
      app.services.sshKeys.importUserKeys(
        { cli: true },
        alice.userId,
        keys.map((key) => ({ key })),
      );
    await assert.rejects(batch([good, 'ssh-ed25519 AAAA broken']), /Key 2: /);
    await assert.rejects(batch([good, good]), /appears twice/);
    assert.equal(await batch([good]), 1);
    await assert.rejects(batch([ed25519Line(), good]), /1 of these keys are already in use/);
    assert.equal((await app.services.db.selectFrom('ssh_keys').select('id').execute()).length, 1);
  });

  test('keys are immutable: PATCH and PUT answer 405 with a sentence', async (t) => {
    const { url, alice, app } = await started(t, kind);
    const created = await client(url, alice.key).rest.users.createPublicSshKeyForAuthenticatedUser({ key: ed25519Line() });
    for (const method of ['PATCH', 'PUT'] as const) {
      const res = await app.request({ method, url: `/api/v3/user/keys/${created.data.id}`, headers: bearer(alice.key), payload: { title: 'renamed' } });
      assert.equal(res.statusCode, 405);
      assert.equal(res.headers.allow, 'GET, DELETE');
      assert.match(res.json().message, /delete this key and add it again/);
    }
  });

  test('scopes: X-OAuth-Scopes and X-Accepted-OAuth-Scopes on every response; a missing scope is a 403 naming it', async (t) => {
    const { url, alice, app } = await started(t, kind);
    const reader = await app.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(alice.key), payload: { name: 'reader', scopes: ['read:public_key'] } });
    const octokit = client(url, reader.json().key);
    const list = await octokit.rest.users.listPublicSshKeysForAuthenticatedUser();
    assert.equal(list.headers['x-oauth-scopes'], 'read:public_key');
    assert.equal(list.headers['x-accepted-oauth-scopes'], 'read:public_key, write:public_key, admin:public_key');
    const denied = await refusal(octokit.rest.users.createPublicSshKeyForAuthenticatedUser({ key: ed25519Line() }));
    assert.equal(denied.status, 403);
    assert.match(denied.response.data.message, /Adding an SSH key needs the write:public_key scope; this API key holds read:public_key\. Create an API key with the write:public_key scope/);
    assert.equal(denied.response.headers['x-accepted-oauth-scopes'], 'write:public_key, admin:public_key');
    const writer = await app.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(alice.key), payload: { name: 'writer', scopes: ['write:public_key'] } });
    const added = await client(url, writer.json().key).rest.users.createPublicSshKeyForAuthenticatedUser({ key: ed25519Line() });
    const noAdmin = await refusal(client(url, writer.json().key).rest.users.deletePublicSshKeyForAuthenticatedUser({ key_id: added.data.id }));
    assert.equal(noAdmin.status, 403, 'deleting needs admin:public_key');
    const full = await client(url, alice.key).rest.users.getAuthenticated();
    assert.equal(full.data.login, 'alice');
    assert.equal(full.headers['x-oauth-scopes'], 'read:public_key, write:public_key, admin:public_key, read:project, write:project, admin:account');
    const anonymous = await refusal(client(url).rest.users.listPublicSshKeysForAuthenticatedUser());
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.response.headers['x-oauth-scopes'], '');
  });

  test('deploy keys of gh/{owner}/{repo}: read-only by default, with added_by; roles and tenants as the README says', async (t) => {
    const { url, alice, app } = await started(t, kind);
    await addProject(app, alice.key, 'acme', 'web');
    const octokit = client(url, alice.key);
    const created = await octokit.rest.repos.createDeployKey({ owner: 'acme', repo: 'web', title: 'deploy', key: ed25519Line() });
    assert.equal(created.status, 201);
    assert.equal(created.headers.location, `${url}/api/v3/repos/acme/web/keys/${created.data.id}`);
    assert.equal(created.data.read_only, true);
    assert.equal((created.data as { added_by?: string }).added_by, 'alice');
    const writable = await octokit.rest.repos.createDeployKey({ owner: 'acme', repo: 'web', key: ed25519Line('ci'), read_only: false });
    assert.equal(writable.data.read_only, false);
    assert.equal(writable.data.title, 'ci', 'the comment is the default title');
    assert.equal((await octokit.rest.repos.listDeployKeys({ owner: 'acme', repo: 'web' })).data.length, 2);
    assert.equal((await octokit.rest.repos.getDeployKey({ owner: 'acme', repo: 'web', key_id: created.data.id })).data.id, created.data.id);

    const reader = await addServiceKey(app, alice.key, 'acme', 'read_only');
    assert.equal((await client(url, reader.key).rest.repos.listDeployKeys({ owner: 'acme', repo: 'web' })).data.length, 2);
    const denied = await refusal(client(url, reader.key).rest.repos.deleteDeployKey({ owner: 'acme', repo: 'web', key_id: created.data.id }));
    assert.equal(denied.status, 403);
    const eve = await addUser(app, 'eve');
    assert.equal((await refusal(client(url, eve.key).rest.repos.listDeployKeys({ owner: 'acme', repo: 'web' }))).status, 404, "another tenant's repo is a 404");
    assert.equal((await refusal(octokit.rest.repos.listDeployKeys({ owner: 'acme', repo: 'nope' }))).status, 404);

    assert.equal((await octokit.rest.repos.deleteDeployKey({ owner: 'acme', repo: 'web', key_id: created.data.id })).status, 204);
    assert.equal((await refusal(octokit.rest.repos.getDeployKey({ owner: 'acme', repo: 'web', key_id: created.data.id }))).status, 404);
    const audit = await app.services.db.selectFrom('audit_events').select(['action', 'account_id']).where('action', 'like', 'deploy_key.%').execute();
    assert.deepEqual(
      audit.map((a) => a.action),
      ['deploy_key.create', 'deploy_key.create', 'deploy_key.delete'],
    );
    assert.ok(audit.every((a) => a.account_id !== null));
  });

  test('fingerprints match ssh-keygen for every type it generates', async (t) => {
    const { url, alice } = await started(t, kind);
    const octokit = client(url, alice.key);
    for (const [type, bits] of [['ed25519'], ['ecdsa', 256], ['ecdsa', 384], ['ecdsa', 521], ['rsa', 2048]] as Array<[string, number?]>) {
      const generated = sshKeygen(type, bits);
      const created = await octokit.rest.users.createPublicSshKeyForAuthenticatedUser({ key: generated.publicLine });
      assert.equal((created.data as { fingerprint?: string }).fingerprint, keygenFingerprint(generated.publicFile, 'sha256').fingerprint, `${type} ${bits ?? ''}`);
    }
  });
});
