// SSH key expiry and credential policies (README: Credential lifecycle), on SQLite and PostgreSQL:
// expires_at on every SSH-key create path and in the lists; expired keys and policy-breaking keys
// refused by the SSH lookups (with the rule in the audit); the policy routes and their bad input;
// every rule on a create path of each dialect, answered 422 policy_violation with rule and limit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addProject, addServiceKey, addUser, rowCount, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase, testClock, type TestApp } from './harness.ts';
import { ed25519Line, sshKeygen } from './ssh-fixtures.ts';

const DAY = 86_400_000;
const COMMAND = '/usr/local/lib/keysmith/keysmith-git-serve';

type Res = Awaited<ReturnType<TestApp['request']>>;

function violation(res: Res, rule: string, limit: unknown) {
  assert.equal(res.statusCode, 422, res.body);
  const body = res.json() as { error: { code: string; message: string; rule: string; limit: unknown } };
  assert.equal(body.error.code, 'policy_violation', res.body);
  assert.equal(body.error.rule, rule);
  assert.deepEqual(body.error.limit, limit);
  assert.ok(body.error.message.includes(rule) && body.error.message.endsWith('.'), body.error.message);
}

function refused(res: Res, status: number, field: string) {
  assert.equal(res.statusCode, status, res.body);
  const body = res.json() as { error: { code: string; message: string; field?: string } };
  assert.ok(body.error.message.length > 15 && body.error.message.endsWith('.'), body.error.message);
  if (field) assert.match(`${body.error.field ?? ''} ${body.error.message}`, new RegExp(field), res.body);
}

async function world(t: Parameters<typeof appFor>[0], kind: Parameters<typeof appFor>[1]) {
  const clock = testClock();
  const app = await appFor(t, kind, { clock });
  const alice = await seed(app);
  await addProject(app, alice.key, 'acme', 'web');
  const bob = await addUser(app, 'bob', { account: 'acme', role: 'read_write', by: alice.key });
  const server = await addServiceKey(app, alice.key, 'acme', 'ssh_server');
  const call = (key: string) => (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
    app.request({ method, url, headers: bearer(key), ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
  return { app, clock, alice, bob, server, asAlice: call(alice.key), asBob: call(bob.key) };
}

const inDays = (clock: { now(): Date }, days: number) => new Date(clock.now().getTime() + days * DAY).toISOString();

forEachDatabase('SSH key expiry', (kind) => {
  test('expires_at is taken on the native and GitHub routes, listed with expired, and an expired key stops matching', async (t) => {
    const { app, clock, server, asBob, asAlice } = await world(t, kind);
    const when = inDays(clock, 2);
    const native = await asBob('POST', '/v1/user/ssh-keys', { key: ed25519Line(), expires_at: when });
    assert.equal(native.statusCode, 201, native.body);
    assert.equal(native.json().expires_at, when);
    assert.equal(native.json().expired, false);
    const gh = await asBob('POST', '/api/v3/user/keys', { key: ed25519Line(), expires_at: when });
    assert.equal(gh.statusCode, 201, gh.body);
    assert.equal(gh.json().expires_at, when.replace('.000Z', 'Z'));
    const deploy = await asAlice('POST', '/api/v3/repos/acme/web/keys', { key: ed25519Line(), expires_at: when });
    assert.equal(deploy.statusCode, 201, deploy.body);
    const never = await asBob('POST', '/v1/user/ssh-keys', { key: ed25519Line() });
    assert.equal(never.json().expires_at, null);

    const lookup = (fingerprint: string) =>
      app.request({ method: 'GET', url: `/v1/ssh/authorized-keys?${new URLSearchParams({ user: 'git', fingerprint, mode: 'git', command: COMMAND })}`, headers: bearer(server.key) });
    assert.match((await lookup(native.json().fingerprint_sha256)).body, /key-/);
    assert.match((await lookup(deploy.json().fingerprint)).body, /key-/);
    clock.advance(3 * DAY);
    assert.equal((await lookup(native.json().fingerprint_sha256)).body, '');
    assert.equal((await lookup(deploy.json().fingerprint)).body, '');
    assert.match((await lookup(never.json().fingerprint_sha256)).body, /key-/, 'a key without expiry still matches');
    const decision = await app.request({ method: 'POST', url: '/v1/ssh/authorize', headers: bearer(server.key), payload: { key: `key-${native.json().id}`, project: 'gh/acme/web', access: 'read' } });
    assert.equal(decision.json().allowed, false);
    assert.match(decision.json().message, /expired/);

    const list = (await asBob('GET', '/v1/user/ssh-keys')).json() as Array<{ id: number; expired: boolean; expires_at: string | null }>;
    assert.deepEqual(
      list.map((k) => [k.id, k.expired]),
      [
        [native.json().id, true],
        [gh.json().id, true],
        [never.json().id, false],
      ],
    );
    const ghList = (await asBob('GET', '/api/v3/user/keys')).json() as Array<{ expired: boolean }>;
    assert.deepEqual(
      ghList.map((k) => k.expired),
      [true, true, false],
    );
  });

  test('per-host keys take expires_at natively and through CircleCI, and list it', async (t) => {
    const { clock, asAlice } = await world(t, kind);
    const when = inDays(clock, 30);
    const pair = sshKeygen('ed25519');
    const native = await asAlice('POST', '/v1/projects/gh/acme/web/ssh-keys', { hostname: 'deploy.example.com', private_key: pair.privateKey, expires_at: when });
    assert.equal(native.statusCode, 201, native.body);
    assert.equal(native.json().expires_at, when);
    const circle = await asAlice('POST', '/api/v1.1/project/gh/acme/web/ssh-key', { hostname: 'other.example.com', private_key: sshKeygen('ed25519').privateKey, expires_at: when });
    assert.equal(circle.statusCode, 201, circle.body);
    assert.equal(circle.json().expires_at, when);
    const list = (await asAlice('GET', '/v1/projects/gh/acme/web/ssh-keys')).json() as Array<{ expires_at: string; expired: boolean }>;
    assert.deepEqual(
      list.map((k) => [k.expires_at, k.expired]),
      [
        [when, false],
        [when, false],
      ],
    );
  });

  test('a past, absurd or garbled expires_at is a 4xx with a sentence, and nothing is written', async (t) => {
    const { app, clock, asBob, asAlice } = await world(t, kind);
    const before = await rowCount(app, 'ssh_keys');
    refused(await asBob('POST', '/v1/user/ssh-keys', { key: ed25519Line(), expires_at: inDays(clock, -1) }), 400, 'expires_at');
    refused(await asBob('POST', '/v1/user/ssh-keys', { key: ed25519Line(), expires_at: inDays(clock, 3700) }), 400, 'expires_at');
    refused(await asBob('POST', '/v1/user/ssh-keys', { key: ed25519Line(), expires_at: 'tomorrow' }), 400, 'expires_at');
    refused(await asBob('POST', '/v1/user/ssh-keys', { key: ed25519Line(), expires_at: 12 }), 400, 'expires_at');
    refused(await asAlice('POST', '/v1/projects/gh/acme/web/deploy-keys', { key: ed25519Line(), expires_at: inDays(clock, -1) }), 400, 'expires_at');
    const gh = await asBob('POST', '/api/v3/user/keys', { key: ed25519Line(), expires_at: inDays(clock, 4000) });
    assert.ok(gh.statusCode === 400 || gh.statusCode === 422, gh.body);
    assert.match(gh.json().message, /10 years/);
    assert.equal(await rowCount(app, 'ssh_keys'), before);
  });
});

forEachDatabase('credential policies', (kind) => {
  test('GET and PUT the instance and account policies; members read, nothing else changes', async (t) => {
    const { app, alice, asAlice, asBob } = await world(t, kind);
    const empty = await asAlice('GET', '/v1/admin/policy');
    assert.equal(empty.statusCode, 200, empty.body);
    assert.equal(empty.json().ssh_key_types, null);
    const body = {
      ssh_key_types: ['ssh-rsa', 'ssh-ed25519'],
      rsa_min_bits: 3072,
      ssh_key_max_lifetime_days: 90,
      certificate_max_ttl_seconds: 3600,
      disable_unused_after_days: 180,
      require_verified_ssh_keys: false,
    };
    const put = await asAlice('PUT', '/v1/accounts/acme/policy', body);
    assert.equal(put.statusCode, 200, put.body);
    assert.deepEqual(put.json().ssh_key_types, ['ssh-ed25519', 'ssh-rsa']);
    const read = await asBob('GET', '/v1/accounts/acme/policy');
    assert.equal(read.statusCode, 200, read.body);
    assert.equal(read.json().rsa_min_bits, 3072);
    assert.equal(read.json().api_key_max_lifetime_days, null);
    assert.equal((await asBob('PUT', '/v1/accounts/acme/policy', {})).statusCode, 403);
    // PUT replaces: a field left out is no limit again.
    assert.equal((await asAlice('PUT', '/v1/accounts/acme/policy', { rsa_min_bits: 4096 })).json().ssh_key_types, null);
    const audit = await app.request({ method: 'GET', url: '/v1/audit-events?action=policy.update', headers: { ...bearer(alice.key), 'x-keysmith-account': 'acme' } });
    assert.equal(audit.statusCode, 200, audit.body);
    assert.equal((audit.json() as unknown[]).length, 2);
  });

  test('bad policy input: each field with a sentence, __proto__ refused, nothing stored', async (t) => {
    const { app, alice, asAlice } = await world(t, kind);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ rsa_min_bits: 1024 }, 'rsa_min_bits'],
      [{ rsa_min_bits: 100_000 }, 'rsa_min_bits'],
      [{ ssh_key_types: ['ssh-dss'] }, 'ssh_key_types'],
      [{ ssh_key_types: [] }, 'ssh_key_types'],
      [{ ssh_key_types: 'ssh-ed25519' }, 'ssh_key_types'],
      [{ api_key_max_lifetime_days: 0 }, 'api_key_max_lifetime_days'],
      [{ ssh_key_max_lifetime_days: 99_999 }, 'ssh_key_max_lifetime_days'],
      [{ certificate_max_ttl_seconds: 10 }, 'certificate_max_ttl_seconds'],
      [{ disable_unused_after_days: -3 }, 'disable_unused_after_days'],
      [{ disable_unused_after_days: 1.5 }, 'disable_unused_after_days'],
      [{ require_verified_ssh_keys: 'yes' }, 'require_verified_ssh_keys'],
      [{ max_everything: 1 }, 'max_everything'],
    ];
    for (const [payload, field] of cases) refused(await asAlice('PUT', '/v1/accounts/acme/policy', payload), 400, field);
    for (const raw of ['{"__proto__": {"rsa_min_bits": 1024}}', '{"constructor": {"prototype": {}}}']) {
      const res = await app.request({ method: 'PUT', url: '/v1/admin/policy', headers: { ...bearer(alice.key), 'content-type': 'application/json' }, payload: raw });
      refused(res, 400, '');
    }
    assert.equal(await rowCount(app, 'policies'), 0);
  });

  test('each rule on a create path of each dialect: 422 policy_violation naming the rule and the limit', async (t) => {
    const { app, clock, alice, asAlice, asBob } = await world(t, kind);
    assert.equal((await asAlice('PUT', '/v1/admin/policy', { ssh_key_types: ['ssh-ed25519', 'ssh-rsa'], rsa_min_bits: 3072, api_key_max_lifetime_days: 30 })).statusCode, 200);
    const rsa2048 = sshKeygen('rsa', 2048).publicLine;
    const ecdsa = sshKeygen('ecdsa', 256).publicLine;
    const before = await rowCount(app, 'ssh_keys');
    // Native and GitHub user keys: the instance policy.
    violation(await asBob('POST', '/v1/user/ssh-keys', { key: ecdsa }), 'ssh_key_types', 'ssh-ed25519, ssh-rsa');
    violation(await asBob('POST', '/v1/user/ssh-keys', { key: rsa2048 }), 'rsa_min_bits', 3072);
    const gh = await asBob('POST', '/api/v3/user/keys', { key: ecdsa });
    assert.equal(gh.statusCode, 422, gh.body);
    assert.equal(gh.json().errors[0].code, 'policy_violation');
    assert.match(gh.json().message, /ssh_key_types/);
    // User and service API keys: api_key_max_lifetime_days; left out, the expiry is the longest allowed.
    violation(await asBob('POST', '/v1/user/api-keys', { name: 'long', expires_at: inDays(clock, 31) }), 'api_key_max_lifetime_days', 30);
    const defaulted = await asBob('POST', '/v1/user/api-keys', { name: 'short' });
    assert.equal(defaulted.statusCode, 201, defaulted.body);
    assert.equal(defaulted.json().expires_at, inDays(clock, 30));
    violation(
      await app.request({
        method: 'POST',
        url: '/v1/service-api-keys',
        headers: { ...bearer(alice.key), 'x-keysmith-account': 'acme' },
        payload: { name: 'ci', role: 'read_only', expires_at: inDays(clock, 60) },
      }),
      'api_key_max_lifetime_days',
      30,
    );
    // The account's policy: deploy keys (GitHub dialect), checkout keys (CircleCI), per-host keys, certificates.
    assert.equal((await asAlice('PUT', '/v1/accounts/acme/policy', { ssh_key_types: ['ssh-ed25519'], ssh_key_max_lifetime_days: 10, certificate_max_ttl_seconds: 600 })).statusCode, 200);
    const deploy = await asAlice('POST', '/api/v3/repos/acme/web/keys', { key: sshKeygen('rsa', 4096).publicLine });
    assert.equal(deploy.statusCode, 422, deploy.body);
    assert.match(deploy.json().errors[0].message, /ssh_key_types allows only ssh-ed25519/);
    violation(await asAlice('POST', '/v1/projects/gh/acme/web/deploy-keys', { key: ed25519Line(), expires_at: inDays(clock, 11) }), 'ssh_key_max_lifetime_days', 10);
    const circle = await asAlice('POST', '/api/v2/project/gh%2Facme%2Fweb/checkout-key', { type: 'deploy-key' });
    assert.equal(circle.statusCode, 201, circle.body);
    const v1rsa = await app.request({ method: 'POST', url: '/api/v1.1/project/gh/acme/web/checkout-key', headers: bearer(alice.key), payload: { type: 'deploy-key', algorithm: 'rsa' } });
    assert.equal(v1rsa.statusCode, 422, v1rsa.body);
    assert.match(v1rsa.json().message, /ssh_key_types allows only ssh-ed25519, and this key is ssh-rsa/);
    violation(await asAlice('POST', '/v1/projects/gh/acme/web/ssh-keys', { hostname: 'h.example.com', private_key: sshKeygen('ecdsa', 256).privateKey }), 'ssh_key_types', 'ssh-ed25519');
    const circleHost = await asAlice('POST', '/api/v1.1/project/gh/acme/web/ssh-key', { hostname: 'h.example.com', private_key: sshKeygen('rsa', 4096).privateKey });
    assert.equal(circleHost.statusCode, 422, circleHost.body);
    assert.match(circleHost.json().message, /ssh_key_types/);
    // A new deploy key without expiry gets the longest the account allows.
    const fits = await asAlice('POST', '/v1/projects/gh/acme/web/deploy-keys', { key: ed25519Line() });
    assert.equal(fits.statusCode, 201, fits.body);
    assert.equal(fits.json().expires_at, inDays(clock, 10));
    // Certificates: the lower of instance and account limits.
    const mine = await asAlice('POST', '/v1/user/ssh-keys', { key: ed25519Line() });
    assert.equal(mine.statusCode, 201, mine.body);
    violation(await asAlice('POST', '/v1/user/ssh-certificates', { public_key: mine.json().key, account: 'acme', ttl_seconds: 3600 }), 'certificate_max_ttl_seconds', 600);
    const cert = await asAlice('POST', '/v1/user/ssh-certificates', { public_key: mine.json().key, account: 'acme' });
    assert.equal(cert.statusCode, 201, cert.body);
    assert.equal(Date.parse(cert.json().valid_before) - Date.parse(cert.json().valid_after), (600 + 60) * 1000);
    // A runner's checkout certificate: the same limit; left out, the default (10 minutes) fits.
    const runner = await addServiceKey(app, alice.key, 'acme', 'runner');
    const checkoutCert = '/v1/projects/gh/acme/web/checkout-certificate';
    violation(await app.request({ method: 'POST', url: checkoutCert, headers: bearer(runner.key), payload: { public_key: ed25519Line(), ttl_seconds: 1800 } }), 'certificate_max_ttl_seconds', 600);
    assert.equal((await app.request({ method: 'POST', url: checkoutCert, headers: bearer(runner.key), payload: { public_key: ed25519Line() } })).statusCode, 201);
    // Only the two keys that fit were written (and the checkout key's public half).
    assert.equal(await rowCount(app, 'ssh_keys'), before + 3);
  });

  test("an account's SSH servers refuse a member's key that breaks its policy, and the audit names the rule", async (t) => {
    const { app, clock, alice, server, asBob, asAlice } = await world(t, kind);
    const rsa = await asBob('POST', '/v1/user/ssh-keys', { key: sshKeygen('rsa', 2048).publicLine });
    assert.equal(rsa.statusCode, 201, rsa.body);
    const ed = await asBob('POST', '/v1/user/ssh-keys', { key: ed25519Line() });
    const lookup = (fingerprint: string) =>
      app.request({ method: 'GET', url: `/v1/ssh/authorized-keys?${new URLSearchParams({ user: 'bob', fingerprint, mode: 'login' })}`, headers: bearer(server.key) });
    assert.notEqual((await lookup(rsa.json().fingerprint_sha256)).body, '');
    assert.equal((await asAlice('PUT', '/v1/accounts/acme/policy', { rsa_min_bits: 4096 })).statusCode, 200);
    assert.equal((await lookup(rsa.json().fingerprint_sha256)).body, '');
    assert.notEqual((await lookup(ed.json().fingerprint_sha256)).body, '');
    const decision = await app.request({ method: 'POST', url: '/v1/ssh/authorize', headers: bearer(server.key), payload: { key: `key-${rsa.json().id}`, project: 'gh/acme/web', access: 'read' } });
    assert.equal(decision.json().allowed, false);
    assert.match(decision.json().message, /rsa_min_bits/);
    // Lifetime from created_at, and verification.
    assert.equal((await asAlice('PUT', '/v1/accounts/acme/policy', { ssh_key_max_lifetime_days: 5 })).statusCode, 200);
    assert.notEqual((await lookup(ed.json().fingerprint_sha256)).body, '');
    clock.advance(6 * DAY);
    assert.equal((await lookup(ed.json().fingerprint_sha256)).body, '');
    assert.equal((await asAlice('PUT', '/v1/accounts/acme/policy', { require_verified_ssh_keys: true })).statusCode, 200);
    assert.equal((await lookup(ed.json().fingerprint_sha256)).body, '');
    await app.services.db.updateTable('ssh_keys').set({ verified_at: clock.now().toISOString() }).where('id', '=', ed.json().id).execute();
    assert.notEqual((await lookup(ed.json().fingerprint_sha256)).body, '');
    // Nothing was deleted by tightening.
    assert.equal(((await asBob('GET', '/v1/user/ssh-keys')).json() as unknown[]).length, 2);
    const audit = await app.request({ method: 'GET', url: '/v1/audit-events?action=ssh.access', headers: { ...bearer(alice.key), 'x-keysmith-account': 'acme' } });
    const details = (audit.json() as Array<{ details: Record<string, unknown> }>).map((e) => e.details);
    assert.equal(details[0]!.policy_rule, 'rsa_min_bits');
    assert.equal(details[0]!.allowed, false);
  });
});

forEachDatabase('policy violations', (kind) => {
  test('tightening a policy deletes nothing; the violations lists say what breaks it, with rule and limit', async (t) => {
    const { app, alice, asAlice, asBob } = await world(t, kind);
    const rsa = await asBob('POST', '/v1/user/ssh-keys', { key: sshKeygen('rsa', 2048).publicLine });
    const deploy = await asAlice('POST', '/v1/projects/gh/acme/web/deploy-keys', { key: ed25519Line(), title: 'ci' });
    const host = await asAlice('POST', '/v1/projects/gh/acme/web/ssh-keys', { hostname: 'deploy.example.com', private_key: sshKeygen('ecdsa', 256).privateKey });
    assert.equal(host.statusCode, 201, host.body);
    const service = await addServiceKey(app, alice.key, 'acme', 'read_only');
    const keysBefore = await rowCount(app, 'ssh_keys');
    const apiBefore = await rowCount(app, 'api_keys');
    assert.deepEqual((await asAlice('GET', '/v1/accounts/acme/policy/violations')).json(), []);

    assert.equal((await asAlice('PUT', '/v1/accounts/acme/policy', { ssh_key_types: ['ssh-ed25519', 'ssh-rsa'], rsa_min_bits: 4096, ssh_key_max_lifetime_days: 30 })).statusCode, 200);
    assert.equal((await asAlice('PUT', '/v1/admin/policy', { api_key_max_lifetime_days: 90 })).statusCode, 200);
    const listed = (await asBob('GET', '/v1/accounts/acme/policy/violations')).json() as Array<{ kind: string; id: number; name: string; fingerprint: string; rule: string; limit: unknown }>;
    const byKind = new Map(listed.map((v) => [`${v.kind}:${v.id}`, v]));
    assert.equal(byKind.get(`ssh_key:${rsa.json().id}`)?.rule, 'rsa_min_bits');
    assert.equal(byKind.get(`ssh_key:${rsa.json().id}`)?.limit, 4096);
    assert.equal(byKind.get(`ssh_key:${rsa.json().id}`)?.fingerprint, rsa.json().fingerprint_sha256);
    assert.equal(byKind.get(`deploy_key:${deploy.json().id}`)?.rule, 'ssh_key_max_lifetime_days');
    assert.equal(byKind.get(`deploy_key:${deploy.json().id}`)?.name, 'ci');
    assert.equal(listed.find((v) => v.kind === 'host_key')?.rule, 'ssh_key_types');
    assert.equal(byKind.get(`service_api_key:${service.id}`)?.rule, 'api_key_max_lifetime_days');
    const admin = (await asAlice('GET', '/v1/admin/policy/violations')).json() as Array<{ kind: string; rule: string }>;
    assert.ok(admin.some((v) => v.kind === 'user_api_key' && v.rule === 'api_key_max_lifetime_days'));
    assert.ok(!admin.some((v) => v.rule === 'rsa_min_bits'), 'the instance policy has no RSA rule');
    assert.equal(await rowCount(app, 'ssh_keys'), keysBefore);
    assert.equal(await rowCount(app, 'api_keys'), apiBefore);
  });
});
