// Contract §5 and §6 through the CircleCI clients nobody here wrote (`circleci-api` for v1.1,
// `circle-client` for v2), the curl lines of seeds/001, and OpenSSH's ssh-keygen.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CircleCI as V1, GitType } from 'circleci-api';
import circleClient from 'circle-client';
import { addProject, addServiceKey, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase, type TestApp } from './harness.ts';
import { sshKeygen } from './ssh-fixtures.ts';

type CheckoutKey = { public_key: string; type: string; fingerprint: string; fingerprint_sha256: string; preferred: boolean; time: string };

const execFileAsync = promisify(execFile);

const v1 = (t: TestApp, token: string, repo = 'web') => new V1({ token, vcs: { type: GitType.GITHUB, owner: 'acme', repo }, circleHost: `${t.url}/api/v1.1` });

// circle-client is CommonJS with `exports.default`; under Node's ESM its class sits one level down.
type V2Class = (typeof import('circle-client'))['default'];
const V2 = (circleClient as unknown as { default: V2Class }).default;

function v2(t: TestApp, token: string, slug = 'gh/acme/web') {
  (V2 as unknown as { baseUrl: string }).baseUrl = `${t.url}/api/v2`;
  return new V2(token, slug);
}

/** The error a client threw: axios (circleci-api) keeps the body in response.data. */
async function refusal(promise: Promise<unknown>): Promise<{ status: number; body: Record<string, string> }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { response?: { status: number; data: Record<string, string> }; status?: number; message: string };
    if (e.response && 'data' in e.response) return { status: e.response.status, body: e.response.data };
    return { status: e.status ?? 0, body: { message: e.message } };
  }
  assert.fail('the request was expected to fail');
}

/** curl, exactly as seeds/001 writes it, with the host replaced (async: the server runs in this process). */
async function curl(args: string[]): Promise<{ status: number; body: string }> {
  const { stdout: out } = await execFileAsync('curl', ['-s', '-w', '\n%{http_code}', ...args], { encoding: 'utf8' });
  const cut = out.lastIndexOf('\n');
  return { status: Number(out.slice(cut + 1)), body: out.slice(0, cut) };
}

function keyFile(contents: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-ck-'));
  const file = path.join(dir, 'key');
  fs.writeFileSync(file, contents, { mode: 0o600 });
  return file;
}

async function started(t: Parameters<typeof appFor>[0], kind: Parameters<typeof appFor>[1]) {
  const app = await appFor(t, kind, { listen: true });
  const alice = await seed(app);
  await addProject(app, alice.key, 'acme', 'web');
  return { app, alice };
}

forEachDatabase('CircleCI-compatible keys and grants', (kind) => {
  test('the forum flow: refused with a plain remedy, granted at user level, retried, visible, deleted, revoked on its own', async (t) => {
    const { app, alice } = await started(t, kind);
    const client = v1(app, alice.key);

    const refused = await refusal(client.addCheckoutKey('github-user-key' as never));
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'grant_required');
    assert.equal(refused.body.grant, 'write:public_key');
    assert.equal(refused.body.grant_url, `${app.url}/settings/permissions?grant=write:public_key`);
    assert.match(refused.body.message!, /^Creating a user checkout key puts an SSH key on your own account, which needs your write:public_key grant .*PUT \/v1\/user\/grants\/write:public_key.*\.$/);
    assert.ok(!refused.body.message!.includes('{'), 'one plain sentence, not nested JSON');
    const v2Refused = await refusal(v2(app, alice.key).createCheckoutKey('user-key' as never));
    assert.equal(v2Refused.status, 403);
    assert.match(v2Refused.body.message!, /write:public_key grant/);
    const native = await app.request({ method: 'GET', url: '/v1/user/grants', headers: bearer(alice.key) });
    assert.deepEqual(native.json().map((g: { scope: string; granted: boolean }) => [g.scope, g.granted]), [['write:public_key', false]]);

    const given = await app.request({ method: 'PUT', url: '/v1/user/grants/write:public_key', headers: bearer(alice.key) });
    assert.equal(given.statusCode, 200);
    assert.equal(given.json().granted, true);

    const created = (await client.addCheckoutKey('github-user-key' as never)) as unknown as CheckoutKey;
    assert.equal(created.type, 'github-user-key');
    assert.equal(created.preferred, true);
    assert.match(created.fingerprint, /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    assert.match(created.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.match(created.public_key, /^ssh-ed25519 AAAA[0-9A-Za-z+/]+=*$/);
    const mine = await app.request({ method: 'GET', url: '/api/v3/user/keys', headers: bearer(alice.key) });
    assert.deepEqual(mine.json().map((k: { key: string; title: string }) => [k.key, k.title]), [[created.public_key, 'Keysmith checkout key for gh/acme/web']]);

    const viaGithub = (await client.addCheckoutKey('github-user-key' as never)) as unknown as CheckoutKey;
    const githubId = (await app.request({ method: 'GET', url: '/api/v3/user/keys', headers: bearer(alice.key) })).json().find((k: { key: string }) => k.key === viaGithub.public_key).id;
    assert.equal((await app.request({ method: 'DELETE', url: `/api/v3/user/keys/${githubId}`, headers: bearer(alice.key) })).statusCode, 204);
    assert.equal(((await client.listCheckoutKeys()) as unknown as CheckoutKey[]).length, 1, 'deleting its public half removed that checkout key');
    const trail = await app.services.db.selectFrom('audit_events').select(['action', 'account_id']).where('action', '=', 'checkout_key.delete').execute();
    assert.equal(trail.length, 1, 'and the account trail says so');
    assert.notEqual(trail[0]!.account_id, null);

    assert.deepEqual(await client.deleteCheckoutKey(created.fingerprint), { message: 'ok' });
    assert.deepEqual((await app.request({ method: 'GET', url: '/api/v3/user/keys', headers: bearer(alice.key) })).json(), [], 'its user key went with it');

    const second = (await client.addCheckoutKey('github-user-key' as never)) as unknown as CheckoutKey;
    await app.request({ method: 'POST', url: '/api/v3/user/keys', headers: bearer(alice.key), payload: { key: sshKeygen('ed25519').publicLine } });
    const listed = (await app.request({ method: 'GET', url: '/v1/user/grants', headers: bearer(alice.key) })).json();
    assert.deepEqual(listed[0].keys.map((k: { fingerprint: string; project: string }) => [k.fingerprint, k.project]), [[second.fingerprint, 'gh/acme/web']], 'the grant lists the keys made under it, before any revoke');
    const revoked = await app.request({ method: 'DELETE', url: '/v1/user/grants/write:public_key', headers: bearer(alice.key) });
    assert.equal(revoked.statusCode, 200);
    assert.deepEqual(revoked.json().keys.map((k: { fingerprint: string; project: string }) => [k.fingerprint, k.project]), [[second.fingerprint, 'gh/acme/web']]);
    assert.equal(revoked.json().removed_keys, false);
    assert.equal((await app.request({ method: 'GET', url: '/api/v3/user/keys', headers: bearer(alice.key) })).json().length, 2, 'revoking touches nothing else');
    assert.equal(((await client.listCheckoutKeys()) as unknown as CheckoutKey[]).length, 1, 'the checkout key keeps working');
    assert.equal((await refusal(client.addCheckoutKey('github-user-key' as never))).status, 403, 'but no new ones');

    await app.request({ method: 'PUT', url: '/v1/user/grants/write:public_key', headers: bearer(alice.key) });
    const removed = await app.request({ method: 'DELETE', url: '/v1/user/grants/write:public_key?remove_keys=true', headers: bearer(alice.key) });
    assert.equal(removed.json().removed_keys, true);
    assert.equal(((await client.listCheckoutKeys()) as unknown as CheckoutKey[]).length, 0, 'checkout key removed');
    const left = (await app.request({ method: 'GET', url: '/api/v3/user/keys', headers: bearer(alice.key) })).json();
    assert.equal(left.length, 1, "the user's own key stays; only the grant's key went");
    const actions = (await app.services.db.selectFrom('audit_events').select('action').where('action', 'like', 'grant.%').execute()).map((a) => a.action);
    assert.deepEqual(actions, ['grant.give', 'grant.revoke', 'grant.give', 'grant.revoke']);
  });

  test('a service key asking for a user key gets user_key_required; deploy keys work for it', async (t) => {
    const { app, alice } = await started(t, kind);
    const service = await addServiceKey(app, alice.key, 'acme', 'read_write');
    const refused = await refusal(v1(app, service.key).addCheckoutKey('github-user-key' as never));
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'user_key_required');
    assert.match(refused.body.message!, /acts as that person, so it needs their own user API key/);
    const deploy = (await v1(app, service.key).addCheckoutKey('deploy-key' as never)) as unknown as CheckoutKey;
    assert.equal(deploy.type, 'deploy-key');
  });

  test('deploy keys, preferred, both fingerprint forms, v2 through circle-client, and the errors', async (t) => {
    const { app, alice } = await started(t, kind);
    const client = v1(app, alice.key);
    const deploy = (await client.addCheckoutKey('deploy-key' as never)) as unknown as CheckoutKey;
    assert.equal(deploy.preferred, true);
    const repoKeys = await app.request({ method: 'GET', url: '/api/v3/repos/acme/web/keys', headers: bearer(alice.key) });
    assert.deepEqual(repoKeys.json().map((k: { key: string; read_only: boolean }) => [k.key, k.read_only]), [[deploy.public_key, true]], 'registered as a read-only deploy key');

    const newer = (await client.addCheckoutKey('deploy-key' as never)) as unknown as CheckoutKey;
    await app.request({ method: 'PUT', url: '/v1/user/grants/write:public_key', headers: bearer(alice.key) });
    const user = (await client.addCheckoutKey('user-key' as never)) as unknown as CheckoutKey;
    const listed = (await client.listCheckoutKeys()) as unknown as CheckoutKey[];
    assert.deepEqual(listed.map((k) => [k.fingerprint, k.preferred]), [[user.fingerprint, true], [newer.fingerprint, false], [deploy.fingerprint, false]], 'newest user key preferred');

    const viaSha = await app.request({ method: 'GET', url: `/api/v1.1/project/gh/acme/web/checkout-key/${encodeURIComponent(deploy.fingerprint_sha256)}`, headers: bearer(alice.key) });
    assert.equal(viaSha.json().fingerprint, deploy.fingerprint);
    assert.equal(((await client.getCheckoutKey(deploy.fingerprint)) as unknown as CheckoutKey).fingerprint_sha256, deploy.fingerprint_sha256);

    const circle = v2(app, alice.key);
    const page = (await circle.listCheckoutKeys()) as unknown as { items?: unknown[] } | unknown[];
    const items = (Array.isArray(page) ? page : page.items) as Array<Record<string, unknown>>;
    assert.deepEqual(items.map((k) => [k.fingerprint, k.type, k.preferred]), [[user.fingerprint, 'user-key', true], [newer.fingerprint, 'deploy-key', false], [deploy.fingerprint, 'deploy-key', false]]);
    assert.match(String(items[0]!['created-at']), /\.\d{3}Z$/);
    assert.equal(typeof items[0]!['public-key'], 'string');
    const made = (await circle.createCheckoutKey('deploy-key' as never)) as unknown as Record<string, unknown>;
    assert.equal(made.type, 'deploy-key');
    assert.equal(((await circle.getCheckoutKey(String(made.fingerprint))) as unknown as Record<string, unknown>).fingerprint, made.fingerprint);
    await circle.deleteCheckoutKey(String(made.fingerprint));
    const plain = await app.request({ method: 'GET', url: '/api/v2/project/gh/acme/web/checkout-key', headers: { 'circle-token': alice.key } });
    assert.equal(plain.json().items.length, 3, 'the slug also works unencoded');
    assert.equal(plain.json().next_page_token, null);

    const unknownType = await refusal(client.addCheckoutKey('root-key' as never));
    assert.equal(unknownType.status, 400);
    assert.match(unknownType.body.message!, /use one of: deploy-key, user-key \(also github-user-key, bitbucket-user-key\)/);
    const missing = await refusal(client.getCheckoutKey('00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff'));
    assert.equal(missing.status, 404);
    assert.match(missing.body.message!, /was not found/);
    const noBody = await app.request({ method: 'POST', url: '/api/v1.1/project/gh/acme/web/checkout-key', headers: bearer(alice.key), payload: {} });
    assert.equal(noBody.statusCode, 400);
    assert.match(noBody.json().message, /The field "type" is required/);
    const rsa = await app.request({ method: 'POST', url: '/api/v2/project/gh%2Facme%2Fweb/checkout-key', headers: bearer(alice.key), payload: { type: 'deploy-key', algorithm: 'rsa' } });
    assert.equal(rsa.statusCode, 201);
    assert.match(rsa.json()['public-key'], /^ssh-rsa /);
  });

  test('per-host SSH keys: parsed before storing, each refusal its own sentence, listed without the private half', async (t) => {
    const { app, alice } = await started(t, kind);
    const client = v1(app, alice.key);
    const generated = sshKeygen('ed25519');
    const added = await app.request({ method: 'POST', url: '/api/v1.1/project/gh/acme/web/ssh-key', headers: bearer(alice.key), payload: { hostname: 'deploy.example.com', private_key: generated.privateKey } });
    assert.equal(added.statusCode, 201, added.body);
    assert.equal(added.json().public_key, generated.publicLine.split(' ').slice(0, 2).join(' '));
    await client.addSSHKey({ hostname: '', private_key: sshKeygen('ecdsa', 256).privateKey } as never);

    const protectedKey = fs.readFileSync(execFileSync('sh', ['-c', `d=$(mktemp -d); ssh-keygen -q -t ed25519 -N secret-pass -f $d/k; echo $d/k`], { encoding: 'utf8' }).trim(), 'utf8');
    const cases: Array<[string, string, number, RegExp]> = [
      ['passphrase', protectedKey, 422, /passphrase/],
      ['public key', generated.publicLine, 422, /public half/],
      ['garbage', 'hello world', 422, /private key/],
    ];
    for (const [label, privateKey, status, sentence] of cases) {
      const res = await app.request({ method: 'POST', url: '/api/v1.1/project/gh/acme/web/ssh-key', headers: bearer(alice.key), payload: { hostname: 'x.example.com', private_key: privateKey } });
      assert.equal(res.statusCode, status, `${label}: ${res.body}`);
      assert.match(res.json().message, sentence, label);
      for (const line of privateKey.split('\n').filter((l) => l.length > 30)) assert.ok(!res.body.includes(line), `${label}: not echoed`);
    }
    const longHost = await app.request({ method: 'POST', url: '/api/v1.1/project/gh/acme/web/ssh-key', headers: bearer(alice.key), payload: { hostname: 'h'.repeat(254), private_key: generated.privateKey } });
    assert.equal(longHost.statusCode, 400);
    assert.match(longHost.json().message, /"hostname" must be at most 253 characters/);

    const listed = await app.request({ method: 'GET', url: '/v1/projects/gh/acme/web/ssh-keys', headers: bearer(alice.key) });
    assert.deepEqual(listed.json().map((k: { hostname: string }) => k.hostname), ['', 'deploy.example.com']);
    assert.ok(!listed.body.includes('PRIVATE KEY'));
    const gone = await app.request({ method: 'DELETE', url: '/api/v1.1/project/gh/acme/web/ssh-key', headers: bearer(alice.key), payload: { fingerprint: added.json().fingerprint, hostname: 'deploy.example.com' } });
    assert.deepEqual(gone.json(), { message: 'ok' });
    const again = await app.request({ method: 'DELETE', url: '/api/v1.1/project/gh/acme/web/ssh-key', headers: bearer(alice.key), payload: { fingerprint: added.json().fingerprint, hostname: 'deploy.example.com' } });
    assert.equal(again.statusCode, 404);
    assert.equal((await app.services.db.selectFrom('host_keys').select('id').execute()).length, 1);
  });

  test('the Heroku key: stored, shown as its last 4 characters, removed', async (t) => {
    const { app, alice } = await started(t, kind);
    const heroku = 'abcd1234-5678-90ef-aaaa-bbbbccccdddd';
    await v1(app, alice.key).addHerokuKey({ apikey: heroku } as never);
    const status = await app.request({ method: 'GET', url: '/v1/user/integrations/heroku', headers: bearer(alice.key) });
    assert.deepEqual(status.json(), { configured: true, last4: 'dddd' });
    const deleted = await app.request({ method: 'DELETE', url: '/v1/user/integrations/heroku', headers: bearer(alice.key) });
    assert.deepEqual(deleted.json(), { configured: false, last4: null });
    const bad = await app.request({ method: 'POST', url: '/api/v1.1/user/heroku-key', headers: bearer(alice.key), payload: { apikey: 'has spaces in it' } });
    assert.equal(bad.statusCode, 400);
    assert.ok(!bad.body.includes('has spaces'), 'not echoed');
  });

  test('the curl lines of seeds/001, host replaced, work unchanged', async (t) => {
    const { app, alice } = await started(t, kind);
    const base = `${app.url}/api/v1.1/project/github/acme/web`;
    const token = `circle-token=${alice.key}`;
    await app.request({ method: 'PUT', url: '/v1/user/grants/write:public_key', headers: bearer(alice.key) });
    const created = await curl(['-X', 'POST', '--header', 'Content-Type: application/json', '-d', '{"type":"github-user-key"}', `${base}/checkout-key?${token}`]);
    assert.equal(created.status, 201, created.body);
    const fingerprint = JSON.parse(created.body).fingerprint as string;
    const list = await curl([`${base}/checkout-key?${token}`]);
    assert.equal(JSON.parse(list.body)[0].fingerprint, fingerprint);
    assert.equal(JSON.parse((await curl([`${base}/checkout-key/${fingerprint}?${token}`])).body).type, 'github-user-key');
    assert.deepEqual(JSON.parse((await curl(['-X', 'DELETE', `${base}/checkout-key/${fingerprint}?${token}`])).body), { message: 'ok' });
    const privateKey = sshKeygen('rsa', 2048).privateKey;
    const ssh = await curl(['-X', 'POST', '--header', 'Content-Type: application/json', '-d', JSON.stringify({ hostname: 'hostname', private_key: privateKey }), `${base}/ssh-key?${token}`]);
    assert.equal(ssh.status, 201, ssh.body);
    // seeds/001 leaves this body unquoted, which no shell passes through intact; quoted as intended:
    const del = await curl(['-X', 'DELETE', '--header', 'Content-Type: application/json', '-d', JSON.stringify({ fingerprint: JSON.parse(ssh.body).fingerprint, hostname: 'hostname' }), `${base}/ssh-key?${token}`]);
    assert.equal(del.status, 200, del.body);
    const heroku = await curl(['-X', 'POST', '--header', 'Content-Type: application/json', '-d', '{"apikey":"0123456789abcdef"}', `${app.url}/user/heroku-key?${token}`]);
    assert.equal(heroku.status, 201, heroku.body);
    assert.ok(!app.logs.join('\n').includes(alice.key), 'the circle-token query parameter is not logged');
  });

  test('end to end: a runner fetches checkout-credentials and ssh-keygen confirms each private key matches its public key and fingerprints', async (t) => {
    const { app, alice } = await started(t, kind);
    await app.request({ method: 'PUT', url: '/v1/user/grants/write:public_key', headers: bearer(alice.key) });
    const checkout = (await v1(app, alice.key).addCheckoutKey('github-user-key' as never)) as unknown as CheckoutKey;
    const host = sshKeygen('rsa', 3072);
    await app.request({ method: 'POST', url: '/api/v1.1/project/gh/acme/web/ssh-key', headers: bearer(alice.key), payload: { hostname: 'prod.example.com', private_key: host.privateKey } });
    const runner = await addServiceKey(app, alice.key, 'acme', 'runner');

    const res = await app.request({ method: 'GET', url: '/v1/projects/gh/acme/web/checkout-credentials', headers: bearer(runner.key) });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['cache-control'], 'no-store');
    const body = res.json() as { checkout_key: { fingerprint: string; private_key: string; type: string }; ssh_keys: Array<{ hostname: string; fingerprint: string; fingerprint_sha256: string; private_key: string }> };
    assert.equal(body.checkout_key.fingerprint, checkout.fingerprint);
    const file = keyFile(body.checkout_key.private_key);
    assert.equal(execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).trim().split(' ').slice(0, 2).join(' '), checkout.public_key);
    assert.equal(execFileSync('ssh-keygen', ['-l', '-E', 'md5', '-f', file], { encoding: 'utf8' }).split(' ')[1], `MD5:${checkout.fingerprint}`);
    assert.equal(execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', file], { encoding: 'utf8' }).split(' ')[1], checkout.fingerprint_sha256);
    const hostKey = body.ssh_keys[0]!;
    assert.equal(hostKey.hostname, 'prod.example.com');
    assert.equal(execFileSync('ssh-keygen', ['-y', '-f', keyFile(hostKey.private_key)], { encoding: 'utf8' }).trim().split(' ').slice(0, 2).join(' '), host.publicLine.split(' ').slice(0, 2).join(' '));
    assert.equal(execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', host.publicFile], { encoding: 'utf8' }).split(' ')[1], hostKey.fingerprint_sha256);

    for (const key of [alice.key, (await addServiceKey(app, alice.key, 'acme', 'admin')).key]) {
      const denied = await app.request({ method: 'GET', url: '/v1/projects/gh/acme/web/checkout-credentials', headers: bearer(key) });
      assert.equal(denied.statusCode, 403, 'no human role and no other service role gets private halves');
      assert.ok(!denied.body.includes('PRIVATE KEY'));
    }
    const audited = await app.services.db.selectFrom('audit_events').select(['action', 'actor_type', 'actor_id']).where('action', '=', 'credentials.fetch').execute();
    assert.deepEqual(audited, [{ action: 'credentials.fetch', actor_type: 'service_key', actor_id: runner.id }]);
    assert.ok(!app.logs.join('\n').includes('PRIVATE KEY'), 'no private key in the logs');
  });
});
