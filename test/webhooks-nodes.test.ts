// Two `keysmith serve` processes on one fresh PostgreSQL database, both looking for due webhook
// deliveries: every delivery reaches the receiver exactly once, with one recorded attempt, whichever
// node queued it. (SQLite serves a single process, so there is nothing to share.)
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { freshDatabase, keysmith } from './cli-helpers.ts';
import { databases } from './harness.ts';
import { pollUntil, startNode, type Node } from './node-processes.ts';

const CHANGES = 40;

if (!databases.includes('postgres')) {
  // harness.ts has already failed the run under CI=true, or said loudly that PostgreSQL is skipped.
  test('webhook delivery across nodes needs PostgreSQL', { skip: 'PostgreSQL is unreachable' }, () => {});
} else {
  test('two nodes on one PostgreSQL deliver each webhook exactly once', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-webhook-nodes-'));
    const db = await freshDatabase('postgres', dir);
    // One teardown, in order: the nodes and this test's connection go before the database does.
    const cleanups: Array<() => Promise<unknown>> = [];
    t.after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
      await db.drop();
    });
    const env = { KEYSMITH_DATABASE_URL: db.url, KEYSMITH_MASTER_KEY: randomBytes(32).toString('base64') };
    const init = keysmith(['init', '--login', 'alice', '--account', 'acme', '--json'], env, dir);
    assert.equal(init.code, 0, init.stderr);
    const ownerKey = (JSON.parse(init.stdout) as { api_key: string }).api_key;

    // A slow receiver (each answer waits a little), so both nodes' delivery runs overlap.
    const seen: string[] = [];
    const receiver = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen.push(String(req.headers['x-keysmith-delivery']));
        setTimeout(() => res.writeHead(204).end(), 50);
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

    const nodes: Node[] = await Promise.all([0, 1].map(() => startNode(env, dir)));
    cleanups.push(() => Promise.all(nodes.map((n) => n.stop())));
    const headers = { authorization: `Bearer ${ownerKey}`, 'content-type': 'application/json', 'x-keysmith-account': 'acme' };
    const hook = await fetch(`${nodes[0]!.url}/v1/accounts/acme/webhooks`, { method: 'POST', headers, body: JSON.stringify({ url: hookUrl, events: ['credential.created'] }) });
    assert.equal(hook.status, 201, await hook.clone().text());

    // Changes made through both nodes at once: each node kicks its own delivery run after its
    // commits and polls for the other's every 5 s, so both claim from the same outbox.
    await Promise.all(
      Array.from({ length: CHANGES }, async (_, i) => {
        const res = await fetch(`${nodes[i % 2]!.url}/v1/service-api-keys`, { method: 'POST', headers, body: JSON.stringify({ name: `key ${i}`, role: 'read_only' }) });
        assert.equal(res.status, 201);
      }),
    );

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    cleanups.push(() => client.end());
    const delivered = async () => Number((await client.query<{ n: string }>("select count(*) as n from webhook_deliveries where state = 'delivered'")).rows[0]!.n);
    const took = await pollUntil(async () => (await delivered()) === CHANGES, 60_000);
    assert.ok(took !== undefined, `all ${CHANGES} deliveries delivered (${await delivered()} were)`);
    t.diagnostic(`${CHANGES} deliveries delivered by two nodes in ${took.toFixed(0)} ms`);

    const { rows } = await client.query<{ id: string; attempts: number; recorded: string }>(
      'select d.id, d.attempts, (select count(*) from webhook_attempts a where a.delivery_id = d.id) as recorded from webhook_deliveries d',
    );
    assert.equal(rows.length, CHANGES);
    for (const r of rows) {
      assert.equal(r.attempts, 1, `delivery ${r.id} was attempted once`);
      assert.equal(Number(r.recorded), 1, `delivery ${r.id} has one recorded attempt`);
    }
    // The receiver saw each delivery id once, and nothing else.
    assert.equal(seen.length, CHANGES, `the receiver got ${seen.length} POSTs for ${CHANGES} deliveries`);
    assert.deepEqual([...new Set(seen)].sort(), rows.map((r) => r.id).sort());
  });
}
