// The site-wide audit trail (site admins) and the user's security log: refused sign-ins, which
// belong to no account, reach the admin's list and the list of the user whose login they tried.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addUser, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase, type TestApp } from './harness.ts';

type Event = { action: string; count: number; actor: { type: string; id: number | null }; details: Record<string, unknown> | null };

async function list(app: TestApp, key: string, url: string) {
  const res = await app.request({ method: 'GET', url, headers: bearer(key) });
  return { res, events: res.statusCode === 200 ? (res.json() as Event[]) : [] };
}

const refusedLogins = (events: Event[]) =>
  events
    .filter((e) => e.action === 'auth.refused')
    .map((e) => e.details?.login)
    .sort();

async function wrongPassword(app: TestApp, login: string) {
  const res = await app.request({ method: 'POST', url: '/v1/session', payload: { login, password: 'not the password' }, remoteAddress: '192.0.2.7' });
  assert.equal(res.statusCode, 401, res.body);
}

forEachDatabase('site-wide audit trail', (kind) => {
  test('a refused sign-in reaches the admin list and its own user, and no one else', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const bob = await addUser(app, 'bob');
    await wrongPassword(app, 'ALICE');
    await wrongPassword(app, 'bob');
    // A login nobody has: only the site admin sees it.
    await wrongPassword(app, 'mallory');
    await app.services.flush();

    const all = await list(app, alice.key, '/v1/admin/audit-events');
    assert.equal(all.res.statusCode, 200, all.res.body);
    assert.deepEqual(refusedLogins(all.events), ['ALICE', 'bob', 'mallory']);
    const refusal = all.events.find((e) => e.details?.login === 'ALICE')!;
    assert.deepEqual({ actor: refusal.actor.type, id: refusal.actor.id, count: refusal.count, scheme: refusal.details?.scheme }, { actor: 'anonymous', id: null, count: 1, scheme: 'password' });
    // Events of users and of the CLI are there too.
    assert.ok(all.events.some((e) => e.action === 'user.create'));

    const own = await list(app, alice.key, '/v1/user/audit-events');
    assert.equal(own.res.statusCode, 200);
    assert.deepEqual(refusedLogins(own.events), ['ALICE'], "alice sees her own refused sign-in (any case), not bob's or mallory's");
    const bobs = await list(app, bob.key, '/v1/user/audit-events');
    assert.deepEqual(refusedLogins(bobs.events), ['bob']);
    const onlyRefused = await list(app, bob.key, '/v1/user/audit-events?action=auth.refused');
    assert.deepEqual(refusedLogins(onlyRefused.events), ['bob']);
    assert.equal(onlyRefused.events.length, 1);
    const filtered = await list(app, alice.key, '/v1/user/audit-events?action=user.create');
    assert.deepEqual(refusedLogins(filtered.events), [], "the action filter applies to the security log's refusals too");
  });

  test('only site admins, with an unrestricted credential, read the whole trail', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const bob = await addUser(app, 'bob');
    const denied = await list(app, bob.key, '/v1/admin/audit-events');
    assert.equal(denied.res.statusCode, 403);
    assert.equal((denied.res.json() as { error: { code: string } }).error.code, 'site_admin_required');

    const scoped = await app.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(alice.key), payload: { name: 'scoped', scopes: ['read:project'] } });
    assert.equal(scoped.statusCode, 201, scoped.body);
    const viaScoped = await list(app, (scoped.json() as { key: string }).key, '/v1/admin/audit-events');
    assert.equal(viaScoped.res.statusCode, 403);
    assert.equal((viaScoped.res.json() as { error: { code: string } }).error.code, 'unrestricted_key_required');
  });

  test('the admin list filters by action and pages with a Link header', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    for (const login of ['u1', 'u2', 'u3']) await wrongPassword(app, login);
    await app.services.flush();

    const refused = await list(app, alice.key, '/v1/admin/audit-events?action=auth.refused');
    assert.deepEqual(refusedLogins(refused.events), ['u1', 'u2', 'u3']);
    assert.ok(refused.events.every((e) => e.action === 'auth.refused'));

    const first = await list(app, alice.key, '/v1/admin/audit-events?action=auth.refused&per_page=2');
    assert.equal(first.events.length, 2);
    const link = String(first.res.headers.link);
    assert.match(link, /rel="next"/);
    const next = /<([^>]+)>; rel="next"/.exec(link)![1]!;
    const second = await list(app, alice.key, new URL(next).pathname + new URL(next).search);
    assert.equal(second.events.length, 1);
    assert.deepEqual(refusedLogins([...first.events, ...second.events]), ['u1', 'u2', 'u3']);
    // Newest first.
    assert.deepEqual(
      [...first.events, ...second.events].map((e) => e.details?.login),
      ['u3', 'u2', 'u1'],
    );

    const bad = await app.request({ method: 'GET', url: '/v1/admin/audit-events?action=no.such', headers: bearer(alice.key) });
    assert.equal(bad.statusCode, 400);
  });
});
