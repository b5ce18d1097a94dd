// Webhooks against a real HTTP receiver on 127.0.0.1 (node:http, raw bodies kept): the signature is
// checked over the raw body with the secret shown once, a 500 is retried on the backoff schedule, a
// redelivery repeats the event id under a new delivery id, the outbox row lives and dies with its
// transaction, and bad input is a sentence with nothing written. On SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { MAX_ATTEMPTS, RETRY_DELAYS_SECONDS } from '../src/modules/webhooks/webhooks.service.ts';
import { createWebhookSender } from '../src/modules/webhooks/webhook-sender.ts';
import { isForbiddenAddress } from '../src/modules/webhooks/webhook-url.ts';
import { addProject, addServiceKey, addUser, rowCount, seed } from './factories.ts';
import { ed25519Line } from './ssh-fixtures.ts';
import { bearer, createTestApp, forEachDatabase, testClock, type TestApp } from './harness.ts';
import { signedWith, startWebhookReceiver, type ReceivedPost } from './receivers.ts';

type Received = ReceivedPost;
const startReceiver = startWebhookReceiver;
const verify = signedWith;

forEachDatabase('webhooks', (kind) => {
  let t: TestApp;
  let owner: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const clock = testClock(new Date());

  before(async () => {
    t = await createTestApp(kind, { clock });
    owner = (await seed(t)).key;
    receiver = await startReceiver();
  });
  after(async () => {
    await t.close();
    await receiver.close();
  });

  const create = (payload: Record<string, unknown>, key = owner) => t.request({ method: 'POST', url: '/v1/accounts/acme/webhooks', headers: bearer(key), payload });
  const deliveries = async (id: number) =>
    (await t.request({ method: 'GET', url: `/v1/accounts/acme/webhooks/${id}/deliveries`, headers: bearer(owner) })).json() as Array<{
      id: string;
      event_id: string;
      state: string;
      next_attempt_at: string | null;
      last_status_code: number | null;
      attempts: Array<{ status_code: number | null; error: string | null }>;
    }>;

  test('a webhook is made with its secret shown once, never listed, and audited', async () => {
    const res = await create({ url: receiver.url, events: ['credential.created', 'member.added'], description: 'ops' });
    assert.equal(res.statusCode, 201, res.body);
    const made = res.json() as { id: number; secret: string; url: string; events: string[] };
    assert.match(made.secret, /^whsec_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(made.events, ['credential.created', 'member.added']);
    const listed = await t.request({ method: 'GET', url: '/v1/accounts/acme/webhooks', headers: bearer(owner) });
    assert.equal(listed.statusCode, 200);
    assert.ok(!listed.body.includes(made.secret), 'the list never shows the secret');
    assert.ok(!listed.body.includes('secret'), 'nor a secret field');
    const stored = await t.services.db.selectFrom('webhooks').selectAll().where('id', '=', made.id).executeTakeFirstOrThrow();
    assert.ok(!JSON.stringify(stored).includes(made.secret.slice(6)), 'the secret is stored sealed');
    const audit = (await t.request({ method: 'GET', url: '/v1/audit-events?action=webhook.create', headers: bearer(owner) })).json() as unknown[];
    assert.equal(audit.length, 1);
  });

  test('ping: a signed POST of {id, event, occurred_at, account, actor, target, data}, recorded with its answer', async () => {
    const made = (await create({ url: receiver.url, events: ['*'] })).json() as { id: number; secret: string };
    const before = receiver.received.length;
    const ping = await t.request({ method: 'POST', url: `/v1/accounts/acme/webhooks/${made.id}/ping`, headers: bearer(owner) });
    assert.equal(ping.statusCode, 202, ping.body);
    const queued = ping.json() as { id: string };
    await t.services.webhooks.deliverDue();
    const got = receiver.received.slice(before);
    assert.equal(got.length, 1);
    const [r] = got as [Received];
    assert.ok(verify(made.secret, r), 'the signature is the HMAC-SHA256 of the raw body');
    assert.ok(!verify('whsec_wrong', r));
    assert.equal(r.headers['x-keysmith-event'], 'ping');
    assert.equal(r.headers['x-keysmith-delivery'], queued.id);
    assert.equal(r.headers['content-type'], 'application/json');
    const body = JSON.parse(r.raw) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['account', 'actor', 'data', 'event', 'id', 'occurred_at', 'target']);
    assert.equal(body.account, 'acme');
    assert.deepEqual(body.actor, { type: 'user', login: 'alice' });
    assert.ok(!r.raw.includes(made.secret) && !r.raw.includes(owner), 'no secret in a delivery');
    const [listed] = await deliveries(made.id);
    assert.equal(listed!.state, 'delivered');
    assert.equal(listed!.last_status_code, 200);
    assert.equal(listed!.attempts.length, 1);
  });

  test('a 500 is retried 30 s later and every attempt is listed; a redelivery repeats the event id under a new delivery id', async () => {
    const made = (await create({ url: receiver.url, events: ['*'] })).json() as { id: number; secret: string };
    const before = receiver.received.length;
    receiver.answers.push(500);
    await t.request({ method: 'POST', url: `/v1/accounts/acme/webhooks/${made.id}/ping`, headers: bearer(owner) });
    await t.services.webhooks.deliverDue();
    let [d] = await deliveries(made.id);
    assert.equal(d!.state, 'pending');
    assert.equal(d!.last_status_code, 500);
    const retryIn = Date.parse(d!.next_attempt_at!) - clock.now().getTime();
    assert.ok(retryIn > 25_000 && retryIn <= 30_000, `the first retry is due within a minute (${retryIn} ms)`);
    await t.services.webhooks.deliverDue();
    assert.equal(receiver.received.length - before, 1, 'nothing is sent before the retry is due');
    clock.advance(31_000);
    await t.services.webhooks.deliverDue();
    [d] = await deliveries(made.id);
    assert.equal(d!.state, 'delivered');
    assert.deepEqual(
      d!.attempts.map((a) => a.status_code),
      [500, 200],
    );
    const figures = await t.services.metrics.text();
    assert.match(figures, /^keysmith_webhook_deliveries_total\{outcome="failed"\} [1-9]/m, 'the failed attempt is counted');
    assert.match(figures, /^keysmith_webhook_deliveries_total\{outcome="delivered"\} [1-9]/m);
    const sent = receiver.received.slice(before);
    assert.equal(sent.length, 2);
    assert.equal(sent[0]!.headers['x-keysmith-delivery'], sent[1]!.headers['x-keysmith-delivery'], 'a retry is the same delivery');
    assert.equal(sent[0]!.raw, sent[1]!.raw, 'with the same body');

    const again = await t.request({ method: 'POST', url: `/v1/accounts/acme/webhooks/${made.id}/deliveries/${d!.id}/redeliver`, headers: bearer(owner) });
    assert.equal(again.statusCode, 202, again.body);
    await t.services.webhooks.deliverDue();
    const last = receiver.received.at(-1)!;
    assert.notEqual(last.headers['x-keysmith-delivery'], d!.id);
    assert.equal((JSON.parse(last.raw) as { id: string }).id, d!.event_id, 'the event id is the same');
    assert.ok(verify(made.secret, last));
  });

  test('a receiver that keeps failing gets 8 attempts over more than 24 hours, then the delivery is failed', async () => {
    const made = (await create({ url: receiver.url, events: ['*'] })).json() as { id: number };
    receiver.answers.push(...Array.from({ length: MAX_ATTEMPTS }, () => 503));
    const started = clock.now().getTime();
    await t.request({ method: 'POST', url: `/v1/accounts/acme/webhooks/${made.id}/ping`, headers: bearer(owner) });
    await t.services.webhooks.deliverDue();
    for (const delay of RETRY_DELAYS_SECONDS) {
      clock.advance(delay * 1000 + 1000);
      await t.services.webhooks.deliverDue();
    }
    const [d] = await deliveries(made.id);
    assert.equal(d!.attempts.length, 8);
    assert.equal(d!.state, 'failed');
    assert.equal(d!.next_attempt_at, null);
    assert.ok(clock.now().getTime() - started >= 24 * 3600 * 1000, 'the attempts span at least 24 h');
    clock.advance(7 * 24 * 3600 * 1000);
    const count = receiver.received.length;
    await t.services.webhooks.deliverDue();
    assert.equal(receiver.received.length, count, 'a failed delivery is not tried again by itself');
  });

  test('the outbox row is written with the change: a rolled-back transaction sends nothing', async () => {
    const made = (await create({ url: receiver.url, events: ['credential.created'] })).json() as { id: number };
    const accountId = (await t.services.db.selectFrom('accounts').select('id').where('name', '=', 'acme').executeTakeFirstOrThrow()).id;
    const event = { event: 'credential.created' as const, accountId, actor: { type: 'system' as const }, target: { type: 'ssh_key' as const, id: 1, name: 'laptop' } };
    await assert.rejects(
      t.services.db.transaction().execute(async (trx) => {
        assert.ok((await t.services.webhooks.enqueue(trx, event)) >= 1);
        throw new Error('the change fails');
      }),
      /the change fails/,
    );
    assert.equal((await deliveries(made.id)).length, 0);
    await t.services.db.transaction().execute((trx) => t.services.webhooks.enqueue(trx, { ...event, event: 'member.added' }));
    assert.equal((await deliveries(made.id)).length, 0, 'an event it does not subscribe to is not queued');
    await t.services.db.transaction().execute((trx) => t.services.webhooks.enqueue(trx, event));
    t.services.webhooks.kick();
    await t.services.webhooks.deliverDue();
    const [d] = await deliveries(made.id);
    assert.equal(d!.state, 'delivered');
    assert.deepEqual((JSON.parse(receiver.received.at(-1)!.raw) as { target: unknown }).target, { type: 'ssh_key', id: 1, name: 'laptop' });
  });

  test('a service key reported as leaked is told to its account: credential.revoked, reason leaked, no secret', async () => {
    const made = (await create({ url: receiver.url, events: ['credential.revoked'] })).json() as { id: number; secret: string };
    const leaked = await addServiceKey(t, owner, 'acme', 'read_only');
    const report = await t.request({ method: 'POST', url: '/v1/credentials/revoke', payload: { credentials: [leaked.key] } });
    assert.equal(report.statusCode, 202);
    await t.services.webhooks.deliverDue();
    const [d] = await deliveries(made.id);
    assert.equal(d!.state, 'delivered');
    const got = receiver.received.find((r) => r.headers['x-keysmith-delivery'] === d!.id)!;
    assert.ok(verify(made.secret, got));
    assert.ok(!got.raw.includes(leaked.key), 'the leaked key itself is not sent');
    const body = JSON.parse(got.raw) as { event: string; actor: unknown; target: { type: string; id: number; fingerprint: string }; data: { reason: string } };
    assert.equal(body.event, 'credential.revoked');
    assert.deepEqual(body.actor, { type: 'system' });
    assert.equal(body.target.type, 'service_api_key');
    assert.equal(body.target.fingerprint, leaked.key.slice(0, body.target.fingerprint.length));
    assert.equal(body.data.reason, 'leaked');
  });

  test("the account's changes arrive as events of one shape, sent once the request is answered", async () => {
    const made = (await create({ url: receiver.url, events: ['credential.created', 'credential.deleted', 'member.added', 'member.role_changed', 'member.removed'] })).json() as {
      id: number;
      secret: string;
    };
    const service = await addServiceKey(t, owner, 'acme', 'read_only');
    await addUser(t, 'erin', { account: 'acme', role: 'read_only', by: owner });
    assert.equal((await t.request({ method: 'PUT', url: '/v1/accounts/acme/members/erin', headers: bearer(owner), payload: { role: 'read_write' } })).statusCode, 200);
    assert.equal((await t.request({ method: 'DELETE', url: '/v1/accounts/acme/members/erin', headers: bearer(owner) })).statusCode, 204);
    await addProject(t, owner, 'acme', 'hooked');
    const deploy = await t.request({ method: 'POST', url: '/v1/projects/gh/acme/hooked/deploy-keys', headers: bearer(owner), payload: { key: ed25519Line() } });
    assert.equal(deploy.statusCode, 201, deploy.body);
    const deleted = await t.request({ method: 'DELETE', url: `/v1/service-api-keys/${service.id}`, headers: { ...bearer(owner), 'x-keysmith-account': 'acme' } });
    assert.equal(deleted.statusCode, 204, deleted.body);
    await t.services.webhooks.deliverDue();
    const list = await deliveries(made.id);
    assert.ok(
      list.every((d) => d.state === 'delivered'),
      JSON.stringify(list.map((d) => d.state)),
    );
    const bodies = receiver.received
      .filter((r) => list.some((d) => d.id === r.headers['x-keysmith-delivery']))
      .map((r) => {
        assert.ok(verify(made.secret, r));
        assert.ok(!r.raw.includes(service.key), 'no secret in a delivery');
        return JSON.parse(r.raw) as { event: string; actor: unknown; target: { type: string; id: unknown; name?: string; fingerprint?: string }; data: Record<string, unknown> };
      })
      .sort((a, b) => a.event.localeCompare(b.event) || a.target.type.localeCompare(b.target.type));
    assert.deepEqual(
      bodies.map((b) => `${b.event} ${b.target.type}`),
      ['credential.created deploy_key', 'credential.created service_api_key', 'credential.deleted service_api_key', 'member.added member', 'member.removed member', 'member.role_changed member'],
    );
    for (const b of bodies) assert.deepEqual(b.actor, { type: 'user', login: 'alice' });
    const createdDeploy = bodies.find((b) => b.target.type === 'deploy_key')!;
    assert.match(createdDeploy.target.fingerprint ?? '', /^SHA256:|^[0-9a-f]{2}(:[0-9a-f]{2}){15}$/, 'an SSH key is named by its fingerprint');
    assert.equal(bodies.find((b) => b.event === 'member.role_changed')!.target.name, 'erin');
  });

  test('a grant given or revoked reaches each account its holder is a member of, naming the grant and its holder', async () => {
    const made = (await create({ url: receiver.url, events: ['grant.given', 'grant.revoked'] })).json() as { id: number; secret: string };
    const given = await t.request({ method: 'PUT', url: '/v1/user/grants/write:public_key', headers: bearer(owner) });
    assert.equal(given.statusCode, 200, given.body);
    const revoked = await t.request({ method: 'DELETE', url: '/v1/user/grants/write:public_key', headers: bearer(owner) });
    assert.equal(revoked.statusCode, 200, revoked.body);
    await t.services.webhooks.deliverDue();
    const list = await deliveries(made.id);
    const bodies = receiver.received
      .filter((r) => list.some((d) => d.id === r.headers['x-keysmith-delivery']))
      .map((r) => {
        assert.ok(verify(made.secret, r));
        return JSON.parse(r.raw) as { event: string; account: string; actor: unknown; target: unknown; data: Record<string, unknown> };
      })
      .sort((a, b) => a.event.localeCompare(b.event));
    assert.deepEqual(
      bodies.map((b) => b.event),
      ['grant.given', 'grant.revoked'],
    );
    for (const b of bodies) {
      assert.equal(b.account, 'acme');
      assert.deepEqual(b.actor, { type: 'user', login: 'alice' });
      assert.deepEqual(b.target, { type: 'grant', id: 'write:public_key', name: 'write:public_key' });
      assert.equal(b.data.user, 'alice');
    }
    assert.equal(bodies[1]!.data.removed_keys, false);
  });

  test('bad input is a 400 with a sentence, and nothing is written', async () => {
    const before = await rowCount(t, 'webhooks');
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ url: 'ftp://example.com/x', events: ['*'] }, /must start with https:\/\/ \(or http:\/\/\), not ftp:\/\//],
      [{ url: 'http://169.254.169.254/latest/meta-data', events: ['*'] }, /169\.254\.169\.254, in the link-local range/],
      [{ url: 'http://[fe80::1]/hook', events: ['*'] }, /fe80::1, in the link-local range/],
      [{ url: 'http://[::ffff:169.254.1.1]/hook', events: ['*'] }, /link-local range/],
      [{ url: 'https://user:pw@example.com/hook', events: ['*'] }, /carries a user name or password/],
      [{ url: 'not a url', events: ['*'] }, /is not an absolute URL/],
      [{ url: receiver.url, events: [] }, /Name at least one event/],
      [{ url: receiver.url, events: ['__proto__'] }, /There is no event "__proto__"; choose from credential\.created/],
      [{ url: receiver.url, events: ['constructor'] }, /There is no event "constructor"/],
      [{ url: receiver.url, events: ['*'], description: 'x'.repeat(201) }, /keep it to 200/],
    ];
    for (const [payload, message] of cases) {
      const res = await create(payload);
      assert.equal(res.statusCode, 400, `${JSON.stringify(payload)}: ${res.body}`);
      assert.match((res.json() as { error: { message: string } }).error.message, message);
    }
    const extra = await create({ url: receiver.url, events: ['*'], secret: 'mine' });
    assert.equal(extra.statusCode, 400);
    assert.equal(await rowCount(t, 'webhooks'), before);
  });

  test('owners and admins only; another account sees nothing; a deleted webhook stops receiving', async () => {
    const bob = await addUser(t, 'bob', { account: 'acme', role: 'read_write', by: owner });
    const refused = await create({ url: receiver.url, events: ['*'] }, bob.key);
    assert.equal(refused.statusCode, 403);
    assert.match((refused.json() as { error: { message: string } }).error.message, /webhooks/);
    const made = (await create({ url: receiver.url, events: ['*'] })).json() as { id: number };
    const stranger = await addUser(t, 'carol');
    const other = await t.request({ method: 'GET', url: `/v1/accounts/acme/webhooks/${made.id}/deliveries`, headers: bearer(stranger.key) });
    assert.equal(other.statusCode, 404);
    const gone = await t.request({ method: 'DELETE', url: `/v1/accounts/acme/webhooks/${made.id}`, headers: bearer(owner) });
    assert.equal(gone.statusCode, 204);
    const ping = await t.request({ method: 'POST', url: `/v1/accounts/acme/webhooks/${made.id}/ping`, headers: bearer(owner) });
    assert.equal(ping.statusCode, 404);
  });
});

test('the sender gives up after its time-out and says so; link-local addresses are refused however they are written', async () => {
  const silent = http.createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const sender = createWebhookSender({ timeoutMs: 300 });
  try {
    const result = await sender.send(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/`, {}, '{}');
    assert.equal(result.statusCode, null);
    assert.equal(result.error, 'no answer within 0.3 s');
  } finally {
    await sender.close();
    silent.closeAllConnections();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
  for (const a of ['169.254.169.254', '169.254.0.1', 'fe80::1', 'FE80::abcd', 'febf::1', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe', '0.0.0.0', '::']) assert.ok(isForbiddenAddress(a), a);
  for (const a of ['127.0.0.1', '10.0.0.1', '192.168.1.1', '::1', 'fd00::1', '169.255.0.1']) assert.ok(!isForbiddenAddress(a), a);
});
