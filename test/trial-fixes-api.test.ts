// The API side of the console fixes from the trial: a grant_required error carries the grant and the
// grant_url (naming the project that asked) as fields, beside the API text API clients read; adding a
// user who does not exist says they must be created first; a past expiry is refused with nothing
// written; a generated RSA checkout key is what ssh-keygen reads as RSA-4096.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { addProject, addUser, rowCount, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase } from './harness.ts';
import { keygenFingerprint } from './ssh-fixtures.ts';

forEachDatabase('trial fixes: the API', (kind) => {
  test('grant_required: grant and grant_url (with the asking project) are fields; the message keeps the API text', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme', 'web');
    const res = await app.request({ method: 'POST', url: '/v1/projects/gh/acme/web/checkout-keys', headers: bearer(alice.key), payload: { type: 'user' } });
    assert.equal(res.statusCode, 403);
    const error = res.json().error;
    assert.equal(error.code, 'grant_required');
    assert.equal(error.grant, 'write:public_key');
    assert.equal(error.grant_url, 'http://keysmith.test/settings/permissions?grant=write:public_key&project=gh/acme/web');
    assert.match(error.message, /PUT \/v1\/user\/grants\/write:public_key/, 'API clients keep the API text');
    assert.match(error.remedy, /settings\/permissions\?grant=write:public_key&project=gh\/acme\/web/);
    assert.equal(await rowCount(app, 'checkout_keys'), 0);

    // Any other error carries neither field.
    const other = (await app.request({ method: 'POST', url: '/v1/projects/gh/acme/nope/checkout-keys', headers: bearer(alice.key), payload: { type: 'deploy' } })).json().error;
    assert.equal(other.code, 'not_found');
    assert.equal(other.grant, undefined);
    assert.equal(other.grant_url, undefined);
  });

  test('adding a user who does not exist: 404 saying they must be created first, naming the field; nothing written', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const before = await rowCount(app, 'memberships');
    const res = await app.request({ method: 'PUT', url: '/v1/accounts/acme/members/nobody', headers: bearer(alice.key), payload: { role: 'read_only' } });
    assert.equal(res.statusCode, 404);
    const error = res.json().error;
    assert.equal(error.code, 'not_found');
    assert.equal(error.field, 'login');
    assert.equal(error.message, 'There is no user "nobody" in this Keysmith instance: a user must be created before they can be added to an account.');
    assert.match(error.remedy, /site admin/);
    assert.equal(await rowCount(app, 'memberships'), before);

    // An account the caller cannot see is still the plain 404, whether or not the user exists.
    const eve = await addUser(app, 'eve');
    const hidden = (await app.request({ method: 'PUT', url: '/v1/accounts/acme/members/nobody', headers: bearer(eve.key), payload: { role: 'read_only' } })).json().error;
    assert.equal(hidden.message, 'Account acme was not found, or you do not have access to it.');
    assert.equal(hidden.field, undefined);
  });

  test('an expiry in the past is a 400 with a sentence, for user and service keys; nothing is written', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const before = await rowCount(app, 'api_keys');
    const past = '2020-01-01T23:59:59Z';
    for (const [url, extra] of [
      ['/v1/user/api-keys', {}],
      ['/v1/service-api-keys', { role: 'read_only' }],
    ] as const) {
      const res = await app.request({ method: 'POST', url, headers: { ...bearer(alice.key), 'x-keysmith-account': 'acme' }, payload: { name: 'old', expires_at: past, ...extra } });
      assert.equal(res.statusCode, 400, url);
      assert.equal(res.json().error.code, 'validation_failed');
      assert.equal(res.json().error.field, 'expires_at');
      assert.equal(res.json().error.message, 'The expires_at field must be in the future.');
    }
    assert.equal(await rowCount(app, 'api_keys'), before);
  });

  test('a generated RSA checkout key is RSA-4096 to ssh-keygen, with the fingerprints the API lists', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme', 'web');
    const res = await app.request({ method: 'POST', url: '/v1/projects/gh/acme/web/checkout-keys', headers: bearer(alice.key), payload: { type: 'deploy', algorithm: 'rsa' } });
    assert.equal(res.statusCode, 201, res.body);
    const key = res.json() as { public_key: string; fingerprint_md5: string; fingerprint_sha256: string };
    assert.match(key.public_key, /^ssh-rsa AAAA/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-rsa-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'checkout.pub');
    fs.writeFileSync(file, `${key.public_key}\n`);
    const sha256 = keygenFingerprint(file, 'sha256');
    assert.equal(sha256.bits, 4096);
    assert.equal(sha256.fingerprint, key.fingerprint_sha256);
    assert.equal(keygenFingerprint(file, 'md5').fingerprint, `MD5:${key.fingerprint_md5}`);
  });
});
