// The README's curl lines for the CircleCI-compatible API, host replaced, work unchanged.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bearer, forEachDatabase } from '../harness.ts';
import { sshKeygen } from '../ssh-fixtures.ts';
import { curl, started } from './helpers.ts';

forEachDatabase('CircleCI-compatible keys and grants', (kind) => {
  test("CircleCI's documented curl lines, host replaced, work unchanged", async (t) => {
    const { app, alice } = await started(t, kind);
    const base = `${app.url}/api/v1.1/project/github/acme/web`;
    const token = `circle-token=${alice.key}`;
    await app.request({ method: 'PUT', url: '/v1/user/grants/write:public_key', headers: bearer(alice.key) });
    const created = await curl(['-X', 'POST', '--header', 'Content-Type: application/json', '-d', '{"type":"github-user-key"}', `${base}/checkout-key?${token}`]);
    assert.equal(created.status, 201, created.body);
    const fingerprint = JSON.parse(created.body).fingerprint as string;
    const list = await curl([`${base}/checkout-key?${token}`]);
    assert.equal(JSON.parse(list.body)[0].fingerprint, fingerprint);
    assert.equal(JSON.parse((await curl([`${base}/checkout-key/${fingerprint}?${token}`])).body).type, 'github-user-key');
    assert.deepEqual(JSON.parse((await curl(['-X', 'DELETE', `${base}/checkout-key/${fingerprint}?${token}`])).body), { message: 'ok' });
    const privateKey = sshKeygen('rsa', 2048).privateKey;
    const ssh = await curl(['-X', 'POST', '--header', 'Content-Type: application/json', '-d', JSON.stringify({ hostname: 'hostname', private_key: privateKey }), `${base}/ssh-key?${token}`]);
    assert.equal(ssh.status, 201, ssh.body);
    // CircleCI's documented line leaves this body unquoted, which no shell passes through intact; quoted as intended:
    const del = await curl([
      '-X',
      'DELETE',
      '--header',
      'Content-Type: application/json',
      '-d',
      JSON.stringify({ fingerprint: JSON.parse(ssh.body).fingerprint, hostname: 'hostname' }),
      `${base}/ssh-key?${token}`,
    ]);
    assert.equal(del.status, 200, del.body);
    const heroku = await curl(['-X', 'POST', '--header', 'Content-Type: application/json', '-d', '{"apikey":"0123456789abcdef"}', `${app.url}/user/heroku-key?${token}`]);
    assert.equal(heroku.status, 201, heroku.body);
    assert.ok(!app.logs.join('\n').includes(alice.key), 'the circle-token query parameter is not logged');
  });
});
