// API-key rotation with a grace period (README: Credential lifecycle → Rotation), on SQLite and
// PostgreSQL: the successor keeps name, role, scopes and project list; both keys work during the
// grace, the old one answers 401 token_rotated after it (the clock moved, no job run); a key is
// rotated once; Idempotency-Key replays the same secret for ten minutes, even to two racing
// requests, and the sweep destroys it; bad input writes nothing; another user's key is a 404.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addProject, addServiceKey, addUser, rowCount, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase, testClock, type TestApp } from './harness.ts';

const HOUR = 3_600_000;
type Res = Awaited<ReturnType<TestApp['request']>>;

interface KeyBody {
  id: number;
  name: string;
  start: string;
  key: string;
  scopes: string[] | null;
  role?: string;
  projects?: string[] | null;
  expires_at: string | null;
  rotated_from: number | null;
  rotated_to: number | null;
  stops_working_at: string | null;
}

function refused(res: Res, status: number, code: string, pattern?: RegExp) {
  assert.equal(res.statusCode, status, res.body);
  const body = res.json() as { error: { code: string; message: string } };
  assert.equal(body.error.code, code, res.body);
  assert.ok(body.error.message.length > 20 && body.error.message.endsWith('.'), body.error.message);
  if (pattern) assert.match(body.error.message, pattern);
  return body.error;
}

async function world(t: Parameters<typeof appFor>[0], kind: Parameters<typeof appFor>[1]) {
  const clock = testClock();
  const app = await appFor(t, kind, { clock });
  const alice = await seed(app);
  const call =
    (key: string, headers: Record<string, string> = {}) =>
    (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) =>
      app.request({ method, url, headers: { ...bearer(key), ...headers }, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
  const asAlice = call(alice.key);
  const made = await asAlice('POST', '/v1/user/api-keys', { name: 'deploy bot', scopes: ['read:project'] });
  assert.equal(made.statusCode, 201, made.body);
  return { app, clock, alice, call, asAlice, old: made.json() as KeyBody };
}

const whoAmI = (app: TestApp, key: string) => app.request({ method: 'GET', url: '/v1/user', headers: bearer(key) });

forEachDatabase('API-key rotation', (kind) => {
  test('a user key rotates: same name and scopes, both work in the grace, the old one answers token_rotated after it', async (t) => {
    const { app, clock, asAlice, old } = await world(t, kind);
    const res = await asAlice('POST', `/v1/user/api-keys/${old.id}/rotate`, { grace_seconds: 3600 });
    assert.equal(res.statusCode, 201, res.body);
    const next = res.json() as KeyBody;
    assert.notEqual(next.id, old.id);
    assert.equal(next.name, 'deploy bot');
    assert.deepEqual(next.scopes, ['read:project']);
    assert.equal(next.rotated_from, old.id);
    assert.match(next.key, /^ksu_/);
    assert.notEqual(next.key, old.key);

    assert.equal((await whoAmI(app, old.key)).statusCode, 200, 'the old key works during the grace');
    assert.equal((await whoAmI(app, next.key)).statusCode, 200);

    const list = (await asAlice('GET', '/v1/user/api-keys')).json() as KeyBody[];
    const listedOld = list.find((k) => k.id === old.id)!;
    const listedNew = list.find((k) => k.id === next.id)!;
    assert.equal(listedOld.rotated_to, next.id);
    assert.equal(listedOld.stops_working_at, new Date(clock.now().getTime() + HOUR).toISOString());
    assert.equal(listedNew.rotated_from, old.id);
    assert.equal(listedNew.stops_working_at, null);
    assert.ok(
      list.every((k) => !('key' in k)),
      'lists never carry a secret',
    );

    clock.advance(HOUR);
    const after = await whoAmI(app, old.key);
    const error = refused(after, 401, 'token_rotated');
    assert.ok(error.message.includes(next.start), `the refusal names the new key's start: ${error.message}`);
    assert.ok(!after.body.includes(next.key) && !after.body.includes(old.key), 'no secret in the refusal');
    assert.equal((await whoAmI(app, next.key)).statusCode, 200, 'the new key keeps working');

    const audit = (await asAlice('GET', '/v1/user/audit-events')).json() as
      { items?: Array<{ action: string; details?: Record<string, unknown> }> } | Array<{ action: string; details?: Record<string, unknown> }>;
    const events = Array.isArray(audit) ? audit : (audit.items ?? []);
    const rotated = events.find((e) => e.action === 'api_key.rotate');
    assert.ok(rotated, JSON.stringify(events).slice(0, 400));
    assert.equal(rotated.details?.rotated_from, old.id);
    assert.equal(rotated.details?.new_key_id, next.id);
  });

  test('grace 0 ends the old key at once; the default grace is one day; a key rotates only once', async (t) => {
    const { app, clock, asAlice, old } = await world(t, kind);
    assert.equal((await whoAmI(app, old.key)).statusCode, 200, 'the old key is now in the credential cache');
    const now = await asAlice('POST', `/v1/user/api-keys/${old.id}/rotate`, { grace_seconds: 0 });
    assert.equal(now.statusCode, 201, now.body);
    // No clock movement: only the eviction at rotation can make the cached key answer this.
    refused(await whoAmI(app, old.key), 401, 'token_rotated');

    const again = await asAlice('POST', `/v1/user/api-keys/${old.id}/rotate`, {});
    const error = refused(again, 409, 'already_rotated');
    assert.ok(error.message.includes((now.json() as KeyBody).start), `names the successor: ${error.message}`);

    const next = now.json() as KeyBody;
    const byDefault = await asAlice('POST', `/v1/user/api-keys/${next.id}/rotate`);
    assert.equal(byDefault.statusCode, 201, byDefault.body);
    assert.equal((byDefault.json() as KeyBody).rotated_from, next.id);
    clock.advance(24 * HOUR - 1000);
    assert.equal((await whoAmI(app, next.key)).statusCode, 200, 'still inside the default day');
    clock.advance(1000);
    refused(await whoAmI(app, next.key), 401, 'token_rotated');
  });

  test('a service key rotates with its role and project list; a runner key only by an owner', async (t) => {
    const { app, clock, alice } = await world(t, kind);
    await addProject(app, alice.key, 'acme', 'web');
    await addProject(app, alice.key, 'acme', 'api');
    const runner = await addServiceKey(app, alice.key, 'acme', 'runner', { projects: ['gh/acme/web'] });
    const bob = await addUser(app, 'bob', { account: 'acme', role: 'admin', by: alice.key });
    const asBob = { ...bearer(bob.key), 'x-keysmith-account': 'acme' };
    refused(await app.request({ method: 'POST', url: `/v1/service-api-keys/${runner.id}/rotate`, headers: asBob, payload: {} }), 403, 'role_required');

    const res = await app.request({ method: 'POST', url: `/v1/service-api-keys/${runner.id}/rotate`, headers: { ...bearer(alice.key), 'x-keysmith-account': 'acme' }, payload: { grace_seconds: 60 } });
    assert.equal(res.statusCode, 201, res.body);
    const next = res.json() as KeyBody;
    assert.equal(next.role, 'runner');
    assert.equal(next.name, runner.name);
    assert.deepEqual(next.projects, ['gh/acme/web'], 'the successor reads no more projects than its predecessor');
    assert.match(next.key, /^kss_/);
    const creds = (key: string, project: string) => app.request({ method: 'GET', url: `/v1/projects/gh/acme/${project}/checkout-credentials`, headers: bearer(key) });
    assert.equal((await creds(next.key, 'api')).statusCode, 404);

    const readOnly = await addServiceKey(app, alice.key, 'acme', 'read_only');
    const byAdmin = await app.request({ method: 'POST', url: `/v1/service-api-keys/${readOnly.id}/rotate`, headers: asBob, payload: { grace_seconds: 0 } });
    assert.equal(byAdmin.statusCode, 201, byAdmin.body);
    assert.equal((byAdmin.json() as KeyBody).role, 'read_only');
    const projects = await app.request({ method: 'GET', url: '/v1/projects', headers: bearer(readOnly.key) });
    refused(projects, 401, 'token_rotated', new RegExp((byAdmin.json() as KeyBody).start));
    const list = (await app.request({ method: 'GET', url: '/v1/service-api-keys', headers: asBob })).json() as KeyBody[];
    assert.equal(list.find((k) => k.id === readOnly.id)?.rotated_to, (byAdmin.json() as KeyBody).id);
    clock.advance(61_000);
    refused(await app.request({ method: 'GET', url: '/v1/projects', headers: bearer(runner.key) }), 401, 'token_rotated');
  });

  test('Idempotency-Key: a retry gets the same new secret; another body is 422; after ten minutes a retry is 409 and the sweep destroys the seal', async (t) => {
    const { app, clock, alice, call, old } = await world(t, kind);
    const withKey = call(alice.key, { 'idempotency-key': 'c0ffee-1' });
    const first = await withKey('POST', `/v1/user/api-keys/${old.id}/rotate`, { grace_seconds: 600 });
    assert.equal(first.statusCode, 201, first.body);
    const keysAfterFirst = await rowCount(app, 'api_keys');
    const retry = await withKey('POST', `/v1/user/api-keys/${old.id}/rotate`, { grace_seconds: 600 });
    assert.equal(retry.statusCode, 201, retry.body);
    assert.deepEqual(retry.json(), first.json(), 'the same body, the same secret');
    assert.equal(await rowCount(app, 'api_keys'), keysAfterFirst, 'no second key');

    const other = await withKey('POST', `/v1/user/api-keys/${old.id}/rotate`, { grace_seconds: 60 });
    refused(other, 422, 'idempotency_key_reused');
    const sealed = await app.services.db.selectFrom('api_key_rotation_replays').select('sealed').executeTakeFirstOrThrow();
    assert.ok(!sealed.sealed.includes((first.json() as KeyBody).key), 'the secret is sealed, not stored in plain text');

    assert.equal(await app.app.jobs.runNow('api_key_rotation.sweep'), 'ran');
    assert.equal(await rowCount(app, 'api_key_rotation_replays'), 1, 'the sweep keeps a live window');
    clock.advance(10 * 60 * 1000);
    const late = await withKey('POST', `/v1/user/api-keys/${old.id}/rotate`, { grace_seconds: 600 });
    refused(late, 409, 'already_rotated');
    assert.ok(!late.body.includes((first.json() as KeyBody).key), 'an expired replay is never read');
    assert.equal(await app.app.jobs.runNow('api_key_rotation.sweep'), 'ran');
    assert.equal(await rowCount(app, 'api_key_rotation_replays'), 0, 'the sweep destroyed the sealed secret');
  });

  test('two simultaneous rotates with the same Idempotency-Key make one new key and return it to both', async (t) => {
    const { app, alice, old } = await world(t, kind);
    const before = await rowCount(app, 'api_keys');
    const send = () => app.request({ method: 'POST', url: `/v1/user/api-keys/${old.id}/rotate`, headers: { ...bearer(alice.key), 'idempotency-key': 'race-1' }, payload: { grace_seconds: 30 } });
    const answers = await Promise.all([send(), send(), send()]);
    for (const a of answers) assert.equal(a.statusCode, 201, a.body);
    const secrets = new Set(answers.map((a) => (a.json() as KeyBody).key));
    assert.equal(secrets.size, 1, 'one secret for every racer');
    assert.equal(await rowCount(app, 'api_keys'), before + 1, 'one new key');
    // Without the header, racing rotates make one key; the others are told it was rotated.
    const other = (await app.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(alice.key), payload: { name: 'second' } })).json() as KeyBody;
    const plain = await Promise.all([0, 1].map(() => app.request({ method: 'POST', url: `/v1/user/api-keys/${other.id}/rotate`, headers: bearer(alice.key), payload: {} })));
    assert.deepEqual(plain.map((a) => a.statusCode).sort(), [201, 409], plain.map((a) => a.body).join('\n'));
  });

  test('bad input is a 4xx sentence and writes nothing; another user’s key is a 404; a scoped key may not rotate', async (t) => {
    const { app, alice, asAlice, call, old } = await world(t, kind);
    const zed = await addUser(app, 'zed');
    const counts = async () => [await rowCount(app, 'api_keys'), await rowCount(app, 'audit_events'), await rowCount(app, 'api_key_rotation_replays')];
    const before = await counts();
    const url = `/v1/user/api-keys/${old.id}/rotate`;
    for (const body of [
      { grace_seconds: -1 },
      { grace_seconds: 604_801 },
      { grace_seconds: 'abc' },
      { grace_seconds: 1.5 },
      { expires_at: '2020-01-01T00:00:00Z' },
      { expires_at: 'soon' },
      { extra: true },
    ]) {
      const res = await asAlice('POST', url, body);
      assert.equal(res.statusCode, 400, `${JSON.stringify(body)}: ${res.body}`);
      const error = (res.json() as { error: { message: string } }).error;
      assert.ok(error.message.length > 20, error.message);
    }
    for (const raw of ['{"__proto__": {"grace_seconds": 0}}', '{"constructor": 1}', '[]', '"x"', '{"grace_seconds": 1e400}']) {
      const res = await app.request({ method: 'POST', url, headers: { ...bearer(alice.key), 'content-type': 'application/json' }, payload: raw });
      assert.equal(res.statusCode, 400, `${raw}: ${res.body}`);
    }
    for (const spelling of [`0${old.id}`, `${old.id}.0`, `+${old.id}`, '99999999999999999999']) {
      const res = await asAlice('POST', `/v1/user/api-keys/${spelling}/rotate`, {});
      assert.equal(res.statusCode, 400, `${spelling}: ${res.body}`);
    }
    refused(await call(zed.key)('POST', url, {}), 404, 'not_found');
    refused(await asAlice('POST', '/v1/user/api-keys/999999/rotate', {}), 404, 'not_found');
    for (const header of ['', 'has space', 'x'.repeat(256)]) {
      const res = await call(alice.key, { 'idempotency-key': header })('POST', url, {});
      assert.equal(res.statusCode, 400, `${JSON.stringify(header)}: ${res.body}`);
    }
    const scoped = (await asAlice('POST', '/v1/user/api-keys', { name: 'scoped', scopes: ['read:project'] })).json() as KeyBody;
    const afterScoped = await counts();
    refused(await call(scoped.key)('POST', url, {}), 403, 'unrestricted_key_required');
    assert.deepEqual(await counts(), afterScoped, 'nothing written by the refusals');
    assert.equal(afterScoped[0], before[0]! + 1, 'only the scoped key was added');
    assert.equal((await whoAmI(app, old.key)).statusCode, 200, 'the key was not rotated');
  });
});
