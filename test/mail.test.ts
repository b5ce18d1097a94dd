// Email to people about their own credentials, against a real SMTP server in this process
// (smtp-server on 127.0.0.1, no STARTTLS): each message goes to the owner's address from
// KEYSMITH_MAIL_FROM, names the credential by its title and fingerprint or start and never carries
// a secret or a key blob; account keys send nothing; a 451 is retried on the backoff and delivered
// once; no SMTP settings means nothing is queued. On SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';
import { MAIL_MAX_ATTEMPTS, MAIL_RETRY_DELAYS_SECONDS, transportOptions } from '../src/modules/mail/mail.service.ts';
import type { OwnerNotice } from '../src/modules/mail/owner-notices.ts';
import { addProject, addServiceKey, rowCount, seed } from './factories.ts';
import { ed25519Line } from './ssh-fixtures.ts';
import { appFor, bearer, createTestApp, forEachDatabase, testClock, type TestApp } from './harness.ts';
import { mailEnv as smtpEnv, mailTo, startSmtp, type Smtp } from './receivers.ts';

const MAIL_FROM = 'Keysmith <keysmith@example.test>';

const mailEnv = (smtp: Smtp, userinfo = '') => smtpEnv(smtp, MAIL_FROM, userinfo);

/** A user with an address (or none) and a user API key made for them from the CLI. */
async function addPerson(t: TestApp, login: string, email: string | null) {
  const write = await t.services.users.prepare({ login, email });
  const user = await t.services.db.transaction().execute((trx) => write(trx, { cli: true }));
  const writeKey = t.services.apiKeys.prepareUserKey({ name: `${login}'s key` });
  const key = await t.services.db.transaction().execute((trx) => writeKey(trx, { cli: true }, user.id));
  return { userId: user.id, login, email, key: key.key, keyId: key.id, start: key.start };
}

const to = mailTo;

forEachDatabase('email to owners', (kind) => {
  let t: TestApp;
  let smtp: Smtp;
  let owner: Awaited<ReturnType<typeof seed>>;
  const clock = testClock(new Date());

  before(async () => {
    smtp = await startSmtp();
    t = await createTestApp(kind, { clock, env: mailEnv(smtp) });
    owner = await seed(t);
    const set = await t.request({ method: 'PATCH', url: `/v1/admin/users/${owner.login}`, headers: bearer(owner.key), payload: { email: 'alice@acme.test' } });
    assert.equal(set.statusCode, 200, set.body);
  });
  after(async () => {
    await t.close();
    await smtp.close();
  });

  test('a new SSH key: one message to its owner from KEYSMITH_MAIL_FROM with its title and SHA256 fingerprint, not the key', async () => {
    const bob = await addPerson(t, 'bob', 'bob@example.test');
    await t.services.mail.deliverDue();
    const line = ed25519Line('bob@laptop');
    const res = await t.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bearer(bob.key), payload: { title: 'Work laptop', key: line } });
    assert.equal(res.statusCode, 201, res.body);
    const key = res.json() as { id: number; fingerprint_sha256: string };
    await t.services.mail.deliverDue();
    const messages = to(smtp, 'bob@example.test').filter((m) => /SSH key/.test(m.subject));
    assert.equal(messages.length, 1, JSON.stringify(messages.map((m) => m.subject)));
    const m = messages[0]!;
    assert.equal(m.from, 'keysmith@example.test');
    assert.deepEqual(m.to, ['bob@example.test']);
    assert.match(m.headers, /^from: Keysmith <keysmith@example\.test>$/im);
    assert.match(m.headers, /^auto-submitted: auto-generated$/im);
    assert.equal(m.subject, 'New SSH key on your Keysmith account: "Work laptop"');
    assert.ok(m.text.includes('Work laptop'));
    assert.ok(m.text.includes(key.fingerprint_sha256), m.text);
    assert.match(key.fingerprint_sha256, /^SHA256:/);
    assert.ok(m.text.includes(`${t.config.publicUrl}/settings/ssh-keys`));
    assert.ok(!m.raw.includes(line.split(' ')[1]!), 'the public key blob is not in the message');
    const again = await t.services.mail.deliverDue();
    assert.equal(again, 0, 'nothing is sent twice');
  });

  test('a new user API key: its start and name, never the secret', async () => {
    const carol = await addPerson(t, 'carol', 'carol@example.test');
    await t.services.mail.deliverDue();
    const fromCli = to(smtp, 'carol@example.test');
    assert.equal(fromCli.length, 1, 'the key made for her from the CLI is a new key on her account too');
    assert.ok(fromCli[0]!.text.includes(carol.start));
    assert.ok(!fromCli[0]!.raw.includes(carol.key));

    const res = await t.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(carol.key), payload: { name: 'deploy script' } });
    assert.equal(res.statusCode, 201, res.body);
    const made = res.json() as { key: string; start: string };
    await t.services.mail.deliverDue();
    const m = to(smtp, 'carol@example.test').find((x) => x.subject.includes('deploy script'))!;
    assert.equal(m.subject, 'New API key on your Keysmith account: "deploy script"');
    assert.ok(m.text.includes(made.start), m.text);
    assert.ok(m.text.includes(`${t.config.publicUrl}/settings/api-keys`));
    assert.ok(!m.raw.includes(made.key), 'the secret is not in the message');
    assert.ok(!m.raw.includes(made.key.slice(made.start.length)), 'nor any of its remainder');
  });

  test("an account's keys (deploy key, service key, deploy checkout key) send no mail; a user checkout key does", async () => {
    await addProject(t, owner.key, 'acme');
    await t.services.mail.deliverDue();
    const before = await rowCount(t, 'mail_outbox');
    const deploy = await t.request({ method: 'POST', url: '/v1/projects/gh/acme/web/deploy-keys', headers: bearer(owner.key), payload: { title: 'ci', key: ed25519Line() } });
    assert.equal(deploy.statusCode, 201, deploy.body);
    await addServiceKey(t, owner.key, 'acme', 'read_only');
    const checkout = await t.request({ method: 'POST', url: '/api/v1.1/project/gh/acme/web/checkout-key', headers: bearer(owner.key), payload: { type: 'deploy-key' } });
    assert.equal(checkout.statusCode, 201, checkout.body);
    assert.equal(await rowCount(t, 'mail_outbox'), before, 'nothing queued for keys of the account');

    const grant = await t.request({ method: 'PUT', url: '/v1/user/grants/write:public_key', headers: bearer(owner.key) });
    assert.ok(grant.statusCode < 300, grant.body);
    const userKey = await t.request({ method: 'POST', url: '/api/v1.1/project/gh/acme/web/checkout-key', headers: bearer(owner.key), payload: { type: 'user-key' } });
    assert.equal(userKey.statusCode, 201, userKey.body);
    const fingerprint = (userKey.json() as { fingerprint: string }).fingerprint;
    await t.services.mail.deliverDue();
    const m = to(smtp, 'alice@acme.test');
    assert.equal(m.length, 1, JSON.stringify(m.map((x) => x.subject)));
    assert.equal(m[0]!.subject, 'New SSH key on your Keysmith account: "Keysmith checkout key for gh/acme/web"');
    assert.ok(m[0]!.text.includes(`MD5:${fingerprint}`), m[0]!.text);
  });

  test('a user API key reported as leaked: "revoked as leaked", what to do, no secret', async () => {
    const dave = await addPerson(t, 'dave', 'dave@example.test');
    await t.services.mail.deliverDue();
    const res = await t.request({ method: 'POST', url: '/v1/credentials/revoke', payload: { credentials: [dave.key] } });
    assert.equal(res.statusCode, 202, res.body);
    await t.services.mail.deliverDue();
    const m = to(smtp, 'dave@example.test').find((x) => /leaked/.test(x.subject))!;
    assert.ok(m, 'a message about the leak');
    assert.equal(m.subject, `Your API key "dave's key" was revoked as leaked`);
    assert.ok(m.text.includes(dave.start));
    assert.match(m.text, /It no longer works; make a new one at .*\/settings\/api-keys and replace it wherever it was used/);
    assert.ok(!m.raw.includes(dave.key));
    assert.ok(!t.logs.some((l) => l.includes('not emailed yet')));
  });

  test("the scheduler's notices: days left, dates, how to enable it again", async () => {
    const erin = await addPerson(t, 'erin', 'erin@example.test');
    await t.services.mail.deliverDue();
    const ssh = { type: 'ssh_key' as const, id: 41, name: 'old laptop', fingerprint: 'SHA256:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG' };
    const api = { type: 'user_api_key' as const, id: erin.keyId, name: "erin's key", fingerprint: erin.start };
    const notices: OwnerNotice[] = [
      { kind: 'expiring', userId: erin.userId, credential: ssh, daysLeft: 7, expiresAt: '2027-01-10T09:30:00.000Z' },
      { kind: 'expired', userId: erin.userId, credential: api, expiresAt: '2027-01-03T00:00:00.000Z' },
      { kind: 'dormant_warning', userId: erin.userId, credential: api, disablesAt: '2027-02-01T12:00:00.000Z' },
      { kind: 'disabled_dormant', userId: erin.userId, credential: ssh, unusedDays: 90 },
    ];
    await t.services.db.transaction().execute(async (trx) => {
      for (const n of notices) await t.services.mail.enqueue(trx, n);
    });
    t.services.mail.kick();
    await t.services.mail.deliverDue();
    const got = to(smtp, 'erin@example.test').slice(-4);
    const by = (re: RegExp) => got.find((m) => re.test(m.subject))!;

    const expiring = by(/expires/);
    assert.equal(expiring.subject, 'Your SSH key "old laptop" expires in 7 days');
    assert.ok(expiring.text.includes('2027-01-10 09:30 UTC'));
    assert.ok(expiring.text.includes(ssh.fingerprint));

    const expired = by(/has expired/);
    assert.ok(expired.text.includes('expired on 2027-01-03 00:00 UTC and no longer works'));
    assert.ok(expired.text.includes(erin.start));

    const warning = by(/will be disabled/);
    assert.equal(warning.subject, `Your API key "erin's key" will be disabled on 2027-02-01 12:00 UTC: it is not being used`);
    assert.match(warning.text, /use it once before then/);

    const disabled = by(/was disabled/);
    assert.equal(disabled.subject, 'Your SSH key "old laptop" was disabled: it was not used for 90 days');
    assert.ok(disabled.text.includes(`POST /v1/user/ssh-keys/41/enable`));
    assert.ok(disabled.text.includes(`curl -X POST -H "Authorization: Bearer <your user API key>" ${t.config.publicUrl}/v1/user/ssh-keys/41/enable`));
    assert.match(disabled.text, /It was not deleted/);
  });

  test('a user without an address: nothing is queued, and the change goes through', async () => {
    const frank = await addPerson(t, 'frank', null);
    const before = await rowCount(t, 'mail_outbox');
    const res = await t.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bearer(frank.key), payload: { title: 'k', key: ed25519Line() } });
    assert.equal(res.statusCode, 201, res.body);
    await t.services.db
      .transaction()
      .execute((trx) => t.services.mail.enqueue(trx, { kind: 'expired', userId: frank.userId, credential: { type: 'user_api_key', id: frank.keyId, name: 'k', fingerprint: frank.start } }));
    assert.equal(await rowCount(t, 'mail_outbox'), before);
  });

  test('an SMTP server answering 451 is tried again on the backoff, and the message arrives once', async () => {
    const gina = await addPerson(t, 'gina', 'gina@example.test');
    await t.services.mail.deliverDue();
    smtp.answers.push(451);
    await t.services.db
      .transaction()
      .execute((trx) =>
        t.services.mail.enqueue(trx, { kind: 'expiring', userId: gina.userId, credential: { type: 'user_api_key', id: gina.keyId, name: 'retry me', fingerprint: gina.start }, daysLeft: 1 }),
      );
    await t.services.mail.deliverDue();
    assert.equal(to(smtp, 'gina@example.test').filter((m) => m.subject.includes('retry me')).length, 0);
    const row = await t.services.db.selectFrom('mail_outbox').selectAll().where('subject', 'like', '%retry me%').executeTakeFirstOrThrow();
    assert.equal(row.attempts, 1);
    assert.equal(row.sent_at, null);
    assert.match(row.last_error ?? '', /451/);
    assert.ok(!(row.last_error ?? '').includes('gina@example.test'), 'the address is not kept in the error');
    const warned = t.logs.find((l) => l.includes('email not sent; will try again'))!;
    assert.ok(warned.includes('"domain":"example.test"') && !warned.includes('gina@'), warned);
    assert.ok(!t.logs.some((l) => l.includes('retry me')), 'no subject or body in the logs');

    // Not before its time; then once.
    clock.advance((MAIL_RETRY_DELAYS_SECONDS[0] - 5) * 1000);
    await t.services.mail.deliverDue();
    assert.equal(to(smtp, 'gina@example.test').filter((m) => m.subject.includes('retry me')).length, 0);
    clock.advance(10_000);
    await t.services.mail.deliverDue();
    await t.services.mail.deliverDue();
    assert.equal(to(smtp, 'gina@example.test').filter((m) => m.subject.includes('retry me')).length, 1);
    const sent = await t.services.db.selectFrom('mail_outbox').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
    assert.equal(sent.attempts, 2);
    assert.ok(sent.sent_at);
    const metrics = await t.services.metrics.text();
    assert.match(metrics, /keysmith_mail_sent_total\{outcome="failed"\} 1/);
    assert.match(metrics, /keysmith_mail_sent_total\{outcome="sent"\} \d+/);
  });

  test(`a message refused ${MAIL_MAX_ATTEMPTS} times is given up and logged; old sent mail is pruned`, async () => {
    const hal = await addPerson(t, 'hal', 'hal@example.test');
    await t.services.mail.deliverDue();
    await t.services.db
      .transaction()
      .execute((trx) => t.services.mail.enqueue(trx, { kind: 'expired', userId: hal.userId, credential: { type: 'user_api_key', id: hal.keyId, name: 'doomed', fingerprint: hal.start } }));
    for (let i = 0; i < MAIL_MAX_ATTEMPTS; i++) {
      smtp.answers.push(451);
      await t.services.mail.deliverDue();
      clock.advance(13 * 3600 * 1000);
    }
    const row = await t.services.db.selectFrom('mail_outbox').selectAll().where('subject', 'like', '%doomed%').executeTakeFirstOrThrow();
    assert.equal(row.attempts, MAIL_MAX_ATTEMPTS);
    assert.equal(row.next_attempt_at, null);
    assert.equal(row.sent_at, null);
    assert.ok(t.logs.some((l) => l.includes(`email not sent after ${MAIL_MAX_ATTEMPTS} attempts; given up`)));
    assert.equal(await t.services.mail.deliverDue(), 0);
    smtp.answers.length = 0;

    clock.advance(31 * 86_400_000);
    const removed = await t.services.mail.pruneOld();
    assert.ok(removed > 0);
    assert.equal(await rowCount(t, 'mail_outbox'), 0);
  });

  test('a name with CR/LF cannot add a header', async () => {
    const ivy = await addPerson(t, 'ivy', 'ivy@example.test');
    await t.services.mail.deliverDue();
    const name = 'evil\r\nBcc: victim@evil.test\r\nX-Injected: yes\n\nbody';
    await t.services.db
      .transaction()
      .execute((trx) => t.services.mail.enqueue(trx, { kind: 'created', userId: ivy.userId, credential: { type: 'user_api_key', id: ivy.keyId, name, fingerprint: 'ksu_ab\r\nX-Other: 1' } }));
    await t.services.mail.deliverDue();
    const m = to(smtp, 'ivy@example.test').find((x) => x.subject.includes('evil'))!;
    assert.deepEqual(m.to, ['ivy@example.test']);
    assert.ok(!smtp.received.some((x) => x.to.includes('victim@evil.test')));
    assert.doesNotMatch(m.headers, /^(bcc|x-injected|x-other):/im);
    assert.equal(m.subject, 'New API key on your Keysmith account: "evil Bcc: victim@evil.test X-Injected: yes body"');
  });
});

forEachDatabase('email off, and the SMTP password', (kind) => {
  test('without KEYSMITH_SMTP_URL nothing is queued and nothing fails', async (t) => {
    const app = await appFor(t, kind);
    const bob = await addPerson(app, 'bob', 'bob@example.test');
    const res = await app.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bearer(bob.key), payload: { title: 'k', key: ed25519Line() } });
    assert.equal(res.statusCode, 201, res.body);
    await app.services.db
      .transaction()
      .execute((trx) => app.services.mail.enqueue(trx, { kind: 'expired', userId: bob.userId, credential: { type: 'user_api_key', id: bob.keyId, name: 'k', fingerprint: bob.start } }));
    assert.equal(await rowCount(app, 'mail_outbox'), 0);
    assert.equal(await app.services.mail.deliverDue(), 0);
    const leaked = await app.request({ method: 'POST', url: '/v1/credentials/revoke', payload: { credentials: [bob.key] } });
    assert.equal(leaked.statusCode, 202);
    assert.ok(app.logs.some((l) => l.includes('its owner is not emailed (email is not configured)')));
  });

  test('a user and password in the URL sign in to the server and are never logged', async (t) => {
    const smtp = await startSmtp({ auth: { user: 'keysmith', pass: 's3cret/pa:ss' } });
    t.after(() => smtp.close());
    const app = await appFor(t, kind, { env: mailEnv(smtp, `keysmith:${encodeURIComponent('s3cret/pa:ss')}@`) });
    // The key made for bob is a new key on his account: one message, refused once.
    await addPerson(app, 'bob', 'bob@example.test');
    smtp.answers.push(451);
    await app.services.mail.deliverDue();
    await app.services.db
      .updateTable('mail_outbox')
      .set({ next_attempt_at: new Date(0).toISOString() })
      .where('sent_at', 'is', null)
      .execute();
    await app.services.mail.deliverDue();
    assert.equal(to(smtp, 'bob@example.test').length, 1, 'delivered after signing in');
    assert.ok(app.logs.some((l) => l.includes('email not sent; will try again')));
    for (const l of app.logs) assert.ok(!l.includes('s3cret') && !l.includes(encodeURIComponent('s3cret/pa:ss')), l);
  });
});

describe('mail settings', () => {
  const base = { KEYSMITH_MASTER_KEY: 'x' };
  test('both KEYSMITH_SMTP_URL and KEYSMITH_MAIL_FROM, or neither', () => {
    assert.equal(loadConfig(base).mail, undefined);
    assert.equal(loadConfig({ ...base, KEYSMITH_SMTP_URL: ' ', KEYSMITH_MAIL_FROM: '' }).mail, undefined);
    assert.deepEqual(loadConfig({ ...base, KEYSMITH_SMTP_URL: 'smtp://mail.example.com:587', KEYSMITH_MAIL_FROM: 'keysmith@example.com' }).mail, {
      smtpUrl: 'smtp://mail.example.com:587',
      from: 'keysmith@example.com',
    });
    assert.throws(
      () => loadConfig({ ...base, KEYSMITH_SMTP_URL: 'smtp://mail.example.com:587' }),
      (err: unknown) => err instanceof ConfigError && /needs both/.test(err.message),
    );
    assert.throws(
      () => loadConfig({ ...base, KEYSMITH_MAIL_FROM: 'keysmith@example.com' }),
      (err: unknown) => err instanceof ConfigError && /needs both/.test(err.message),
    );
  });

  test('a bad URL or sender is refused with a sentence', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['not a url', 'keysmith@example.com', /must be a URL such as smtp:\/\/mail\.example\.com:587/],
      ['http://mail.example.com', 'keysmith@example.com', /must start with smtp:\/\/ or smtps:\/\//],
      ['smtp://mail.example.com', 'keysmith', /KEYSMITH_MAIL_FROM must be an email address/],
      ['smtp://mail.example.com', 'Keysmith <nobody>', /KEYSMITH_MAIL_FROM must be an email address/],
    ];
    for (const [url, from, message] of cases) {
      assert.throws(
        () => loadConfig({ ...base, KEYSMITH_SMTP_URL: url, KEYSMITH_MAIL_FROM: from }),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
        `${url} / ${from}`,
      );
    }
  });

  test('the transport: the port by scheme, short time-outs, the user and password decoded', () => {
    assert.deepEqual(
      { ...transportOptions('smtp://mail.example.com') },
      { host: 'mail.example.com', port: 587, secure: false, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 10_000, pool: false },
    );
    const secure = transportOptions('smtps://me%40example.com:p%2Fw@mail.example.com');
    assert.equal(secure.port, 465);
    assert.equal(secure.secure, true);
    assert.deepEqual(secure.auth, { user: 'me@example.com', pass: 'p/w' });
    assert.equal(transportOptions('smtp://[::1]:2525').host, '::1');
  });
});
