// /v1/ssh/authorize for certificates, on SQLite and PostgreSQL: `cert-<serial>` (the forced command of an
// authorized-principals line in git mode) acts as its user's membership, or — for a runner certificate —
// as a read-only deploy key of its one project; a revoked or expired certificate reaches nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addProject, addServiceKey, addUser, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase, testClock, type TestApp } from './harness.ts';
import { ed25519Line } from './ssh-fixtures.ts';

type Decision = { allowed: boolean; message: string; identity: { type: string; login?: string; project?: string; read_only?: boolean } | null };

async function userCert(app: TestApp, key: string) {
  const line = ed25519Line();
  assert.equal((await app.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bearer(key), payload: { key: line } })).statusCode, 201);
  const res = await app.request({ method: 'POST', url: '/v1/user/ssh-certificates', headers: bearer(key), payload: { public_key: line, account: 'acme', ttl_seconds: 3600 } });
  assert.equal(res.statusCode, 201, res.body);
  return (res.json() as { serial: number }).serial;
}

forEachDatabase('SSH certificates in /v1/ssh/authorize', (kind) => {
  test('cert-<serial>: a user certificate acts with its role, a runner certificate reads its own project only, a revoked or expired one nothing', async (t) => {
    const clock = testClock(new Date());
    const app = await appFor(t, kind, { clock });
    const alice = await seed(app);
    const dan = await addUser(app, 'dan', { account: 'acme', role: 'read_only', by: alice.key });
    await addProject(app, alice.key, 'acme', 'web');
    await addProject(app, alice.key, 'acme', 'api');
    const server = await addServiceKey(app, alice.key, 'acme', 'ssh_server');
    const runner = await addServiceKey(app, alice.key, 'acme', 'runner');
    const ask = async (key: string, project: string, access: 'read' | 'write') => {
      const res = await app.request({ method: 'POST', url: '/v1/ssh/authorize', headers: bearer(server.key), payload: { key, project, access } });
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as Decision;
    };

    const alices = await userCert(app, alice.key);
    const dans = await userCert(app, dan.key);
    assert.deepEqual(await ask(`cert-${alices}`, 'gh/acme/web', 'write'), { allowed: true, message: 'alice may push to gh/acme/web.', identity: { type: 'user', login: 'alice' } });
    const danPush = await ask(`cert-${dans}`, 'gh/acme/web', 'write');
    assert.equal(danPush.allowed, false);
    assert.match(danPush.message, /read_only role in acme/);
    assert.equal((await ask(`cert-${dans}`, 'gh/acme/web', 'read')).allowed, true);

    const issued = await app.request({ method: 'POST', url: '/v1/projects/gh/acme/web/checkout-certificate', headers: bearer(runner.key), payload: { public_key: ed25519Line() } });
    assert.equal(issued.statusCode, 201, issued.body);
    const runners = `cert-${(issued.json() as { serial: number }).serial}`;
    assert.deepEqual(await ask(runners, 'gh/acme/web', 'read'), {
      allowed: true,
      message: 'The runner certificate of gh/acme/web may read it.',
      identity: { type: 'deploy_key', project: 'gh/acme/web', read_only: true },
    });
    const runnerPush = await ask(runners, 'gh/acme/web', 'write');
    assert.equal(runnerPush.allowed, false);
    assert.match(runnerPush.message, /can clone and fetch but never push/);
    const elsewhere = await ask(runners, 'gh/acme/api', 'read');
    assert.equal(elsewhere.allowed, false);
    assert.match(elsewhere.message, /reaches that repository only, not gh\/acme\/api/);

    // Revoked: refused on the next question, with a sentence about certificates.
    assert.equal((await app.request({ method: 'DELETE', url: `/v1/accounts/acme/ssh-certificates/${dans}`, headers: bearer(alice.key) })).statusCode, 204);
    const revoked = await ask(`cert-${dans}`, 'gh/acme/web', 'read');
    assert.deepEqual({ allowed: revoked.allowed, identity: revoked.identity }, { allowed: false, identity: null });
    assert.match(revoked.message, /does not accept this SSH certificate for acme/);
    assert.equal((await ask('cert-999999', 'gh/acme/web', 'read')).allowed, false, 'an unknown serial');

    // Expired: the runner's 10-minute certificate and alice's hour.
    clock.advance(3601_000);
    assert.equal((await ask(runners, 'gh/acme/web', 'read')).allowed, false);
    assert.equal((await ask(`cert-${alices}`, 'gh/acme/web', 'read')).allowed, false);

    // Every decision is in the audit trail, under the certificate's name.
    const audited = await app.services.db.selectFrom('audit_events').select('details').where('action', '=', 'ssh.access').execute();
    assert.equal(audited.length, 10);
    assert.ok(audited.every((row) => /"key":"cert-\d+"/.test(typeof row.details === 'string' ? row.details : JSON.stringify(row.details))));

    const bad = await app.request({ method: 'POST', url: '/v1/ssh/authorize', headers: bearer(server.key), payload: { key: 'cert-0', project: 'gh/acme/web', access: 'read' } });
    assert.equal(bad.statusCode, 400);
  });
});
