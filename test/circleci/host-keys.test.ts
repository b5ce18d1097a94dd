// Per-host SSH keys (additional SSH keys): parsed before storing, each refusal its own sentence, and
// listed without the private half.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { test } from 'node:test';
import { bearer, forEachDatabase } from '../harness.ts';
import { sshKeygen } from '../ssh-fixtures.ts';
import { v1, started } from './helpers.ts';

forEachDatabase('CircleCI-compatible keys and grants', (kind) => {
  test('per-host SSH keys: parsed before storing, each refusal its own sentence, listed without the private half', async (t) => {
    const { app, alice } = await started(t, kind);
    const client = v1(app, alice.key);
    const generated = sshKeygen('ed25519');
    const added = await app.request({
      method: 'POST',
      url: '/api/v1.1/project/gh/acme/web/ssh-key',
      headers: bearer(alice.key),
      payload: { hostname: 'deploy.example.com', private_key: generated.privateKey },
    });
    assert.equal(added.statusCode, 201, added.body);
    assert.equal(added.json().public_key, generated.publicLine.split(' ').slice(0, 2).join(' '));
    await client.addSSHKey({ hostname: '', private_key: sshKeygen('ecdsa', 256).privateKey } as never);

    const protectedKey = fs.readFileSync(execFileSync('sh', ['-c', `d=$(mktemp -d); ssh-keygen -q -t ed25519 -N secret-pass -f $d/k; echo $d/k`], { encoding: 'utf8' }).trim(), 'utf8');
    const cases: Array<[string, string, number, RegExp]> = [
      ['passphrase', protectedKey, 422, /passphrase/],
      ['public key', generated.publicLine, 422, /public half/],
      ['garbage', 'hello world', 422, /private key/],
    ];
    for (const [label, privateKey, status, sentence] of cases) {
      const res = await app.request({ method: 'POST', url: '/api/v1.1/project/gh/acme/web/ssh-key', headers: bearer(alice.key), payload: { hostname: 'x.example.com', private_key: privateKey } });
      assert.equal(res.statusCode, status, `${label}: ${res.body}`);
      assert.match(res.json().message, sentence, label);
      for (const line of privateKey.split('\n').filter((l) => l.length > 30)) assert.ok(!res.body.includes(line), `${label}: not echoed`);
    }
    const longHost = await app.request({
      method: 'POST',
      url: '/api/v1.1/project/gh/acme/web/ssh-key',
      headers: bearer(alice.key),
      payload: { hostname: 'h'.repeat(254), private_key: generated.privateKey },
    });
    assert.equal(longHost.statusCode, 400);
    assert.match(longHost.json().message, /"hostname" must be at most 253 characters/);

    const listed = await app.request({ method: 'GET', url: '/v1/projects/gh/acme/web/ssh-keys', headers: bearer(alice.key) });
    assert.deepEqual(
      listed.json().map((k: { hostname: string }) => k.hostname),
      ['', 'deploy.example.com'],
    );
    assert.ok(!listed.body.includes('PRIVATE KEY'));
    const gone = await app.request({
      method: 'DELETE',
      url: '/api/v1.1/project/gh/acme/web/ssh-key',
      headers: bearer(alice.key),
      payload: { fingerprint: added.json().fingerprint, hostname: 'deploy.example.com' },
    });
    assert.deepEqual(gone.json(), { message: 'ok' });
    const again = await app.request({
      method: 'DELETE',
      url: '/api/v1.1/project/gh/acme/web/ssh-key',
      headers: bearer(alice.key),
      payload: { fingerprint: added.json().fingerprint, hostname: 'deploy.example.com' },
    });
    assert.equal(again.statusCode, 404);
    assert.equal((await app.services.db.selectFrom('host_keys').select('id').execute()).length, 1);
  });
});
