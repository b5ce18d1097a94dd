import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addProject, addServiceKey, addUser, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase } from './harness.ts';

forEachDatabase('projects', (kind) => {
  test('create, get (vcs aliases accepted), list and delete a project', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const created = await app.request({ method: 'POST', url: '/v1/projects', headers: bearer(alice.key), payload: { vcs_type: 'github', name: 'web.app_1' } });
    assert.equal(created.statusCode, 201);
    assert.equal(created.json().slug, 'gh/acme/web.app_1');
    assert.equal(created.headers.location, 'http://keysmith.test/v1/projects/gh/acme/web.app_1');
    for (const vcs of ['gh', 'github', 'GH']) {
      const got = await app.request({ method: 'GET', url: `/v1/projects/${vcs}/ACME/WEB.APP_1`, headers: bearer(alice.key) });
      assert.equal(got.statusCode, 200, vcs);
      assert.equal(got.json().name, 'web.app_1');
    }
    assert.equal((await app.request({ method: 'GET', url: '/v1/projects/bb/acme/web.app_1', headers: bearer(alice.key) })).statusCode, 404);
    assert.equal((await app.request({ method: 'GET', url: '/v1/projects/svn/acme/web.app_1', headers: bearer(alice.key) })).statusCode, 404);
    const dup = await app.request({ method: 'POST', url: '/v1/projects', headers: bearer(alice.key), payload: { vcs_type: 'gh', name: 'WEB.app_1' } });
    assert.equal(dup.statusCode, 409);
    assert.equal((await app.request({ method: 'DELETE', url: '/v1/projects/gh/acme/web.app_1', headers: bearer(alice.key) })).statusCode, 204);
    assert.equal((await app.request({ method: 'GET', url: '/v1/projects/gh/acme/web.app_1', headers: bearer(alice.key) })).statusCode, 404);
  });

  test('lists paginate with a Link header', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    for (let i = 0; i < 7; i++) await addProject(app, alice.key, 'acme', `p${i}`);
    const first = await app.request({ method: 'GET', url: '/v1/projects?per_page=3', headers: bearer(alice.key) });
    assert.equal(first.json().length, 3);
    assert.equal(first.headers['x-total-count'], '7');
    assert.equal(first.headers.link, '<http://keysmith.test/v1/projects?per_page=3&page=2>; rel="next", <http://keysmith.test/v1/projects?per_page=3&page=3>; rel="last"');
    const last = await app.request({ method: 'GET', url: '/v1/projects?per_page=3&page=3', headers: bearer(alice.key) });
    assert.deepEqual(
      last.json().map((p: { name: string }) => p.name),
      ['p6'],
    );
    assert.match(String(last.headers.link), /rel="first".*rel="prev"/);
    const all = await app.request({ method: 'GET', url: '/v1/projects', headers: bearer(alice.key) });
    assert.equal(all.headers.link, undefined, 'no Link when one page holds everything');
    const tooMany = await app.request({ method: 'GET', url: '/v1/projects?per_page=101', headers: bearer(alice.key) });
    assert.equal(tooMany.statusCode, 400);
    assert.match(tooMany.json().error.message, /query parameter "per_page" must be at most 100/);
  });

  test("another account's project is a 404, never a 403", async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme', 'secret');
    const eve = await addUser(app, 'eve');
    assert.equal((await app.request({ method: 'POST', url: '/v1/accounts', headers: bearer(eve.key), payload: { name: 'evecorp' } })).statusCode, 201);
    const eveService = await addServiceKey(app, eve.key, 'evecorp', 'admin');
    for (const key of [eve.key, eveService.key]) {
      for (const method of ['GET', 'DELETE'] as const) {
        const res = await app.request({ method, url: '/v1/projects/gh/acme/secret', headers: bearer(key) });
        assert.equal(res.statusCode, 404);
        assert.equal(res.json().error.message, 'Account acme was not found, or you do not have access to it.');
      }
    }
    const runner = await addServiceKey(app, alice.key, 'acme', 'runner');
    assert.equal((await app.request({ method: 'GET', url: '/v1/projects/gh/acme/secret', headers: bearer(runner.key) })).statusCode, 200, 'a runner reads projects');
  });
});
