// The shared rate limiter on both databases: a fixed window counted in the database, so hits from
// two limiters (two nodes) on one database add up; the window's end frees the key again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRateLimiter } from '../src/modules/limits/rate-limiter.ts';
import { appFor, forEachDatabase, testClock } from './harness.ts';

forEachDatabase('rate limiter', (kind) => {
  test('hits from two limiters on one database count together; the window ends; keys and buckets are apart', async (t) => {
    const clock = testClock(new Date('2026-11-22T12:00:00.000Z'));
    const { services } = await appFor(t, kind, { clock });
    const nodeA = createRateLimiter({ db: services.db, clock });
    const nodeB = createRateLimiter({ db: services.db, clock });
    const seen: boolean[] = [];
    for (let i = 0; i < 6; i++) seen.push((await (i % 2 ? nodeB : nodeA).hit('revoke', '192.0.2.1', 4, 3600)).allowed);
    assert.deepEqual(seen, [true, true, true, true, false, false], 'four allowed across both, then refused');
    const refused = await nodeA.hit('revoke', '192.0.2.1', 4, 3600);
    assert.equal(refused.hits, 7);
    assert.equal(refused.retryAfterSeconds, 3600, 'until the hour-long window ends');
    assert.equal((await nodeB.hit('revoke', '192.0.2.2', 4, 3600)).allowed, true, 'another key has its own count');
    assert.equal((await nodeB.hit('other', '192.0.2.1', 4, 3600)).allowed, true, 'another bucket has its own count');
    assert.equal((await nodeB.hit('revoke', '__proto__', 1, 3600)).allowed, true, 'a hostile key is just a key');
    clock.advance(30 * 60_000);
    assert.equal((await nodeA.hit('revoke', '192.0.2.1', 4, 3600)).retryAfterSeconds, 1800);
    clock.advance(30 * 60_000);
    assert.deepEqual(await nodeA.hit('revoke', '192.0.2.1', 4, 3600), { allowed: true, hits: 1, retryAfterSeconds: 0 }, 'a new window');
    assert.ok((await nodeA.prune()) >= 1, 'the ended windows are deleted');
  });

  test('concurrent hits are counted exactly', async (t) => {
    const clock = testClock();
    const { services } = await appFor(t, kind, { clock });
    const limiters = [0, 1, 2].map(() => createRateLimiter({ db: services.db, clock }));
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => limiters[i % 3]!.hit('b', 'k', 10, 60)));
    assert.deepEqual(
      results.map((r) => r.hits).sort((x, y) => x - y),
      Array.from({ length: 30 }, (_, i) => i + 1),
      'every hit got its own count',
    );
    assert.equal(results.filter((r) => r.allowed).length, 10);
  });
});
