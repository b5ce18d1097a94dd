// The credential scheduler with a clock the test moves: expiring notices at 30, 7 and 1 days and the
// expired notice, each given once (scanning again, from a second set of services on the same
// database as a restarted or second node would, or two scans at once, sends nothing more); dormant
// credentials warned 7 days before and then disabled (401 token_disabled, no SSH match, no
// certificate), enabled again by their owner and audited. A person's own keys are told by email to a
// real SMTP server, an account's to a real webhook receiver, signed, in one payload shape for every
// kind of credential and never with a secret. On SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addProject, addServiceKey, addUser, seed } from './factories.ts';
import { anotherNode, bearer, createTestApp, forEachDatabase, testClock, type TestApp } from './harness.ts';
import { mailEnv, mailTo, signedWith, startSmtp, startWebhookReceiver, type Smtp, type WebhookReceiver } from './receivers.ts';
import { ed25519Line, sshKeygen } from './ssh-fixtures.ts';

const DAY = 86_400_000;
const START = new Date('2027-01-04T09:00:00.000Z');
const FROM = 'Keysmith <keysmith@example.test>';

interface Payload {
  id: string;
  event: string;
  account: string;
  actor: { type: string };
  target: { type: string; id: number; name?: string; fingerprint?: string };
  data: Record<string, unknown>;
}

forEachDatabase('credential scheduler', (kind) => {
  let t: TestApp;
  let smtp: Smtp;
  let receiver: WebhookReceiver;
  let secret: string;
  let owner: Awaited<ReturnType<typeof seed>>;
  const clock = testClock(START);

  before(async () => {
    smtp = await startSmtp();
    receiver = await startWebhookReceiver();
    t = await createTestApp(kind, { clock, env: mailEnv(smtp, FROM) });
    owner = await seed(t);
    const email = await t.request({ method: 'PATCH', url: `/v1/admin/users/${owner.login}`, headers: bearer(owner.key), payload: { email: 'alice@acme.test' } });
    assert.equal(email.statusCode, 200, email.body);
    await addProject(t, owner.key, 'acme');
    const hook = await t.request({ method: 'POST', url: '/v1/accounts/acme/webhooks', headers: bearer(owner.key), payload: { url: receiver.url, events: ['*'] } });
    assert.equal(hook.statusCode, 201, hook.body);
    secret = (hook.json() as { secret: string }).secret;
  });
  after(async () => {
    await t.close();
    await smtp.close();
    await receiver.close();
  });

  /** Runs the job as a node would, then delivers what it queued. */
  async function scan(app: Pick<TestApp, 'app' | 'services'> = t) {
    assert.equal(await app.app.jobs.runNow('credentials.scan'), 'ran');
    await app.services.webhooks.deliverDue();
    await app.services.mail.deliverDue();
  }

  /** Deliveries received since `from`, checked for a good signature and for no secret, parsed. */
  function payloadsSince(from: number, secrets: string[] = []): Payload[] {
    return receiver.received.slice(from).map((r) => {
      assert.ok(signedWith(secret, r), 'signed with the webhook secret');
      for (const s of secrets) assert.ok(!r.raw.includes(s), 'no secret in a delivery');
      return JSON.parse(r.raw) as Payload;
    });
  }

  const post = (url: string, payload: unknown, key = owner.key) =>
    t.request({ method: 'POST', url, headers: { ...bearer(key), 'x-keysmith-account': 'acme' }, payload: payload as Record<string, unknown> });

  describe('expiry', () => {
    const expiresAt = new Date(START.getTime() + 40 * DAY).toISOString();
    let userKey: { id: number; key: string; start: string };
    let serviceKey: { id: number; key: string };
    let sshKeyId: number;
    let deployKeyId: number;
    let hostKeyId: number;

    before(async () => {
      const uk = await post('/v1/user/api-keys', { name: 'release script', expires_at: expiresAt });
      assert.equal(uk.statusCode, 201, uk.body);
      userKey = uk.json();
      const sk = await post('/v1/service-api-keys', { name: 'nightly export', role: 'read_only', expires_at: expiresAt });
      assert.equal(sk.statusCode, 201, sk.body);
      serviceKey = sk.json();
      const ssh = await post('/v1/user/ssh-keys', { title: 'laptop', key: ed25519Line(), expires_at: expiresAt });
      assert.equal(ssh.statusCode, 201, ssh.body);
      sshKeyId = (ssh.json() as { id: number }).id;
      const deploy = await post('/v1/projects/gh/acme/web/deploy-keys', { title: 'ci deploy', key: ed25519Line(), expires_at: expiresAt });
      assert.equal(deploy.statusCode, 201, deploy.body);
      deployKeyId = (deploy.json() as { id: number }).id;
      const host = await post('/v1/projects/gh/acme/web/ssh-keys', { hostname: 'deploy.example.com', private_key: sshKeygen('ed25519').privateKey, expires_at: expiresAt });
      assert.equal(host.statusCode, 201, host.body);
      hostKeyId = (await t.services.db.selectFrom('host_keys').select('id').executeTakeFirstOrThrow()).id;
      await t.services.webhooks.deliverDue();
      await t.services.mail.deliverDue();
    });

    test('nothing is due 40 days ahead; at 30 days left each credential is announced once, to its owner', async () => {
      const hooks = receiver.received.length;
      const mails = smtp.received.length;
      await scan();
      assert.equal(receiver.received.length, hooks, 'no webhook 40 days ahead');
      assert.equal(smtp.received.length, mails, 'no mail 40 days ahead');

      clock.advance(10 * DAY);
      await scan();
      const events = payloadsSince(hooks, [serviceKey.key]);
      const expiring = events.filter((e) => e.event === 'credential.expiring');
      // The account's own credentials go to its webhooks, in one shape for each kind.
      assert.deepEqual(expiring.map((e) => e.target.type).sort(), ['deploy_key', 'host_key', 'service_api_key']);
      for (const e of expiring) {
        assert.equal(e.account, 'acme');
        assert.deepEqual(e.actor, { type: 'system' });
        assert.deepEqual(Object.keys(e.target).sort(), ['fingerprint', 'id', 'name', 'type']);
        assert.equal(e.data.notice_days, 30);
        assert.equal(e.data.days_left, 30);
        assert.equal(e.data.expires_at, expiresAt);
      }
      assert.equal(expiring.find((e) => e.target.type === 'service_api_key')!.target.id, serviceKey.id);
      assert.equal(expiring.find((e) => e.target.type === 'deploy_key')!.target.id, deployKeyId);
      assert.equal(expiring.find((e) => e.target.type === 'host_key')!.target.id, hostKeyId);
      // A person's own keys go to them by email, named by start and fingerprint.
      const mailed = mailTo(smtp, 'alice@acme.test').slice(mails);
      assert.equal(mailed.length, 2, mailed.map((m) => m.subject).join('\n'));
      const apiMail = mailed.find((m) => m.subject.includes('release script'))!;
      assert.match(apiMail.subject, /expires in 30 days/);
      assert.match(apiMail.text, new RegExp(`Starts with: ${userKey.start}`));
      assert.ok(!apiMail.raw.includes(userKey.key), 'the secret is never mailed');
      assert.match(mailed.find((m) => m.subject.includes('laptop'))!.text, /Fingerprint: SHA256:/);
    });

    test('scanning again, from a second node on the same database, or twice at once, sends nothing more', async () => {
      const hooks = receiver.received.length;
      const mails = smtp.received.length;
      await scan();
      const other = await anotherNode(t, clock);
      try {
        await scan(other);
        await Promise.all([other.services.credentialNotices.scan(), t.services.credentialNotices.scan()]);
        await scan(other);
      } finally {
        await other.close();
      }
      await scan();
      assert.equal(receiver.received.length, hooks);
      assert.equal(smtp.received.length, mails);
    });

    test('at 7 and at 1 day left, one more notice each; once expired, one expired notice; then nothing', async () => {
      const hooks = receiver.received.length;
      const mails = smtp.received.length;
      clock.advance(23 * DAY); // 7 days left
      await scan();
      await scan();
      clock.advance(6 * DAY + 12 * 3600_000); // 12 hours left
      await scan();
      clock.advance(DAY); // expired 12 hours ago
      await scan();
      clock.advance(DAY);
      await scan();
      const events = payloadsSince(hooks);
      const perTarget = (event: string) => events.filter((e) => e.event === event).map((e) => `${e.target.type}:${typeof e.data.notice_days === 'number' ? e.data.notice_days : 'expired'}`);
      assert.deepEqual(perTarget('credential.expiring').sort(), ['deploy_key:1', 'deploy_key:7', 'host_key:1', 'host_key:7', 'service_api_key:1', 'service_api_key:7']);
      assert.deepEqual(perTarget('credential.expired').sort(), ['deploy_key:expired', 'host_key:expired', 'service_api_key:expired']);
      const subjects = mailTo(smtp, 'alice@acme.test')
        .slice(mails)
        .map((m) => m.subject)
        .sort();
      assert.equal(subjects.length, 6, subjects.join('\n'));
      assert.equal(subjects.filter((s) => /expires in 7 days/.test(s)).length, 2);
      assert.equal(subjects.filter((s) => /expires in 1 day$/.test(s)).length, 2);
      assert.equal(subjects.filter((s) => /has expired/.test(s)).length, 2);
      const expired = await t.request({ method: 'GET', url: '/v1/user', headers: bearer(userKey.key) });
      assert.equal(expired.json().error.code, 'token_expired');
      assert.ok(sshKeyId > 0);
    });
  });

  describe('dormant credentials', () => {
    let userKey: { id: number; key: string; start: string };
    let serviceKey: { id: number; key: string };
    let sshKey: { id: number; line: string; fingerprint: string };
    let deployKeyId: number;
    let sshServer: string;

    before(async () => {
      const set = await t.request({ method: 'PUT', url: '/v1/admin/policy', headers: bearer(owner.key), payload: { disable_unused_after_days: 30 } });
      assert.equal(set.statusCode, 200, set.body);
      const uk = await post('/v1/user/api-keys', { name: 'old laptop token' });
      assert.equal(uk.statusCode, 201, uk.body);
      userKey = uk.json();
      serviceKey = (await addServiceKey(t, owner.key, 'acme', 'read_write', { name: 'forgotten integration' })) as unknown as { id: number; key: string };
      const line = ed25519Line('alice@old-desktop');
      const ssh = await post('/v1/user/ssh-keys', { title: 'old desktop', key: line });
      assert.equal(ssh.statusCode, 201, ssh.body);
      sshKey = { id: ssh.json().id, line, fingerprint: ssh.json().fingerprint_sha256 };
      const deploy = await post('/v1/projects/gh/acme/web/deploy-keys', { title: 'retired deploy', key: ed25519Line() });
      deployKeyId = deploy.json().id;
      sshServer = (await addServiceKey(t, owner.key, 'acme', 'ssh_server', { name: 'bastion' })).key;
      assert.equal((await lookup(sshKey.fingerprint)).body.trim(), line.split(' ').slice(0, 2).join(' '), 'the new key matches');
      // The owner's own key and the SSH server's stay in use throughout.
      await t.services.webhooks.deliverDue();
      await t.services.mail.deliverDue();
    });

    const lookup = (fingerprint: string) =>
      t.request({ method: 'GET', url: `/v1/ssh/authorized-keys?user=${owner.login}&fingerprint=${encodeURIComponent(fingerprint)}&mode=login`, headers: bearer(sshServer) });
    const keepBusy = async () => {
      for (const key of [owner.key, sshServer]) assert.equal((await t.request({ method: 'GET', url: '/v1/user', headers: bearer(key) })).statusCode, 200);
      await t.services.flush();
    };

    test('7 days before the limit each unused credential is warned once; a used one is not', async () => {
      const hooks = receiver.received.length;
      const mails = smtp.received.length;
      clock.advance(20 * DAY);
      await keepBusy();
      await scan();
      assert.equal(receiver.received.length, hooks, 'nothing at 20 days');
      clock.advance(3 * DAY + 60_000);
      await keepBusy();
      await scan();
      await scan();
      const events = payloadsSince(hooks, [serviceKey.key]);
      const warned = events.filter((e) => e.event === 'credential.expiring' && e.data.reason === 'dormant');
      assert.deepEqual(warned.map((e) => e.target.type).sort(), ['deploy_key', 'service_api_key']);
      for (const e of warned) assert.equal(e.data.days_left, 7);
      assert.ok(!events.some((e) => e.target.name === 'bastion'), 'a key in use is not warned');
      const mailed = mailTo(smtp, 'alice@acme.test').slice(mails);
      assert.deepEqual(mailed.map((m) => m.subject.replace(/ on .*/, '')).sort(), ['Your API key "old laptop token" will be disabled', 'Your SSH key "old desktop" will be disabled']);
      assert.ok(!mailed.some((m) => m.subject.includes("alice's key")), 'the key in use is not warned');
    });

    test('at the limit they are disabled: 401 token_disabled, no SSH match, no certificate; told once, audited', async () => {
      const hooks = receiver.received.length;
      const mails = smtp.received.length;
      clock.advance(7 * DAY);
      await keepBusy();
      await scan();
      await scan();

      const refused = await t.request({ method: 'GET', url: '/v1/user', headers: bearer(userKey.key) });
      assert.equal(refused.statusCode, 401);
      assert.equal(refused.json().error.code, 'token_disabled');
      assert.match(refused.json().error.message, new RegExp(`POST /v1/user/api-keys/${userKey.id}/enable`));
      assert.ok(!refused.body.includes(userKey.key));
      const service = await t.request({ method: 'GET', url: '/v1/projects', headers: bearer(serviceKey.key) });
      assert.equal(service.json().error.code, 'token_disabled');
      assert.equal((await lookup(sshKey.fingerprint)).body, '', 'a disabled key does not match');
      const keysFile = await t.request({ method: 'GET', url: `/${owner.login}.keys` });
      assert.ok(!keysFile.body.includes(sshKey.line.split(' ')[1]!), 'nor is it in the public .keys file');
      const cert = await post('/v1/user/ssh-certificates', { public_key: sshKey.line, account: 'acme' });
      assert.equal(cert.statusCode, 400, cert.body);
      assert.match(cert.json().error.message, /disabled/);
      assert.equal((await t.request({ method: 'GET', url: '/v1/user', headers: bearer(owner.key) })).statusCode, 200, 'a key in use still works');

      const events = payloadsSince(hooks, [serviceKey.key]).filter((e) => e.event === 'credential.revoked');
      assert.deepEqual(events.map((e) => `${e.target.type}:${e.data.reason}:${e.data.unused_days}`).sort(), ['deploy_key:dormant:30', 'service_api_key:dormant:30']);
      const mailed = mailTo(smtp, 'alice@acme.test').slice(mails);
      assert.equal(mailed.length, 2);
      for (const m of mailed) {
        assert.match(m.subject, /was disabled: it was not used for 30 days/);
        assert.match(m.text, /\/enable/);
      }
      const listed = await t.request({ method: 'GET', url: '/v1/user/api-keys', headers: bearer(owner.key) });
      assert.ok((listed.json() as Array<{ id: number; disabled_at: string | null }>).find((k) => k.id === userKey.id)!.disabled_at);
      const audit = await t.services.db
        .selectFrom('audit_events')
        .select(['action', 'actor_label', 'details'])
        .where('action', 'in', ['api_key.disable', 'service_key.disable', 'ssh_key.disable', 'deploy_key.disable'])
        .execute();
      assert.equal(audit.length, 4);
      for (const row of audit) {
        assert.equal(row.actor_label, 'keysmith scheduler');
        assert.equal(JSON.parse(row.details!).reason, 'dormant');
      }
    });

    test('the owner enables them again (audited); the unused period starts afresh; others get a 404', async () => {
      const bob = await addUser(t, 'bob', { account: 'acme', role: 'read_write', by: owner.key });
      assert.equal((await post(`/v1/user/api-keys/${userKey.id}/enable`, undefined, bob.key)).statusCode, 404, "another person's key is a 404");
      assert.equal((await post(`/v1/user/ssh-keys/${sshKey.id}/enable`, undefined, bob.key)).statusCode, 404);
      assert.equal((await post(`/v1/service-api-keys/${serviceKey.id}/enable`, undefined, bob.key)).statusCode, 403, 'read_write may not manage service keys');
      const stranger = await t.request({ method: 'POST', url: `/v1/user/api-keys/${userKey.id}/enable`, headers: bearer(serviceKey.key) });
      assert.equal(stranger.statusCode, 401, 'a disabled key cannot enable anything');
      for (const id of ['__proto__', 'constructor', '0x1', '-1', '0']) {
        const res = await post(`/v1/user/api-keys/${id}/enable`, undefined);
        assert.equal(res.statusCode, 400, `${id}: ${res.body}`);
      }
      assert.equal((await post('/v1/user/api-keys/999999/enable', undefined)).statusCode, 404);

      const enabled = await post(`/v1/user/api-keys/${userKey.id}/enable`, undefined);
      assert.equal(enabled.statusCode, 200, enabled.body);
      assert.equal(enabled.json().disabled_at, null);
      assert.equal((await t.request({ method: 'GET', url: '/v1/user', headers: bearer(userKey.key) })).statusCode, 200);
      assert.equal((await post(`/v1/service-api-keys/${serviceKey.id}/enable`, undefined)).statusCode, 200);
      assert.equal((await t.request({ method: 'GET', url: '/v1/projects', headers: bearer(serviceKey.key) })).statusCode, 200);
      const ssh = await post(`/v1/user/ssh-keys/${sshKey.id}/enable`, undefined);
      assert.equal(ssh.statusCode, 200, ssh.body);
      assert.equal(ssh.json().disabled_at, null);
      assert.notEqual((await lookup(sshKey.fingerprint)).body, '');
      assert.ok((await t.request({ method: 'GET', url: `/${owner.login}.keys` })).body.includes(sshKey.line.split(' ')[1]!));
      assert.equal((await post(`/v1/projects/gh/acme/web/deploy-keys/${deployKeyId}/enable`, undefined)).statusCode, 200);
      // Enabling an enabled key changes nothing and writes no audit row.
      assert.equal((await post(`/v1/user/api-keys/${userKey.id}/enable`, undefined)).statusCode, 200);
      const audit = await t.services.db.selectFrom('audit_events').select('action').where('action', 'in', ['api_key.enable', 'service_key.enable', 'ssh_key.enable', 'deploy_key.enable']).execute();
      assert.deepEqual(audit.map((r) => r.action).sort(), ['api_key.enable', 'deploy_key.enable', 'service_key.enable', 'ssh_key.enable']);

      // The next scan leaves them alone: they count as active from the moment they were enabled.
      await t.services.webhooks.deliverDue();
      const hooks = receiver.received.length;
      await scan();
      assert.equal(receiver.received.length, hooks);
      assert.equal((await t.request({ method: 'GET', url: '/v1/user', headers: bearer(userKey.key) })).statusCode, 200);
    });
  });
});
