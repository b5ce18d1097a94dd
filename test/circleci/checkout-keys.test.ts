// Checkout keys through both clients: deploy keys, the preferred key, both fingerprint forms, v2
// through circle-client, and the refusals (a service key asking for a user key among them).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addServiceKey } from '../factories.ts';
import { bearer, forEachDatabase } from '../harness.ts';
import { type CheckoutKey, v1, v2, refusal, started } from './helpers.ts';

forEachDatabase('CircleCI-compatible keys and grants', (kind) => {
  test('a service key asking for a user key gets user_key_required; deploy keys work for it', async (t) => {
    const { app, alice } = await started(t, kind);
    const service = await addServiceKey(app, alice.key, 'acme', 'read_write');
    const refused = await refusal(v1(app, service.key).addCheckoutKey('github-user-key' as never));
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'user_key_required');
    assert.match(refused.body.message!, /acts as that person, so it needs their own user API key/);
    const deploy = (await v1(app, service.key).addCheckoutKey('deploy-key' as never)) as unknown as CheckoutKey;
    assert.equal(deploy.type, 'deploy-key');
  });

  test('deploy keys, preferred, both fingerprint forms, v2 through circle-client, and the errors', async (t) => {
    const { app, alice } = await started(t, kind);
    const client = v1(app, alice.key);
    const deploy = (await client.addCheckoutKey('deploy-key' as never)) as unknown as CheckoutKey;
    assert.equal(deploy.preferred, true);
    const repoKeys = await app.request({ method: 'GET', url: '/api/v3/repos/acme/web/keys', headers: bearer(alice.key) });
    assert.deepEqual(
      repoKeys.json().map((k: { key: string; read_only: boolean }) => [k.key, k.read_only]),
      [[deploy.public_key, true]],
      'registered as a read-only deploy key',
    );

    const newer = (await client.addCheckoutKey('deploy-key' as never)) as unknown as CheckoutKey;
    await app.request({ method: 'PUT', url: '/v1/user/grants/write:public_key', headers: bearer(alice.key) });
    const user = (await client.addCheckoutKey('user-key' as never)) as unknown as CheckoutKey;
    const listed = (await client.listCheckoutKeys()) as unknown as CheckoutKey[];
    assert.deepEqual(
      listed.map((k) => [k.fingerprint, k.preferred]),
      [
        [user.fingerprint, true],
        [newer.fingerprint, false],
        [deploy.fingerprint, false],
      ],
      'newest user key preferred',
    );

    const viaSha = await app.request({ method: 'GET', url: `/api/v1.1/project/gh/acme/web/checkout-key/${encodeURIComponent(deploy.fingerprint_sha256)}`, headers: bearer(alice.key) });
    assert.equal(viaSha.json().fingerprint, deploy.fingerprint);
    assert.equal(((await client.getCheckoutKey(deploy.fingerprint)) as unknown as CheckoutKey).fingerprint_sha256, deploy.fingerprint_sha256);

    const circle = v2(app, alice.key);
    const page = (await circle.listCheckoutKeys()) as unknown as { items?: unknown[] } | unknown[];
    const items = (Array.isArray(page) ? page : page.items) as Array<Record<string, unknown>>;
    assert.deepEqual(
      items.map((k) => [k.fingerprint, k.type, k.preferred]),
      [
        [user.fingerprint, 'user-key', true],
        [newer.fingerprint, 'deploy-key', false],
        [deploy.fingerprint, 'deploy-key', false],
      ],
    );
    assert.match(String(items[0]!['created-at']), /\.\d{3}Z$/);
    assert.equal(typeof items[0]!['public-key'], 'string');
    const made = (await circle.createCheckoutKey('deploy-key' as never)) as unknown as Record<string, unknown>;
    assert.equal(made.type, 'deploy-key');
    assert.equal(((await circle.getCheckoutKey(String(made.fingerprint))) as unknown as Record<string, unknown>).fingerprint, made.fingerprint);
    await circle.deleteCheckoutKey(String(made.fingerprint));
    const plain = await app.request({ method: 'GET', url: '/api/v2/project/gh/acme/web/checkout-key', headers: { 'circle-token': alice.key } });
    assert.equal(plain.json().items.length, 3, 'the slug also works unencoded');
    assert.equal(plain.json().next_page_token, null);

    const unknownType = await refusal(client.addCheckoutKey('root-key' as never));
    assert.equal(unknownType.status, 400);
    assert.match(unknownType.body.message!, /use one of: deploy-key, user-key \(also github-user-key, bitbucket-user-key\)/);
    const missing = await refusal(client.getCheckoutKey('00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff'));
    assert.equal(missing.status, 404);
    assert.match(missing.body.message!, /was not found/);
    const noBody = await app.request({ method: 'POST', url: '/api/v1.1/project/gh/acme/web/checkout-key', headers: bearer(alice.key), payload: {} });
    assert.equal(noBody.statusCode, 400);
    assert.match(noBody.json().message, /The field "type" is required/);
    const rsa = await app.request({ method: 'POST', url: '/api/v2/project/gh%2Facme%2Fweb/checkout-key', headers: bearer(alice.key), payload: { type: 'deploy-key', algorithm: 'rsa' } });
    assert.equal(rsa.statusCode, 201);
    assert.match(rsa.json()['public-key'], /^ssh-rsa /);
  });
});
