// CircleCI's user-key flow through circleci-api (v1.1): refused with a plain remedy, granted at user
// level, retried, listed, deleted, and the grant revoked on its own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bearer, forEachDatabase } from '../harness.ts';
import { sshKeygen } from '../ssh-fixtures.ts';
import { type CheckoutKey, v1, v2, refusal, started } from './helpers.ts';

forEachDatabase('CircleCI-compatible keys and grants', (kind) => {
  test('the forum flow: refused with a plain remedy, granted at user level, retried, visible, deleted, revoked on its own', async (t) => {
    const { app, alice } = await started(t, kind);
    const client = v1(app, alice.key);

    const refused = await refusal(client.addCheckoutKey('github-user-key' as never));
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'grant_required');
    assert.equal(refused.body.grant, 'write:public_key');
    assert.equal(refused.body.grant_url, `${app.url}/settings/permissions?grant=write:public_key&project=gh/acme/web`, 'the grant_url names the project that asked');
    assert.match(refused.body.message!, /^Creating a user checkout key puts an SSH key on your own account, which needs your write:public_key grant .*PUT \/v1\/user\/grants\/write:public_key.*\.$/);
    assert.ok(!refused.body.message!.includes('{'), 'one plain sentence, not nested JSON');
    const v2Refused = await refusal(v2(app, alice.key).createCheckoutKey('user-key' as never));
    assert.equal(v2Refused.status, 403);
    assert.match(v2Refused.body.message!, /write:public_key grant/);
    const native = await app.request({ method: 'GET', url: '/v1/user/grants', headers: bearer(alice.key) });
    assert.deepEqual(
      native.json().map((g: { scope: string; granted: boolean }) => [g.scope, g.granted]),
      [['write:public_key', false]],
    );

    const given = await app.request({ method: 'PUT', url: '/v1/user/grants/write:public_key', headers: bearer(alice.key) });
    assert.equal(given.statusCode, 200);
    assert.equal(given.json().granted, true);

    const created = (await client.addCheckoutKey('github-user-key' as never)) as unknown as CheckoutKey;
    assert.equal(created.type, 'github-user-key');
    assert.equal(created.preferred, true);
    assert.match(created.fingerprint, /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    assert.match(created.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.match(created.public_key, /^ssh-ed25519 AAAA[0-9A-Za-z+/]+=*$/);
    const mine = await app.request({ method: 'GET', url: '/api/v3/user/keys', headers: bearer(alice.key) });
    assert.deepEqual(
      mine.json().map((k: { key: string; title: string }) => [k.key, k.title]),
      [[created.public_key, 'Keysmith checkout key for gh/acme/web']],
    );

    const viaGithub = (await client.addCheckoutKey('github-user-key' as never)) as unknown as CheckoutKey;
    const githubId = (await app.request({ method: 'GET', url: '/api/v3/user/keys', headers: bearer(alice.key) })).json().find((k: { key: string }) => k.key === viaGithub.public_key).id;
    assert.equal((await app.request({ method: 'DELETE', url: `/api/v3/user/keys/${githubId}`, headers: bearer(alice.key) })).statusCode, 204);
    assert.equal(((await client.listCheckoutKeys()) as unknown as CheckoutKey[]).length, 1, 'deleting its public half removed that checkout key');
    const trail = await app.services.db.selectFrom('audit_events').select(['action', 'account_id']).where('action', '=', 'checkout_key.delete').execute();
    assert.equal(trail.length, 1, 'and the account trail says so');
    assert.notEqual(trail[0]!.account_id, null);

    assert.deepEqual(await client.deleteCheckoutKey(created.fingerprint), { message: 'ok' });
    assert.deepEqual((await app.request({ method: 'GET', url: '/api/v3/user/keys', headers: bearer(alice.key) })).json(), [], 'its user key went with it');

    const second = (await client.addCheckoutKey('github-user-key' as never)) as unknown as CheckoutKey;
    await app.request({ method: 'POST', url: '/api/v3/user/keys', headers: bearer(alice.key), payload: { key: sshKeygen('ed25519').publicLine } });
    const listed = (await app.request({ method: 'GET', url: '/v1/user/grants', headers: bearer(alice.key) })).json();
    assert.deepEqual(
      listed[0].keys.map((k: { fingerprint: string; project: string }) => [k.fingerprint, k.project]),
      [[second.fingerprint, 'gh/acme/web']],
      'the grant lists the keys made under it, before any revoke',
    );
    const revoked = await app.request({ method: 'DELETE', url: '/v1/user/grants/write:public_key', headers: bearer(alice.key) });
    assert.equal(revoked.statusCode, 200);
    assert.deepEqual(
      revoked.json().keys.map((k: { fingerprint: string; project: string }) => [k.fingerprint, k.project]),
      [[second.fingerprint, 'gh/acme/web']],
    );
    assert.equal(revoked.json().removed_keys, false);
    assert.equal((await app.request({ method: 'GET', url: '/api/v3/user/keys', headers: bearer(alice.key) })).json().length, 2, 'revoking touches nothing else');
    assert.equal(((await client.listCheckoutKeys()) as unknown as CheckoutKey[]).length, 1, 'the checkout key keeps working');
    assert.equal((await refusal(client.addCheckoutKey('github-user-key' as never))).status, 403, 'but no new ones');

    await app.request({ method: 'PUT', url: '/v1/user/grants/write:public_key', headers: bearer(alice.key) });
    const removed = await app.request({ method: 'DELETE', url: '/v1/user/grants/write:public_key?remove_keys=true', headers: bearer(alice.key) });
    assert.equal(removed.json().removed_keys, true);
    assert.equal(((await client.listCheckoutKeys()) as unknown as CheckoutKey[]).length, 0, 'checkout key removed');
    const left = (await app.request({ method: 'GET', url: '/api/v3/user/keys', headers: bearer(alice.key) })).json();
    assert.equal(left.length, 1, "the user's own key stays; only the grant's key went");
    const actions = (await app.services.db.selectFrom('audit_events').select('action').where('action', 'like', 'grant.%').execute()).map((a) => a.action);
    assert.deepEqual(actions, ['grant.give', 'grant.revoke', 'grant.give', 'grant.revoke']);
  });
});
