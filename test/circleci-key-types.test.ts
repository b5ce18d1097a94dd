// CircleCI's checkout-key type names are a closed vocabulary of the CircleCI dialect: a name that is
// a property of every plain object is still unknown, and a provider's user-key name on the other
// provider's project is refused with the name to use.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addProject, rowCount, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase } from './harness.ts';

forEachDatabase('CircleCI checkout-key types', (kind) => {
  test('__proto__, constructor and hasOwnProperty are unknown types: 400 with a sentence, nothing made', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme');
    const tables = ['checkout_keys', 'ssh_keys', 'audit_events'] as const;
    const before = await Promise.all(tables.map((table) => rowCount(app, table)));
    for (const url of ['/api/v1.1/project/gh/acme/web/checkout-key', '/api/v2/project/gh%2Facme%2Fweb/checkout-key']) {
      for (const type of ['__proto__', 'constructor', 'hasOwnProperty', 'toString']) {
        const res = await app.request({ method: 'POST', url, headers: bearer(alice.key), payload: { type } });
        assert.equal(res.statusCode, 400, `${url} ${type}: ${res.body}`);
        assert.match(res.json().message, new RegExp(`The checkout key type "${type}" is not known; use one of: deploy-key, user-key`));
      }
    }
    const listed = await app.request({ method: 'GET', url: '/api/v1.1/project/gh/acme/web/checkout-key', headers: bearer(alice.key) });
    assert.deepEqual(listed.json(), []);
    assert.deepEqual(await Promise.all(tables.map((table) => rowCount(app, table))), before, 'no key, public half or audit row was written');
  });

  test("a provider's user-key name on the other provider's project is refused, naming the one to use", async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme');
    const bb = await app.request({ method: 'POST', url: '/v1/projects', headers: { ...bearer(alice.key), 'x-keysmith-account': 'acme' }, payload: { vcs_type: 'bb', name: 'site' } });
    assert.equal(bb.statusCode, 201, bb.body);

    const onGithub = await app.request({ method: 'POST', url: '/api/v1.1/project/github/acme/web/checkout-key', headers: bearer(alice.key), payload: { type: 'bitbucket-user-key' } });
    assert.equal(onGithub.statusCode, 400, onGithub.body);
    assert.equal(onGithub.json().message, 'The checkout key type "bitbucket-user-key" is for Bitbucket projects, and this is a GitHub project; use github-user-key (or user-key).');

    const onBitbucket = await app.request({ method: 'POST', url: '/api/v2/project/bb%2Facme%2Fsite/checkout-key', headers: bearer(alice.key), payload: { type: 'github-user-key' } });
    assert.equal(onBitbucket.statusCode, 400, onBitbucket.body);
    assert.equal(onBitbucket.json().message, 'The checkout key type "github-user-key" is for GitHub projects, and this is a Bitbucket project; use bitbucket-user-key (or user-key).');

    // The matching names still reach the service (here: the grant it needs is missing, not the type).
    const matching = await app.request({ method: 'POST', url: '/api/v1.1/project/bb/acme/site/checkout-key', headers: bearer(alice.key), payload: { type: 'bitbucket-user-key' } });
    assert.notEqual(matching.statusCode, 400, matching.body);
    const deploy = await app.request({ method: 'POST', url: '/api/v1.1/project/bb/acme/site/checkout-key', headers: bearer(alice.key), payload: { type: 'deploy-key' } });
    assert.equal(deploy.statusCode, 201, deploy.body);
    assert.equal(deploy.json().type, 'deploy-key');
  });
});
