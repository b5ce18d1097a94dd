// The account SSH CA over HTTP, on SQLite and PostgreSQL: the CA's keys, rotation and the public
// file; user and runner certificates with every refusal; records, lists, revocation and the KRL;
// ssh-keygen as the oracle for what we sign (-L) and for the KRL (-Q).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { masterKeyFrom } from '../src/crypto/envelope.ts';
import { loadKeyRing } from '../src/crypto/master-key.ts';
import { rotateMasterKey } from '../src/modules/master-key/rotate.service.ts';
import { createServices } from '../src/services.ts';
import { addProject, addServiceKey, addUser, rowCount, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase, type TestApp } from './harness.ts';
import { ed25519Line } from './ssh-fixtures.ts';
import { needsSshKeygen } from './ssh-certificate/helpers.ts';
import { run, SSH_KEYGEN } from './ssh-public-key/helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'keysmith-ssh-ca-'));
let files = 0;
const fileWith = (content: string | Buffer): string => {
  const file = join(dir, `f${++files}`);
  writeFileSync(file, content);
  return file;
};

async function keygenList(certificate: string): Promise<string> {
  const { stdout } = await run(SSH_KEYGEN, ['-L', '-f', fileWith(`${certificate}\n`)], { env: { ...process.env, TZ: 'UTC' } });
  return stdout;
}

async function keygenRevoked(krl: Buffer, certificate: string): Promise<boolean> {
  const result = await run(SSH_KEYGEN, ['-Q', '-f', fileWith(krl), fileWith(`${certificate}\n`)]).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
  );
  assert.match(result.stdout, result.code === 0 ? /: ok\n$/ : /: REVOKED\n$/, `ssh-keygen -Q exit ${result.code}: ${result.stdout}`);
  return result.code !== 0;
}

const keygenTime = (iso: string) => iso.slice(0, 19);

interface Issued {
  serial: number;
  key_id: string;
  principals: string[];
  valid_after: string;
  valid_before: string;
  certificate: string;
}

async function world(app: TestApp) {
  const alice = await seed(app);
  const dan = await addUser(app, 'dan', { account: 'acme', role: 'read_only', by: alice.key });
  const eve = await addUser(app, 'eve');
  assert.equal((await app.request({ method: 'POST', url: '/v1/accounts', headers: bearer(eve.key), payload: { name: 'evecorp' } })).statusCode, 201);
  await addProject(app, alice.key, 'acme', 'web');
  const runner = await addServiceKey(app, alice.key, 'acme', 'runner');
  const readWrite = await addServiceKey(app, alice.key, 'acme', 'read_write');
  return { alice, dan, eve, runner, readWrite };
}

async function addOwnKey(app: TestApp, key: string): Promise<string> {
  const line = ed25519Line('laptop');
  const res = await app.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bearer(key), payload: { key: line } });
  assert.equal(res.statusCode, 201, res.body);
  return line;
}

async function userCert(app: TestApp, key: string, payload: Record<string, unknown>) {
  return app.request({ method: 'POST', url: '/v1/user/ssh-certificates', headers: bearer(key), payload });
}

async function auditDetails(app: TestApp, key: string, action: string) {
  const res = await app.request({ method: 'GET', url: `/v1/audit-events?action=${action}`, headers: { ...bearer(key), 'x-keysmith-account': 'acme' } });
  assert.equal(res.statusCode, 200, res.body);
  return (res.json() as { details: Record<string, unknown> }[]).map((e) => e.details);
}

function assertRefusal(res: { statusCode: number; body: string }, status: number, code: string, sentence: RegExp) {
  assert.equal(res.statusCode, status, res.body);
  const { error } = JSON.parse(res.body) as { error: { code: string; message: string } };
  assert.equal(error.code, code, res.body);
  assert.match(error.message, sentence);
}

forEachDatabase('account SSH CA', (kind) => {
  test('the CA is made on first use, once, audited; ssh-ca.pub is public text; rotation keeps the previous key trusted until dropped', async (t) => {
    const app = await appFor(t, kind);
    const w = await world(app);
    assert.equal((await app.request({ method: 'GET', url: '/v1/accounts/acme/ssh-ca.pub' })).body, '', 'no CA before first use');

    const first = await app.request({ method: 'GET', url: '/v1/accounts/acme/ssh-ca', headers: bearer(w.dan.key) });
    assert.equal(first.statusCode, 200, first.body);
    const [active] = (first.json() as { keys: { public_key: string; fingerprint_sha256: string; state: string }[] }).keys;
    assert.equal(active!.state, 'active');
    assert.match(active!.public_key, /^ssh-ed25519 AAAA[A-Za-z0-9+/=]+$/);
    assert.match(active!.fingerprint_sha256, /^SHA256:[A-Za-z0-9+/]{43}$/);
    const again = await app.request({ method: 'GET', url: '/v1/accounts/acme/ssh-ca', headers: bearer(w.runner.key) });
    assert.deepEqual(again.json(), first.json(), 'the same CA for a service key of the account, not a second one');
    assert.equal((await auditDetails(app, w.alice.key, 'ssh_ca.create')).length, 1);

    const pub = await app.request({ method: 'GET', url: '/v1/accounts/ACME/ssh-ca.pub' });
    assert.equal(pub.statusCode, 200);
    assert.match(String(pub.headers['content-type']), /^text\/plain/);
    assert.equal(pub.body, `${active!.public_key} keysmith-ca:acme:active\n`);
    assert.equal((await app.request({ method: 'GET', url: '/v1/accounts/nosuch/ssh-ca.pub' })).statusCode, 404);
    assert.equal((await app.request({ method: 'GET', url: '/v1/accounts/evecorp/ssh-ca', headers: bearer(w.dan.key) })).statusCode, 404, 'not a member');

    assertRefusal(await app.request({ method: 'POST', url: '/v1/accounts/acme/ssh-ca/rotate', headers: bearer(w.dan.key) }), 403, 'role_required', /admin or owner role in account acme/);
    const rotated = await app.request({ method: 'POST', url: '/v1/accounts/acme/ssh-ca/rotate', headers: bearer(w.alice.key) });
    assert.equal(rotated.statusCode, 201, rotated.body);
    const keys = (rotated.json() as { keys: { public_key: string; state: string }[] }).keys;
    assert.deepEqual(
      keys.map((k) => k.state),
      ['active', 'previous'],
    );
    assert.equal(keys[1]!.public_key, active!.public_key);
    assert.notEqual(keys[0]!.public_key, active!.public_key);
    const both = (await app.request({ method: 'GET', url: '/v1/accounts/acme/ssh-ca.pub' })).body;
    assert.equal(both, `${keys[0]!.public_key} keysmith-ca:acme:active\n${active!.public_key} keysmith-ca:acme:previous\n`);
    assertRefusal(await app.request({ method: 'POST', url: '/v1/accounts/acme/ssh-ca/rotate', headers: bearer(w.alice.key) }), 409, 'conflict', /already has a previous SSH CA key/);

    assertRefusal(await app.request({ method: 'DELETE', url: '/v1/accounts/acme/ssh-ca/previous', headers: bearer(w.dan.key) }), 403, 'role_required', /admin or owner/);
    assert.equal((await app.request({ method: 'DELETE', url: '/v1/accounts/acme/ssh-ca/previous', headers: bearer(w.alice.key) })).statusCode, 204);
    assert.equal((await app.request({ method: 'GET', url: '/v1/accounts/acme/ssh-ca.pub' })).body, `${keys[0]!.public_key} keysmith-ca:acme:active\n`);
    assertRefusal(await app.request({ method: 'DELETE', url: '/v1/accounts/acme/ssh-ca/previous', headers: bearer(w.alice.key) }), 404, 'not_found', /has no previous SSH CA key/);
    assert.equal((await auditDetails(app, w.alice.key, 'ssh_ca.rotate')).length, 1);
    assert.equal((await auditDetails(app, w.alice.key, 'ssh_ca.drop_previous')).length, 1);
  });

  test('a user certificate for your own key: the fields of the contract, read back by ssh-keygen -L', needsSshKeygen, async (t) => {
    const app = await appFor(t, kind);
    const w = await world(app);
    const line = await addOwnKey(app, w.alice.key);
    const res = await userCert(app, w.alice.key, { public_key: line });
    assert.equal(res.statusCode, 201, res.body);
    const cert = res.json() as Issued;
    assert.equal(cert.serial, 1);
    assert.equal(cert.key_id, 'user:alice');
    assert.deepEqual(cert.principals, ['alice']);
    const after = Date.parse(cert.valid_after) / 1000;
    const before = Date.parse(cert.valid_before) / 1000;
    assert.equal(before - after, 8 * 3600 + 60, '8 hours, from 60 s in the past');
    assert.ok(Math.abs(after + 60 - Date.now() / 1000) < 600, 'valid_after is about now minus a minute');
    assert.match(cert.certificate, /^ssh-ed25519-cert-v01@openssh\.com [A-Za-z0-9+/=]+$/);

    const ca = ((await app.request({ method: 'GET', url: '/v1/accounts/acme/ssh-ca', headers: bearer(w.alice.key) })).json() as { keys: { fingerprint_sha256: string }[] }).keys[0]!;
    const listing = await keygenList(cert.certificate);
    assert.match(listing, /Type: ssh-ed25519-cert-v01@openssh\.com user certificate/);
    assert.match(listing, new RegExp(`Signing CA: ED25519 ${ca.fingerprint_sha256.replace(/[+/]/g, '\\$&')} \\(using ssh-ed25519\\)`));
    assert.match(listing, /Key ID: "user:alice"/);
    assert.match(listing, /Serial: 1\n/);
    assert.match(listing, new RegExp(`Valid: from ${keygenTime(cert.valid_after)} to ${keygenTime(cert.valid_before)}`));
    assert.match(listing, /Principals: \n\s+alice\n/);
    assert.match(listing, /Critical Options: \(none\)/);
    assert.match(listing, /Extensions: \n\s+permit-X11-forwarding\n\s+permit-agent-forwarding\n\s+permit-port-forwarding\n\s+permit-pty\n\s+permit-user-rc\n/);

    const second = (await userCert(app, w.alice.key, { public_key: line, account: 'acme', ttl_seconds: 3600 })).json() as Issued;
    assert.equal(second.serial, 2, 'serials increase');
    assert.equal(Date.parse(second.valid_before) - Date.parse(second.valid_after), 3660_000);
    const audited = await auditDetails(app, w.alice.key, 'ssh_certificate.issue');
    assert.deepEqual(
      audited.map((d) => [d.serial, d.key_id, d.principals]),
      [
        [2, 'user:alice', 'alice'],
        [1, 'user:alice', 'alice'],
      ],
    );
  });

  test('user certificates are refused, with a sentence and nothing written, for a key not yours, a long TTL, another account or a service key', async (t) => {
    const app = await appFor(t, kind);
    const w = await world(app);
    const line = await addOwnKey(app, w.dan.key);
    assertRefusal(await userCert(app, w.alice.key, { public_key: line }), 400, 'validation_failed', /is not one of your SSH keys/);
    assertRefusal(await userCert(app, w.dan.key, { public_key: line, ttl_seconds: 86_401 }), 400, 'validation_failed', /ttl_seconds must be a whole number from 60 to 86400 \(24 hours\)/);
    assertRefusal(await userCert(app, w.dan.key, { public_key: line, ttl_seconds: 59 }), 400, 'validation_failed', /from 60 to 86400/);
    assertRefusal(await userCert(app, w.dan.key, { public_key: line, account: 'evecorp' }), 404, 'not_found', /Account evecorp was not found/);
    assertRefusal(await userCert(app, w.dan.key, { public_key: 'ssh-ed25519 AAAAnotakey' }), 422, 'key_malformed', /./);
    assertRefusal(await userCert(app, w.runner.key, { public_key: line }), 403, 'user_key_required', /service API key/);
    const eveLine = await addOwnKey(app, w.eve.key);
    assert.equal((await userCert(app, w.eve.key, { public_key: eveLine, account: 'acme' })).statusCode, 404, 'eve is no member of acme');
    assert.equal(await rowCount(app, 'ssh_certificates'), 0);
  });

  test('a runner certificate: deploy principal, runner key id, no extensions, 10 minutes; runner keys only', needsSshKeygen, async (t) => {
    const app = await appFor(t, kind);
    const w = await world(app);
    const url = '/v1/projects/gh/acme/web/checkout-certificate';
    const line = ed25519Line('job 42');
    const res = await app.request({ method: 'POST', url, headers: bearer(w.runner.key), payload: { public_key: line } });
    assert.equal(res.statusCode, 201, res.body);
    const cert = res.json() as Issued;
    assert.deepEqual(cert.principals, ['deploy:gh/acme/web']);
    assert.equal(cert.key_id, `runner:${w.runner.id}:gh/acme/web`);
    assert.equal(Date.parse(cert.valid_before) - Date.parse(cert.valid_after), 660_000);
    const listing = await keygenList(cert.certificate);
    assert.match(listing, /Principals: \n\s+deploy:gh\/acme\/web\n/);
    assert.match(listing, new RegExp(`Key ID: "runner:${w.runner.id}:gh/acme/web"`));
    assert.match(listing, /Extensions: \(none\)/);

    assertRefusal(await app.request({ method: 'POST', url, headers: bearer(w.runner.key), payload: { public_key: line, ttl_seconds: 3601 } }), 400, 'validation_failed', /from 60 to 3600 \(1 hour\)/);
    assertRefusal(await app.request({ method: 'POST', url, headers: bearer(w.readWrite.key), payload: { public_key: line } }), 403, 'role_required', /runner role/);
    assertRefusal(await app.request({ method: 'POST', url, headers: bearer(w.alice.key), payload: { public_key: line } }), 403, 'role_required', /runner role/);
    assert.equal((await app.request({ method: 'POST', url: '/v1/projects/gh/acme/nosuch/checkout-certificate', headers: bearer(w.runner.key), payload: { public_key: line } })).statusCode, 404);
    assert.equal(await rowCount(app, 'ssh_certificates'), 1);
  });

  test('lists, revocation by its user or an admin, and the KRL that ssh-keygen -Q reads, under the active and the previous CA key', needsSshKeygen, async (t) => {
    const app = await appFor(t, kind);
    const w = await world(app);
    const dans = (await userCert(app, w.dan.key, { public_key: await addOwnKey(app, w.dan.key) })).json() as Issued;
    const alices = (await userCert(app, w.alice.key, { public_key: await addOwnKey(app, w.alice.key) })).json() as Issued;
    const runners = (
      await app.request({ method: 'POST', url: '/v1/projects/gh/acme/web/checkout-certificate', headers: bearer(w.runner.key), payload: { public_key: ed25519Line() } })
    ).json() as Issued;

    const own = await app.request({ method: 'GET', url: '/v1/user/ssh-certificates', headers: bearer(w.dan.key) });
    assert.equal(own.statusCode, 200, own.body);
    const ownRows = own.json() as { serial: number; account: string; requested_by: string; revoked_at: string | null; key_fingerprint_sha256: string }[];
    assert.deepEqual(
      ownRows.map((r) => [r.serial, r.account, r.requested_by, r.revoked_at]),
      [[dans.serial, 'acme', 'user dan', null]],
    );
    assert.match(ownRows[0]!.key_fingerprint_sha256, /^SHA256:/);
    const all = await app.request({ method: 'GET', url: '/v1/accounts/acme/ssh-certificates', headers: bearer(w.alice.key) });
    assert.deepEqual(
      (all.json() as { serial: number; kind: string }[]).map((r) => [r.serial, r.kind]),
      [
        [3, 'runner'],
        [2, 'user'],
        [1, 'user'],
      ],
    );
    assertRefusal(await app.request({ method: 'GET', url: '/v1/accounts/acme/ssh-certificates', headers: bearer(w.dan.key) }), 403, 'role_required', /admin or owner/);

    // Rotate: certificates signed so far are under the previous key, and stay revocable.
    assert.equal((await app.request({ method: 'POST', url: '/v1/accounts/acme/ssh-ca/rotate', headers: bearer(w.alice.key) })).statusCode, 201);
    const krlOf = async () => {
      const res = await app.request({ method: 'GET', url: '/v1/accounts/acme/ssh-ca/krl' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'application/octet-stream');
      return res.rawPayload;
    };
    assert.equal(await keygenRevoked(await krlOf(), dans.certificate), false);

    assertRefusal(await app.request({ method: 'DELETE', url: `/v1/accounts/acme/ssh-certificates/${alices.serial}`, headers: bearer(w.dan.key) }), 403, 'role_required', /admin or owner/);
    assert.equal((await app.request({ method: 'DELETE', url: `/v1/accounts/acme/ssh-certificates/${dans.serial}`, headers: bearer(w.dan.key) })).statusCode, 204, 'its own user');
    assert.equal((await app.request({ method: 'DELETE', url: `/v1/accounts/acme/ssh-certificates/${runners.serial}`, headers: bearer(w.alice.key) })).statusCode, 204, 'an owner');
    assert.equal((await app.request({ method: 'DELETE', url: `/v1/accounts/acme/ssh-certificates/${runners.serial}`, headers: bearer(w.alice.key) })).statusCode, 204, 'again: nothing changes');
    assertRefusal(await app.request({ method: 'DELETE', url: '/v1/accounts/acme/ssh-certificates/99', headers: bearer(w.alice.key) }), 404, 'not_found', /SSH certificate 99 of account acme/);
    assert.equal((await app.request({ method: 'DELETE', url: '/v1/accounts/acme/ssh-certificates/0', headers: bearer(w.alice.key) })).statusCode, 400);

    const krl = await krlOf();
    assert.equal(await keygenRevoked(krl, dans.certificate), true);
    assert.equal(await keygenRevoked(krl, runners.certificate), true);
    assert.equal(await keygenRevoked(krl, alices.certificate), false);
    // A certificate of the new active key with a revoked serial's number is revoked too: serials are listed under every trusted key.
    const { stdout } = await run(SSH_KEYGEN, ['-Q', '-l', '-f', fileWith(krl)]);
    assert.equal((stdout.match(/^# CA key/gm) ?? []).length, 2, stdout);
    assert.equal((await auditDetails(app, w.alice.key, 'ssh_certificate.revoke')).length, 2);
    const revoked = ((await app.request({ method: 'GET', url: '/v1/user/ssh-certificates', headers: bearer(w.dan.key) })).json() as { revoked_at: string | null }[])[0]!;
    assert.ok(revoked.revoked_at !== null);
    assert.equal((await app.request({ method: 'GET', url: '/v1/accounts/nosuch/ssh-ca/krl' })).statusCode, 404);
  });

  test('master-key rotation re-wraps the CA: a server with only the new master key signs with the same CA', async (t) => {
    const app = await appFor(t, kind);
    const w = await world(app);
    const line = await addOwnKey(app, w.alice.key);
    const before = (await app.request({ method: 'GET', url: '/v1/accounts/acme/ssh-ca', headers: bearer(w.alice.key) })).json() as { keys: { fingerprint_sha256: string }[] };
    const oldRing = loadKeyRing(app.config).ring;
    const next = masterKeyFrom(randomBytes(32));
    const report = await rotateMasterKey(app.services, oldRing, next);
    assert.equal(report.rewrapped.ssh_ca_keys, 1);
    const onlyNew = createServices({ db: app.services.db, ring: { current: next, previous: [] }, config: app.config, logger: app.app.log as never });
    const ctx = {
      actor: { type: 'user' as const, userId: w.alice.userId, login: 'alice', isSiteAdmin: true, profile: { name: null, email: null, createdAt: '' }, credential: { kind: 'session' as const } },
      remoteAddr: null,
      userAgent: null,
    };
    const cert = await onlyNew.sshCa.issueUserCertificate(ctx, { publicKey: line });
    const fingerprintOfCa = (await onlyNew.sshCa.keys(ctx, 'acme'))[0]!.fingerprint_sha256;
    assert.equal(fingerprintOfCa, before.keys[0]!.fingerprint_sha256);
    assert.equal(cert.serial, 1);
    const stale = createServices({ db: app.services.db, ring: { current: oldRing.current, previous: [] }, config: app.config, logger: app.app.log as never });
    await assert.rejects(stale.sshCa.issueUserCertificate(ctx, { publicKey: line }), /master key/i, 'the old master key alone no longer opens it');
  });
});
