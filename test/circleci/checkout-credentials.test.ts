// End to end: a runner fetches checkout-credentials, and ssh-keygen confirms each private key matches
// its public key and fingerprints; nobody else gets the private halves.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { addServiceKey } from '../factories.ts';
import { bearer, forEachDatabase } from '../harness.ts';
import { sshKeygen } from '../ssh-fixtures.ts';
import { type CheckoutKey, v1, keyFile, started } from './helpers.ts';

forEachDatabase('CircleCI-compatible keys and grants', (kind) => {
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
    const body = res.json() as {
      checkout_key: { fingerprint: string; private_key: string; type: string };
      ssh_keys: Array<{ hostname: string; fingerprint: string; fingerprint_sha256: string; private_key: string }>;
    };
    assert.equal(body.checkout_key.fingerprint, checkout.fingerprint);
    const file = keyFile(body.checkout_key.private_key);
    assert.equal(execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).trim().split(' ').slice(0, 2).join(' '), checkout.public_key);
    assert.equal(execFileSync('ssh-keygen', ['-l', '-E', 'md5', '-f', file], { encoding: 'utf8' }).split(' ')[1], `MD5:${checkout.fingerprint}`);
    assert.equal(execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', file], { encoding: 'utf8' }).split(' ')[1], checkout.fingerprint_sha256);
    const hostKey = body.ssh_keys[0]!;
    assert.equal(hostKey.hostname, 'prod.example.com');
    assert.equal(
      execFileSync('ssh-keygen', ['-y', '-f', keyFile(hostKey.private_key)], { encoding: 'utf8' })
        .trim()
        .split(' ')
        .slice(0, 2)
        .join(' '),
      host.publicLine.split(' ').slice(0, 2).join(' '),
    );
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
