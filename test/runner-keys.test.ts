// Runner service keys read projects' private keys: only an owner creates or deletes one, and it may
// be limited to named projects of its account (enforced by checkout-credentials).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addProject, addServiceKey, addUser, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase, type TestApp } from './harness.ts';

const inAcme = (key: string) => ({ ...bearer(key), 'x-keysmith-account': 'acme' });

async function withDeployKey(app: TestApp, ownerKey: string, name: string) {
  await addProject(app, ownerKey, 'acme', name);
  const res = await app.request({ method: 'POST', url: `/api/v1.1/project/gh/acme/${name}/checkout-key`, headers: bearer(ownerKey), payload: { type: 'deploy-key' } });
  assert.equal(res.statusCode, 201, res.body);
}

const credentials = (app: TestApp, key: string, name: string) => app.request({ method: 'GET', url: `/v1/projects/gh/acme/${name}/checkout-credentials`, headers: bearer(key) });

forEachDatabase('runner keys', (kind) => {
  test('an admin may not create or delete a runner key, and is told only an owner can and why', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const bob = await addUser(app, 'bob', { account: 'acme', role: 'admin', by: alice.key });
    const refused = await app.request({ method: 'POST', url: '/v1/service-api-keys', headers: inAcme(bob.key), payload: { name: 'ci', role: 'runner' } });
    assert.equal(refused.statusCode, 403, refused.body);
    assert.equal(refused.json().error.code, 'role_required');
    assert.match(refused.json().error.message, /only an owner can, because a runner key reads projects' private keys/);
    assert.match(refused.json().error.message, /you have the admin role/);
    // Other roles stay an admin's to manage.
    assert.equal((await app.request({ method: 'POST', url: '/v1/service-api-keys', headers: inAcme(bob.key), payload: { name: 'deployer', role: 'read_write' } })).statusCode, 201);

    const runner = await addServiceKey(app, alice.key, 'acme', 'runner');
    const del = await app.request({ method: 'DELETE', url: `/v1/service-api-keys/${runner.id}`, headers: inAcme(bob.key) });
    assert.equal(del.statusCode, 403, del.body);
    assert.match(del.json().error.message, /only an owner can/);
    const keys = (await app.request({ method: 'GET', url: '/v1/service-api-keys', headers: inAcme(alice.key) })).json() as Array<{ id: number }>;
    assert.ok(
      keys.some((k) => k.id === runner.id),
      'the refused delete deleted nothing',
    );
    assert.equal((await app.request({ method: 'DELETE', url: `/v1/service-api-keys/${runner.id}`, headers: inAcme(alice.key) })).statusCode, 204);
  });

  test("an owner's limited runner reads its project's credentials and gets a 404 for another", async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    await withDeployKey(app, alice.key, 'web');
    await withDeployKey(app, alice.key, 'api');
    const created = await app.request({ method: 'POST', url: '/v1/service-api-keys', headers: inAcme(alice.key), payload: { name: 'web runner', role: 'runner', projects: ['github/ACME/web'] } });
    assert.equal(created.statusCode, 201, created.body);
    const runner = created.json() as { id: number; key: string; projects: string[] | null };
    assert.deepEqual(runner.projects, ['gh/acme/web'], 'the slug is stored normalised');

    const own = await credentials(app, runner.key, 'web');
    assert.equal(own.statusCode, 200, own.body);
    assert.match(own.json().checkout_key.private_key, /PRIVATE KEY/);

    const other = await credentials(app, runner.key, 'api');
    assert.equal(other.statusCode, 404, other.body);
    assert.equal(other.json().error.code, 'not_found');
    assert.ok(!other.body.includes('PRIVATE KEY'));
    const missing = await credentials(app, runner.key, 'nothing-here');
    assert.equal(other.json().error.message.replace('api', 'X'), missing.json().error.message.replace('nothing-here', 'X'), 'a project outside the list reads like one that does not exist');

    const unlimited = await addServiceKey(app, alice.key, 'acme', 'runner', { name: 'any runner' });
    assert.equal((await credentials(app, unlimited.key, 'api')).statusCode, 200, 'an unlimited runner reads every project');

    const list = (await app.request({ method: 'GET', url: '/v1/service-api-keys', headers: inAcme(alice.key) })).json() as Array<{ id: number; projects: string[] | null }>;
    assert.deepEqual(list.find((k) => k.id === runner.id)?.projects, ['gh/acme/web']);
    assert.equal(list.find((k) => k.id === unlimited.id)?.projects, null);
  });

  test('deleting the only listed project leaves the runner reading nothing, not everything', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    await withDeployKey(app, alice.key, 'web');
    await withDeployKey(app, alice.key, 'api');
    const runner = await addServiceKey(app, alice.key, 'acme', 'runner', { projects: ['gh/acme/web'] });
    assert.equal((await app.request({ method: 'DELETE', url: '/v1/projects/gh/acme/web', headers: bearer(alice.key) })).statusCode, 204);
    const list = (await app.request({ method: 'GET', url: '/v1/service-api-keys', headers: inAcme(alice.key) })).json() as Array<{ id: number; projects: string[] | null }>;
    assert.deepEqual(list.find((k) => k.id === runner.id)?.projects, [], 'an empty list, not null (all projects)');
    assert.equal((await credentials(app, runner.key, 'api')).statusCode, 404);
    // A project created later under the deleted one's name is a new project: not on the list either.
    await withDeployKey(app, alice.key, 'web');
    assert.equal((await credentials(app, runner.key, 'web')).statusCode, 404);
  });

  test('projects: each slug is checked, with a sentence naming it', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme', 'web');
    const eve = await addUser(app, 'eve');
    assert.equal((await app.request({ method: 'POST', url: '/v1/accounts', headers: bearer(eve.key), payload: { name: 'evecorp' } })).statusCode, 201);
    await addProject(app, eve.key, 'evecorp', 'web');

    const cases: Array<[unknown, RegExp, string?]> = [
      [['__proto__/x/y'], /projects\[0\] value "__proto__\/x\/y" is not a project slug/, 'projects[0]'],
      [['gh/acme/web', 'constructor/acme/web'], /projects\[1\] value "constructor\/acme\/web" is not a project slug/, 'projects[1]'],
      [['gh/acme'], /"gh\/acme" is not a project slug: use <vcs>\/<account>\/<name>/],
      [['gh/acme/web/extra'], /is not a project slug/],
      [['gh/evecorp/web'], /The project gh\/evecorp\/web is not in account acme/, 'projects[0]'],
      [['gh/acme/nope'], /The project gh\/acme\/nope does not exist in account acme/],
      [[], /must name at least one project/, 'projects'],
      [Array.from({ length: 101 }, (_, i) => `gh/acme/p${i}`), /may hold at most 100 items/],
      [['gh/acme/w\u0000eb'], /without control characters/],
    ];
    for (const [projects, message, field] of cases) {
      const res = await app.request({ method: 'POST', url: '/v1/service-api-keys', headers: inAcme(alice.key), payload: { name: 'r', role: 'runner', projects } });
      assert.equal(res.statusCode, 400, `${JSON.stringify(projects).slice(0, 80)}: ${res.body}`);
      assert.equal(res.json().error.code, 'validation_failed');
      assert.match(res.json().error.message, message);
      if (field) assert.equal(res.json().error.field, field);
    }
    const notRunner = await app.request({ method: 'POST', url: '/v1/service-api-keys', headers: inAcme(alice.key), payload: { name: 'r', role: 'read_only', projects: ['gh/acme/web'] } });
    assert.equal(notRunner.statusCode, 400, notRunner.body);
    assert.match(notRunner.json().error.message, /only a runner key can have one; this key's role is read_only/);
    assert.equal(notRunner.json().error.field, 'projects');

    const keys = (await app.request({ method: 'GET', url: '/v1/service-api-keys', headers: inAcme(alice.key) })).json() as unknown[];
    assert.equal(keys.length, 0, 'no refused request wrote a key');
    // null means "all projects", as if left out.
    const all = await app.request({ method: 'POST', url: '/v1/service-api-keys', headers: inAcme(alice.key), payload: { name: 'r', role: 'runner', projects: null } });
    assert.equal(all.statusCode, 201, all.body);
    assert.equal(all.json().projects, null);
  });
});
