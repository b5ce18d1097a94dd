// Named jobs: a 'once' job runs on one node at a time across a PostgreSQL database (two job runners
// on one database stand for two nodes); a 'node' job runs on each; stop() waits for runs under way.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createJobs } from '../src/jobs/jobs.ts';
import { appFor, forEachDatabase, testClock } from './harness.ts';

const logger = { error: () => {} };

forEachDatabase('jobs', (kind) => {
  test('a once job runs on one node at a time; a node job on each; runNow reports what happened', async (t) => {
    const clock = testClock();
    const { services } = await appFor(t, kind, { clock });
    const nodeA = createJobs({ db: services.db, clock, logger });
    const nodeB = createJobs({ db: services.db, clock, logger });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let runsA = 0;
    let runsB = 0;
    nodeA.register({ name: 'expiry.scan', scope: 'once', everyMs: 60_000, run: async () => (runsA++, await held) });
    nodeB.register({ name: 'expiry.scan', scope: 'once', everyMs: 60_000, run: async () => void runsB++ });
    nodeA.register({ name: 'buffer.flush', scope: 'node', everyMs: 60_000, run: async () => {} });
    nodeB.register({ name: 'buffer.flush', scope: 'node', everyMs: 60_000, run: async () => {} });
    assert.throws(() => nodeA.register({ name: 'expiry.scan', scope: 'once', everyMs: 1, run: async () => {} }), /already registered/);

    const first = nodeA.runNow('expiry.scan');
    await new Promise((r) => setTimeout(r, 50)); // let node A take the lock
    assert.equal(runsA, 1);
    const second = await nodeB.runNow('expiry.scan');
    assert.equal(second, kind === 'postgres' ? 'skipped' : 'ran', 'PostgreSQL: the other node holds the lock; SQLite: one process, it simply runs');
    assert.equal(await nodeA.runNow('buffer.flush'), 'ran');
    assert.equal(await nodeB.runNow('buffer.flush'), 'ran', 'a node job runs on every node');
    let stopped = false;
    const stopping = nodeA.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(stopped, false, 'stop() waits for the run under way');
    release();
    assert.equal(await first, 'ran');
    await stopping;
    assert.equal(await nodeB.runNow('expiry.scan'), 'ran', 'the lock was released when the run ended');
    assert.equal(runsB, kind === 'postgres' ? 1 : 2);
    assert.equal(nodeB.lastRunAt('expiry.scan'), clock.now().getTime());
    assert.throws(() => nodeB.runNow('nope'), /no job named nope/);
    await nodeB.stop();
  });
});
