// GET /metrics, GET /readyz and KEYSMITH_TRUST_PROXY (README: Health, readiness and metrics), on SQLite
// and PostgreSQL: metrics off without a token, refused without the right one, the expected series after
// real requests, and no label carrying a login, key, account or address; readiness 200, and 503 while
// stopping, before migrations (an unmigrated database, then migrated) and when the database is gone;
// the audited address from X-Forwarded-For only when a proxy is trusted.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';
import { connectDatabase } from '../src/db/connect.ts';
import { buildApp } from '../src/app.ts';
import { loadKeyRing } from '../src/crypto/master-key.ts';
import { createLogger } from '../src/logger.ts';
import { createServices } from '../src/services.ts';
import { addProject, addServiceKey, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase, migrateTestApp, type TestApp } from './harness.ts';
import { ed25519Line } from './ssh-fixtures.ts';

const TOKEN = 'metrics-token-for-tests-0123456789';
const COMMAND = '/usr/local/lib/keysmith/keysmith-git-serve';

type Res = Awaited<ReturnType<TestApp['request']>>;

function refusal(res: Res, status: number, code: string) {
  assert.equal(res.statusCode, status, res.body);
  const body = res.json() as { error: { code: string; message: string; remedy?: string } };
  assert.equal(body.error.code, code, res.body);
  assert.ok(body.error.message.length > 15 && body.error.message.endsWith('.'), body.error.message);
  return body.error;
}

/** Every label value of every sample line (comments skipped). */
function labelValues(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .flatMap((line) => [...line.matchAll(/[a-z_]+="((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!));
}

/** The value of one sample, e.g. sample(text, 'keysmith_authentications_total{outcome="ok"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('KEYSMITH_METRICS_TOKEN and KEYSMITH_TRUST_PROXY are read, and bad values refused with a sentence', () => {
  const base = { KEYSMITH_MASTER_KEY: 'x' };
  assert.equal(loadConfig(base).metricsToken, undefined);
  assert.equal(loadConfig(base).trustProxy, false);
  assert.equal(loadConfig({ ...base, KEYSMITH_METRICS_TOKEN: ` ${TOKEN} ` }).metricsToken, TOKEN);
  assert.equal(loadConfig({ ...base, KEYSMITH_TRUST_PROXY: '2' }).trustProxy, 2);
  assert.equal(loadConfig({ ...base, KEYSMITH_TRUST_PROXY: '0' }).trustProxy, false);
  assert.deepEqual(loadConfig({ ...base, KEYSMITH_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1,fd00::/8' }).trustProxy, ['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8']);
  for (const [name, value, says] of [
    ['KEYSMITH_METRICS_TOKEN', 'short', /KEYSMITH_METRICS_TOKEN must be 16 to 512/],
    ['KEYSMITH_METRICS_TOKEN', 'has a space in the middle', /without spaces/],
    ['KEYSMITH_TRUST_PROXY', 'true', /"true" is neither/],
    ['KEYSMITH_TRUST_PROXY', '10.0.0.0/33', /"10.0.0.0\/33" is neither/],
    ['KEYSMITH_TRUST_PROXY', '10.0.0.1,,10.0.0.2', /"" is neither/],
    ['KEYSMITH_TRUST_PROXY', '256.1.1.1', /hop count .* or a comma-separated list/],
    ['KEYSMITH_TRUST_PROXY', '1.5', /"1.5" is neither/],
    ['KEYSMITH_TRUST_PROXY', '99', /at most 10/],
    ['KEYSMITH_TRUST_PROXY', '__proto__', /"__proto__" is neither/],
  ] as const) {
    assert.throws(
      () => loadConfig({ ...base, [name]: value }),
      (err: unknown) => err instanceof ConfigError && says.test(err.message) && err.message.endsWith('.'),
      `${name}=${value}`,
    );
  }
});

forEachDatabase('GET /metrics', (kind) => {
  test('is off (404, not described) without KEYSMITH_METRICS_TOKEN', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    refusal(await app.request({ method: 'GET', url: '/metrics' }), 404, 'not_found');
    refusal(await app.request({ method: 'GET', url: '/metrics', headers: bearer(alice.key) }), 404, 'not_found');
    const spec = (await app.request({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
    assert.equal(spec.paths['/metrics'], undefined);
  });

  test('answers only the metrics token: none, a wrong one, an API key or another scheme is a 401 with a sentence', async (t) => {
    const app = await appFor(t, kind, { env: { KEYSMITH_METRICS_TOKEN: TOKEN } });
    const alice = await seed(app);
    const missing = refusal(await app.request({ method: 'GET', url: '/metrics' }), 401, 'credentials_required');
    assert.match(missing.remedy ?? '', /Authorization: Bearer/);
    for (const headers of [
      bearer(TOKEN.slice(0, -1)),
      bearer(`${TOKEN}x`),
      bearer(alice.key),
      { authorization: `token ${TOKEN}` },
      { authorization: `Basic ${Buffer.from(`prometheus:${TOKEN}`).toString('base64')}` },
      { authorization: 'Bearer' },
      bearer('x'.repeat(4000)),
    ]) {
      const res = await app.request({ method: 'GET', url: '/metrics', headers });
      const error = refusal(res, 401, 'token_invalid');
      assert.match(error.message, /metrics token/);
      assert.ok(!res.body.includes(TOKEN) && !res.body.includes(alice.key), 'no token is echoed');
    }
    const ok = await app.request({ method: 'GET', url: '/metrics', headers: bearer(TOKEN) });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.match(String(ok.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.equal(ok.headers['cache-control'], 'no-store');
    assert.ok(!ok.body.includes(TOKEN));
    assert.ok(
      app.logs.every((line) => !line.includes(TOKEN)),
      'the token is never logged',
    );
    assert.equal(sample(ok.body, 'keysmith_authentications_total{outcome="metrics_token_wrong"}'), 7, ok.body);
    // A wrong metrics token is a refused authentication like any other, in the instance's audit trail.
    await app.services.audit.flush();
    const refused = (await app.request({ method: 'GET', url: '/v1/admin/audit-events?action=auth.refused', headers: bearer(alice.key) })).json() as Array<{
      count: number;
      details: { reason?: string } | null;
    }>;
    const wrongTokens = refused.filter((e) => e.details?.reason === 'metrics_token_wrong').reduce((n, e) => n + e.count, 0);
    assert.equal(wrongTokens, 7, JSON.stringify(refused));
    assert.ok(!JSON.stringify(refused).includes(TOKEN.slice(0, 12)));
  });

  test('counts requests by route pattern, authentications, cache hits, SSH lookups and job runs, and no label names a login, key or address', async (t) => {
    const app = await appFor(t, kind, { env: { KEYSMITH_METRICS_TOKEN: TOKEN } });
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme', 'web');
    const server = await addServiceKey(app, alice.key, 'acme', 'ssh_server');
    const key = await app.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bearer(alice.key), payload: { key: ed25519Line() } });
    assert.equal(key.statusCode, 201, key.body);
    const fingerprint = (key.json() as { fingerprint_sha256: string }).fingerprint_sha256;

    for (let i = 0; i < 3; i++) assert.equal((await app.request({ method: 'GET', url: '/v1/user', headers: bearer(alice.key) })).statusCode, 200);
    assert.equal((await app.request({ method: 'GET', url: '/v1/projects/gh/acme/nothing-here', headers: bearer(alice.key) })).statusCode, 404);
    assert.equal((await app.request({ method: 'GET', url: '/alice-secret-path/acme' })).statusCode, 404);
    assert.equal((await app.request({ method: 'GET', url: '/v1/user', headers: bearer(`${alice.key.slice(0, -1)}${alice.key.endsWith('A') ? 'B' : 'A'}`) })).statusCode, 401);
    assert.equal((await app.request({ method: 'GET', url: '/v1/user' })).statusCode, 401);
    const lookup = (mode: string, fp: string) =>
      app.request({
        method: 'GET',
        url: `/v1/ssh/authorized-keys?${new URLSearchParams({ user: 'alice', fingerprint: fp, mode, ...(mode === 'git' ? { command: COMMAND } : {}) })}`,
        headers: bearer(server.key),
      });
    assert.match((await lookup('git', fingerprint)).body, /key-/);
    assert.match((await lookup('login', fingerprint)).body, /ssh-ed25519/);
    assert.equal((await lookup('login', 'SHA256:' + 'A'.repeat(43))).body, '');
    const decision = await app.request({
      method: 'POST',
      url: '/v1/ssh/authorize',
      headers: bearer(server.key),
      payload: { key: `key-${(key.json() as { id: number }).id}`, project: 'gh/acme/web', access: 'write' },
    });
    assert.equal(decision.json().allowed, true, decision.body);
    assert.equal(await app.app.jobs.runNow('sessions.expire'), 'ran');
    const signIn = await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'alice', password: alice.password } });
    assert.equal(signIn.statusCode, 200);
    assert.equal((await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'alice', password: 'not the password' } })).statusCode, 401);

    const res = await app.request({ method: 'GET', url: '/metrics', headers: bearer(TOKEN) });
    assert.equal(res.statusCode, 200);
    const text = res.body;
    assert.ok((sample(text, 'keysmith_http_requests_total{method="GET",route="/v1/user",status_code="200"}') ?? 0) >= 3, text);
    assert.equal(sample(text, 'keysmith_http_requests_total{method="GET",route="/v1/user",status_code="401"}'), 2);
    assert.equal(sample(text, 'keysmith_http_requests_total{method="GET",route="/v1/projects/:vcs/:account/:name",status_code="404"}'), 1, 'a 404 of a route is labelled with its pattern');
    assert.equal(sample(text, 'keysmith_http_requests_total{method="GET",route="unmatched",status_code="404"}'), 1, 'a path no route matches is "unmatched"');
    assert.ok((sample(text, 'keysmith_http_request_duration_seconds_count{method="GET",route="/v1/user",status_code="200"}') ?? 0) >= 3);
    assert.match(text, /keysmith_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/v1\/user",status_code="200"\}/);
    assert.ok((sample(text, 'keysmith_authentications_total{outcome="ok"}') ?? 0) >= 5, text);
    assert.equal(sample(text, 'keysmith_authentications_total{outcome="bad_checksum"}'), 1);
    assert.equal(sample(text, 'keysmith_authentications_total{outcome="credentials_required"}'), 1);
    assert.equal(sample(text, 'keysmith_authentications_total{outcome="wrong_login_or_password"}'), 1);
    assert.ok((sample(text, 'keysmith_credential_cache_lookups_total{result="hit"}') ?? 0) >= 2, 'the repeated key is served from the cache');
    assert.ok((sample(text, 'keysmith_credential_cache_lookups_total{result="miss"}') ?? 0) >= 1);
    assert.equal(sample(text, 'keysmith_ssh_lookups_total{mode="git",outcome="key"}'), 1);
    assert.equal(sample(text, 'keysmith_ssh_lookups_total{mode="login",outcome="key"}'), 1);
    assert.equal(sample(text, 'keysmith_ssh_lookups_total{mode="login",outcome="none"}'), 1);
    assert.equal(sample(text, 'keysmith_ssh_lookups_total{mode="authorize",outcome="allowed"}'), 1);
    assert.equal(sample(text, 'keysmith_job_runs_total{job="sessions.expire",outcome="ran"}'), 1);
    assert.match(text, /^# TYPE keysmith_webhook_deliveries_total counter$/m, 'registered before anything delivers');
    for (const name of ['keysmith_process_cpu_seconds_total', 'keysmith_process_resident_memory_bytes', 'keysmith_nodejs_eventloop_lag_seconds', 'keysmith_nodejs_heap_size_used_bytes']) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
    }
    // Prometheus naming: every series is keysmith_-prefixed; counters end in _total.
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      assert.ok(m[1]!.startsWith('keysmith_'), m[1]);
      if (m[2] === 'counter') assert.ok(m[1]!.endsWith('_total'), `${m[1]} is a counter`);
    }

    const values = labelValues(text);
    assert.ok(values.length > 20, 'the labels were read');
    const secrets = ['alice', 'acme', alice.key.slice(0, 8), server.key.slice(0, 8), '127.0.0.1', 'secret-path', 'nothing-here', fingerprint.slice(7, 20), 'key-'];
    for (const value of values) {
      for (const secret of secrets) assert.ok(!value.toLowerCase().includes(secret.toLowerCase()), `label value "${value}" carries "${secret}"`);
    }
  });

  test('each app has its own registry: one app’s requests do not show in another’s metrics', async (t) => {
    const one = await appFor(t, kind, { env: { KEYSMITH_METRICS_TOKEN: TOKEN } });
    const two = await appFor(t, kind, { env: { KEYSMITH_METRICS_TOKEN: TOKEN } });
    for (let i = 0; i < 4; i++) await one.request({ method: 'GET', url: '/healthz' });
    const text = (await two.request({ method: 'GET', url: '/metrics', headers: bearer(TOKEN) })).body;
    assert.equal(sample(text, 'keysmith_http_requests_total{method="GET",route="/healthz",status_code="200"}'), undefined, text);
    const own = (await one.request({ method: 'GET', url: '/metrics', headers: bearer(TOKEN) })).body;
    assert.equal(sample(own, 'keysmith_http_requests_total{method="GET",route="/healthz",status_code="200"}'), 4);
  });
});

forEachDatabase('GET /readyz', (kind) => {
  test('is 200 when the database answers and nothing is pending, and 503 with a sentence once the node is stopping', async (t) => {
    const app = await appFor(t, kind);
    const ready = await app.request({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200, ready.body);
    assert.deepEqual(ready.json(), { status: 'ready' });
    app.app.lifecycle.beginStopping();
    const error = refusal(await app.request({ method: 'GET', url: '/readyz' }), 503, 'not_ready');
    assert.match(error.message, /shutting down/);
    assert.equal((await app.request({ method: 'GET', url: '/healthz' })).statusCode, 200, 'liveness stays 200 while the node drains');
  });

  test('is 503 naming the pending migrations on an unmigrated database, and 200 once it is migrated', async (t) => {
    const app = await appFor(t, kind, { unmigrated: true });
    const error = refusal(await app.request({ method: 'GET', url: '/readyz' }), 503, 'not_ready');
    assert.match(error.message, /database migrations are still pending \(2026_11_22_0001_foundation, 2026_11_22_0002_ssh_keys, 2026_11_22_0003_checkout_keys and \d+ more\)\./);
    assert.match(error.remedy ?? '', /keysmith migrate/);
    await migrateTestApp(app);
    const ready = await app.request({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200, ready.body);
  });

  test('is 503 with a sentence when the database does not answer', async (t) => {
    const app = await appFor(t, kind);
    assert.equal((await app.request({ method: 'GET', url: '/readyz' })).statusCode, 200);
    await app.services.db.destroy();
    const res = await app.request({ method: 'GET', url: '/readyz' });
    const error = refusal(res, 503, 'not_ready');
    assert.match(error.message, /database does not answer/);
    assert.match(error.remedy ?? '', /KEYSMITH_DATABASE_URL/);
    assert.ok(!res.body.includes('destroyed') && !res.body.includes('postgres://'), 'the driver error stays inside');
  });
});

test('GET /readyz answers 503 within its bound when the PostgreSQL server accepts connections and then says nothing', async (t) => {
  // A real pg pool pointed at a socket that never answers (a database behind a dropped route).
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((socket) => void sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as net.AddressInfo;
  const config = loadConfig({ KEYSMITH_DATABASE_URL: `postgres://nobody@127.0.0.1:${port}/none`, KEYSMITH_MASTER_KEY: randomBytes(32).toString('base64'), KEYSMITH_LOG_LEVEL: 'silent' });
  const handle = connectDatabase(config.databaseUrl);
  const logger = createLogger('silent');
  const services = createServices({ db: handle.db, ring: loadKeyRing(config).ring, config, logger });
  const app = await buildApp({ config, services, logger });
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    silent.close();
    await app.close().catch(() => {});
    await handle.close().catch(() => {});
  });
  const started = performance.now();
  const res = await app.inject({ method: 'GET', url: '/readyz' });
  t.diagnostic(`answered after ${(performance.now() - started).toFixed(0)} ms`);
  const error = refusal(res, 503, 'not_ready');
  assert.match(error.message, /database does not answer/);
  assert.ok(sockets.size >= 1, 'the pool did try to connect');
});

forEachDatabase('KEYSMITH_TRUST_PROXY', (kind) => {
  /** Creates a project with the given headers and returns the remote address its audit row recorded. */
  async function auditedAddress(app: TestApp, key: string, headers: Record<string, string>, name: string): Promise<string | null> {
    const made = await app.request({ method: 'POST', url: '/v1/projects', headers: { ...bearer(key), 'x-keysmith-account': 'acme', ...headers }, payload: { vcs_type: 'gh', name } });
    assert.equal(made.statusCode, 201, made.body);
    const events = (await app.request({ method: 'GET', url: '/v1/audit-events?action=project.create', headers: { ...bearer(key), 'x-keysmith-account': 'acme' } })).json() as Array<{
      target: { label: string | null } | null;
      remote_addr: string | null;
    }>;
    const event = events.find((e) => e.target?.label?.endsWith(name));
    assert.ok(event, `the audit trail has the creation of ${name}: ${JSON.stringify(events)}`);
    return event.remote_addr;
  }

  const forwarded = { 'x-forwarded-for': '198.51.100.20, 203.0.113.7', 'x-forwarded-proto': 'https' };

  test('unset: X-Forwarded-For is ignored and the socket address is recorded', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    assert.equal(await auditedAddress(app, alice.key, forwarded, 'plain'), '127.0.0.1');
  });

  test('a trusted proxy address: the audited address is the client X-Forwarded-For names; an untrusted proxy is ignored', async (t) => {
    const trusting = await appFor(t, kind, { env: { KEYSMITH_TRUST_PROXY: '127.0.0.1' } });
    const alice = await seed(trusting);
    assert.equal(await auditedAddress(trusting, alice.key, forwarded, 'proxied'), '203.0.113.7', 'the nearest address the trusted proxy added');
    assert.equal(await auditedAddress(trusting, alice.key, {}, 'direct'), '127.0.0.1', 'without the header, the socket address');

    const elsewhere = await appFor(t, kind, { env: { KEYSMITH_TRUST_PROXY: '10.0.0.0/8' } });
    const bob = await seed(elsewhere);
    assert.equal(await auditedAddress(elsewhere, bob.key, forwarded, 'spoofed'), '127.0.0.1', 'a peer outside the list cannot set the address');
  });

  test('a hop count: that many proxies are trusted, so the address is the one they saw', async (t) => {
    const one = await appFor(t, kind, { env: { KEYSMITH_TRUST_PROXY: '1' } });
    const alice = await seed(one);
    assert.equal(await auditedAddress(one, alice.key, forwarded, 'one-hop'), '203.0.113.7');
    const two = await appFor(t, kind, { env: { KEYSMITH_TRUST_PROXY: '2' } });
    const bob = await seed(two);
    assert.equal(await auditedAddress(two, bob.key, forwarded, 'two-hops'), '198.51.100.20');
  });

  test('refused authentications and sign-in failures are recorded under the forwarded address', async (t) => {
    const app = await appFor(t, kind, { env: { KEYSMITH_TRUST_PROXY: '127.0.0.1' } });
    const alice = await seed(app);
    const wrong = await app.request({ method: 'POST', url: '/v1/session', headers: { 'x-forwarded-for': '203.0.113.99' }, payload: { login: 'alice', password: 'not the password' } });
    assert.equal(wrong.statusCode, 401);
    const badKey = await app.request({ method: 'GET', url: '/v1/user', headers: { ...bearer(`${alice.key.slice(0, -1)}${alice.key.endsWith('A') ? 'B' : 'A'}`), 'x-forwarded-for': '203.0.113.98' } });
    assert.equal(badKey.statusCode, 401);
    await app.services.audit.flush();
    const res = await app.request({ method: 'GET', url: '/v1/admin/audit-events?action=auth.refused', headers: bearer(alice.key) });
    assert.equal(res.statusCode, 200, res.body);
    const addresses = (res.json() as Array<{ remote_addr: string | null; details: { reason?: string } | null }>).map((e) => [e.details?.reason, e.remote_addr]);
    assert.deepEqual(addresses.sort(), [
      ['bad_checksum', '203.0.113.98'],
      ['wrong_login_or_password', '203.0.113.99'],
    ]);
  });
});
