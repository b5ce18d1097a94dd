// The credential outside headers and its cache: `?circle-token=` on list routes (never echoed in a
// Link header, redacted from logged URLs however it is spelled), and the cache racing a delete.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCredentialCache } from '../src/modules/api-keys/credential-cache.ts';
import { redactUrl } from '../src/logger.ts';
import { addProject, seed } from './factories.ts';
import { appFor, forEachDatabase, testClock } from './harness.ts';

forEachDatabase('edges', (kind) => {
  test('?circle-token= works on list routes and never comes back in a Link header', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    for (let i = 0; i < 3; i++) await addProject(app, alice.key, 'acme', `p${i}`);
    const res = await app.request({ method: 'GET', url: `/v1/projects?per_page=1&circle-token=${alice.key}` });
    assert.equal(res.statusCode, 200, res.body);
    assert.ok(String(res.headers.link).includes('page=2'));
    assert.ok(!String(res.headers.link).includes(alice.key), 'the key is not echoed');
  });
});

test('the credential cache never keeps a value read before a clear()', () => {
  const clock = testClock();
  const cache = createCredentialCache<string>({ clock, ttlMs: 5000, maxEntries: 2 });
  const before = cache.generation();
  cache.clear(); // a key was deleted while a look-up was in flight
  cache.set('h1', 'stale', before);
  assert.equal(cache.get('h1'), undefined);
  cache.set('h1', 'fresh', cache.generation());
  assert.equal(cache.get('h1'), 'fresh');
  clock.advance(5000);
  assert.equal(cache.get('h1'), undefined, 'expired after the TTL');
  for (const h of ['a', 'b', 'c']) cache.set(h, h, cache.generation());
  assert.equal(cache.get('a'), undefined, 'the oldest entry goes first when full');
  assert.equal(cache.get('c'), 'c');
});

test('log redaction catches the credential parameter however it is spelled', () => {
  assert.equal(redactUrl('/v1/user?circle-token=ksu_abc&x=1'), '/v1/user?circle-token=[redacted]&x=1');
  assert.equal(redactUrl('/v1/user?a=1&circle%2Dtoken=ksu_abc'), '/v1/user?a=1&circle%2Dtoken=[redacted]');
  assert.equal(redactUrl('/v1/user?Circle-Token=ksu_abc'), '/v1/user?Circle-Token=[redacted]');
  assert.equal(redactUrl('/v1/projects?per_page=2'), '/v1/projects?per_page=2');
});
