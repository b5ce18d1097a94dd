// The audit trail: every change is recorded in the same transaction, with actor, account, target,
// address and user agent, and never a secret.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { addServiceKey, addUser, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase } from './harness.ts';

// Fastify says so once per process when it is configured in a way it has deprecated.
const deprecations: string[] = [];
process.on('warning', (warning: Error & { code?: string }) => {
  if (warning.code?.startsWith('FSTDEP')) deprecations.push(`${warning.code}: ${warning.message}`);
});

forEachDatabase('audit trail', (kind) => {
  test('changes are recorded with who, where from, what and on which account, newest first', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const headers = { ...bearer(alice.key), 'user-agent': 'keysmith-test/1', 'x-keysmith-account': 'acme' };
    await app.request({ method: 'POST', url: '/v1/projects', headers, payload: { vcs_type: 'gh', name: 'web' } });
    const service = await addServiceKey(app, alice.key, 'acme', 'runner');
    await app.request({ method: 'DELETE', url: `/v1/service-api-keys/${service.id}`, headers });
    await app.request({ method: 'DELETE', url: '/v1/projects/gh/acme/web', headers });
    const res = await app.request({ method: 'GET', url: '/v1/audit-events', headers });
    assert.equal(res.statusCode, 200);
    const events = res.json() as Array<{ action: string; actor: { type: string; label: string }; target: { type: string; label: string }; user_agent: string; remote_addr: string }>;
    assert.deepEqual(
      events.map((e) => e.action),
      ['project.delete', 'service_key.delete', 'service_key.create', 'project.create', 'account.create'],
    );
    assert.deepEqual(events[0]!.actor, { type: 'user', id: alice.userId, label: 'alice' });
    assert.equal(events[0]!.target.type, 'project');
    assert.equal(events[0]!.target.label, 'gh/acme/web');
    assert.equal(events[0]!.user_agent, 'keysmith-test/1');
    assert.equal(events[0]!.remote_addr, '127.0.0.1');
    assert.equal(events.at(-1)!.actor.type, 'system', 'init is attributed to the CLI');
    const all = JSON.stringify(await app.services.db.selectFrom('audit_events').selectAll().execute());
    assert.ok(!all.includes(service.key) && !all.includes(alice.key), 'no secret in the trail');
  });

  test('the trail filters by action and paginates with a Link header', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    for (let i = 0; i < 5; i++) await app.request({ method: 'POST', url: '/v1/projects', headers: bearer(alice.key), payload: { vcs_type: 'gh', name: `p${i}` } });
    const res = await app.request({ method: 'GET', url: '/v1/audit-events?action=project.create&per_page=2', headers: bearer(alice.key) });
    assert.equal(res.json().length, 2);
    assert.equal(res.headers['x-total-count'], '5');
    assert.match(String(res.headers.link), /action=project.create&per_page=2&page=2>; rel="next"/);
    const bad = await app.request({ method: 'GET', url: '/v1/audit-events?action=project.explode', headers: bearer(alice.key) });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.field, 'action');
  });

  test("the caller's own trail shows only their own actions", async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const bob = await addUser(app, 'bob', { account: 'acme', role: 'read_write', by: alice.key });
    await app.request({ method: 'POST', url: '/v1/projects', headers: bearer(bob.key), payload: { vcs_type: 'gh', name: 'bobs' } });
    const mine = await app.request({ method: 'GET', url: '/v1/user/audit-events', headers: bearer(bob.key) });
    assert.deepEqual(
      mine.json().map((e: { action: string }) => e.action),
      ['project.create'],
    );
  });

  test('a change and its audit row commit together: when the audit row cannot be written, the change is undone', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const { db } = app.services;
    await sql`alter table audit_events rename to audit_events_away`.execute(db);
    const res = await app.request({ method: 'POST', url: '/v1/projects', headers: bearer(alice.key), payload: { vcs_type: 'gh', name: 'orphan' } });
    assert.equal(res.statusCode, 500);
    assert.equal(res.json().error.code, 'internal');
    assert.ok(!res.body.includes('audit_events'), 'raw database errors never reach the client');
    const logged = app.logs.map((l) => JSON.parse(l) as { msg?: string; reqId?: string });
    assert.ok(
      logged.some((l) => l.msg === 'request failed' && l.reqId === res.json().request_id),
      'the failure is logged with its request id',
    );
    await sql`alter table audit_events_away rename to audit_events`.execute(db);
    assert.deepEqual(await db.selectFrom('projects').select('name').execute(), [], 'the project was rolled back with its audit row');
  });

  // Below info Fastify is given no logger of its own (app.ts): no per-request lines, but a failure is
  // still logged, with its request id.
  test('at level warn a failure is still logged with its request id, and no request is logged otherwise', async (t) => {
    const app = await appFor(t, kind, { env: { KEYSMITH_LOG_LEVEL: 'warn' } });
    const alice = await seed(app);
    assert.equal((await app.request({ method: 'GET', url: '/v1/user', headers: bearer(alice.key) })).statusCode, 200);
    const { db } = app.services;
    await sql`alter table audit_events rename to audit_events_away`.execute(db);
    const res = await app.request({ method: 'POST', url: '/v1/projects', headers: bearer(alice.key), payload: { vcs_type: 'gh', name: 'orphan' } });
    await sql`alter table audit_events_away rename to audit_events`.execute(db);
    assert.equal(res.statusCode, 500);
    const logged = app.logs.map((l) => JSON.parse(l) as { msg?: string; reqId?: string; level: number });
    assert.ok(
      logged.some((l) => l.msg === 'request failed' && l.reqId === res.json().request_id && l.level === 50),
      `the failure is logged at error with its request id: ${JSON.stringify(logged)}`,
    );
    assert.deepEqual(
      logged.filter((l) => l.msg === 'incoming request' || l.msg === 'request completed'),
      [],
      'no per-request lines below info',
    );
  });

  // Below info, request logging is turned off through Fastify's log controller, not the deprecated option.
  test('at level warn Fastify is configured without deprecated options', async (t) => {
    const app = await appFor(t, kind, { env: { KEYSMITH_LOG_LEVEL: 'warn' } });
    assert.equal((await app.request({ method: 'GET', url: '/healthz' })).statusCode, 200);
    // Node emits a process warning on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(deprecations, []);
  });
});
