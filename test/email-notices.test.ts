// GET /v1/user/email-notices: the notices a person is emailed about, in the order of OwnerNoticeKind,
// and whether anything is sent: only when the server has SMTP settings and the user has an address.
// A service key is refused (the notices are about a person's own keys). On SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addServiceKey, addUser, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase, type TestApp } from './harness.ts';

const MAIL_ENV = { KEYSMITH_SMTP_URL: 'smtp://127.0.0.1:2525', KEYSMITH_MAIL_FROM: 'Keysmith <keysmith@example.com>' };
const KINDS = ['created', 'expiring', 'expired', 'revoked_leaked', 'dormant_warning', 'disabled_dormant'];

interface Answer {
  email_enabled: boolean;
  mail_configured: boolean;
  address: string | null;
  notices: Array<{ kind: string; description: string }>;
}

const notices = (app: TestApp, headers: Record<string, string>) => app.request({ method: 'GET', url: '/v1/user/email-notices', headers });

/** A user with an address (set by the site admin when creating them) and a console session. */
async function userWithEmail(app: TestApp, adminKey: string, login: string, email: string) {
  const password = `${login} has a long enough passphrase`;
  const created = await app.request({ method: 'POST', url: '/v1/admin/users', headers: bearer(adminKey), payload: { login, password, email } });
  assert.equal(created.statusCode, 201, created.body);
  const session = await app.request({ method: 'POST', url: '/v1/session', payload: { login, password } });
  assert.equal(session.statusCode, 200, session.body);
  return { cookie: String(session.headers['set-cookie']).split(';')[0]! };
}

forEachDatabase('email notices', (kind) => {
  test('with SMTP set, a user with an address is emailed about every kind of notice, in order', async (t) => {
    const app = await appFor(t, kind, { env: MAIL_ENV });
    const alice = await seed(app);
    const bob = await userWithEmail(app, alice.key, 'bob', 'bob@example.com');
    const res = await notices(app, { cookie: bob.cookie });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as Answer;
    assert.equal(body.email_enabled, true);
    assert.equal(body.mail_configured, true);
    assert.equal(body.address, 'bob@example.com');
    assert.deepEqual(
      body.notices.map((n) => n.kind),
      KINDS,
    );
    for (const n of body.notices) assert.match(n.description, /^[A-Z].+\.$/, `${n.kind} has a sentence`);
    assert.equal(body.notices[0]!.description, 'A new SSH key or API key is added to your account.');
    assert.match(body.notices[1]!.description, /30, 7 or 1 days/);
    assert.ok(!res.body.includes('smtp://'), 'the SMTP settings are not shown');
  });

  test('with SMTP set, a user without an address is not emailed (and a user API key works too)', async (t) => {
    const app = await appFor(t, kind, { env: MAIL_ENV });
    const alice = await seed(app);
    const carol = await addUser(app, 'carol');
    const res = await notices(app, bearer(carol.key));
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as Answer;
    assert.deepEqual({ enabled: body.email_enabled, configured: body.mail_configured, address: body.address }, { enabled: false, configured: true, address: null });
    assert.equal(body.notices.length, KINDS.length, 'the list is there, to say what would be sent');
    // Once a site admin gives her an address, she is emailed.
    const patched = await app.request({ method: 'PATCH', url: '/v1/admin/users/carol', headers: bearer(alice.key), payload: { email: 'carol@example.com' } });
    assert.equal(patched.statusCode, 200, patched.body);
    const after = (await notices(app, bearer(carol.key))).json() as Answer;
    assert.deepEqual({ enabled: after.email_enabled, address: after.address }, { enabled: true, address: 'carol@example.com' });
  });

  test('without SMTP settings nobody is emailed, even with an address', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const bob = await userWithEmail(app, alice.key, 'bob', 'bob@example.com');
    const body = (await notices(app, { cookie: bob.cookie })).json() as Answer;
    assert.deepEqual({ enabled: body.email_enabled, configured: body.mail_configured, address: body.address }, { enabled: false, configured: false, address: 'bob@example.com' });
    assert.deepEqual(
      body.notices.map((n) => n.kind),
      KINDS,
    );
    const carol = await addUser(app, 'carol');
    const none = (await notices(app, bearer(carol.key))).json() as Answer;
    assert.deepEqual({ enabled: none.email_enabled, configured: none.mail_configured, address: none.address }, { enabled: false, configured: false, address: null });
  });

  test('a service key is refused with a sentence; no credential is a 401', async (t) => {
    const app = await appFor(t, kind, { env: MAIL_ENV });
    const alice = await seed(app);
    const service = await addServiceKey(app, alice.key, 'acme', 'admin');
    const res = await notices(app, bearer(service.key));
    assert.equal(res.statusCode, 403, res.body);
    const error = (res.json() as { error: { code: string; message: string } }).error;
    assert.equal(error.code, 'user_key_required');
    assert.match(error.message, /^Email notices are about a person's own keys, so this needs a user's own API key/);
    assert.equal((await notices(app, {})).statusCode, 401);
  });
});
