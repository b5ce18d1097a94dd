// Three `keysmith serve` processes on one fresh PostgreSQL database: what one node changes, the others
// honour; sign-in failures are counted across them; migrations run once. (SQLite serves a single process.)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { BIN, freshDatabase, keysmith } from './cli-helpers.ts';
import { databases } from './harness.ts';
import { pollUntil, startNode, type Node } from './node-processes.ts';

const CAP_MS = 10_000;

if (!databases.includes('postgres')) {
  // harness.ts has already failed the run under CI=true, or said loudly that PostgreSQL is skipped.
  test('several nodes need PostgreSQL', { skip: 'PostgreSQL is unreachable' }, () => {});
} else {
  test('three nodes on one PostgreSQL: deletions and removals made through one are refused by all, sign-in failures count across them, migrations ran once', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-nodes-'));
    const db = await freshDatabase('postgres', dir);
    t.after(() => db.drop());
    const metricsToken = randomBytes(24).toString('hex');
    const env = { KEYSMITH_DATABASE_URL: db.url, KEYSMITH_MASTER_KEY: randomBytes(32).toString('base64'), KEYSMITH_METRICS_TOKEN: metricsToken };

    // Three migrators at once on the fresh database, then three servers started together.
    const migrators = await Promise.all([0, 1, 2].map(() => runAsync(['migrate'], env, dir)));
    for (const m of migrators) assert.equal(m.code, 0, m.stderr);
    const nodes: Node[] = await Promise.all([0, 1, 2].map(() => startNode(env, dir)));
    t.after(() => Promise.all(nodes.map((n) => n.stop())));
    const [a, b, c] = nodes as [Node, Node, Node];
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query<{ name: string; n: string }>('select name, count(*) as n from kysely_migration group by name');
    await client.end();
    assert.ok(rows.length > 5, 'the migrations were recorded');
    for (const r of rows) assert.equal(Number(r.n), 1, `${r.name} applied once`);

    const init = keysmith(['init', '--login', 'alice', '--account', 'acme', '--json'], env, dir);
    assert.equal(init.code, 0, init.stderr);
    const adminKey = (JSON.parse(init.stdout) as { api_key: string }).api_key;
    const as = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });

    // An API key deleted through A is refused by B and C.
    const made = await fetch(`${a.url}/v1/user/api-keys`, { method: 'POST', headers: as(adminKey), body: JSON.stringify({ name: 'doomed' }) });
    assert.equal(made.status, 201);
    const doomed = (await made.json()) as { id: number; key: string };
    for (const n of nodes) assert.equal((await fetch(`${n.url}/v1/user`, { headers: as(doomed.key) })).status, 200, 'the key works on every node (and is cached there)');
    const deleted = await fetch(`${a.url}/v1/user/api-keys/${doomed.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${adminKey}` } });
    assert.equal(deleted.status, 204);
    for (const [name, n] of [
      ['B', b],
      ['C', c],
    ] as const) {
      const took = await pollUntil(async () => (await fetch(`${n.url}/v1/user`, { headers: as(doomed.key) })).status === 401, CAP_MS);
      assert.ok(took !== undefined, `node ${name} refuses the deleted key within ${CAP_MS} ms`);
      t.diagnostic(`deleted key refused by node ${name} after ${took.toFixed(0)} ms`);
    }

    // A member removed through A is cut off on B and C.
    const bobPassword = 'correct horse battery';
    assert.equal((await fetch(`${a.url}/v1/admin/users`, { method: 'POST', headers: as(adminKey), body: JSON.stringify({ login: 'bob', password: bobPassword }) })).status, 201);
    const signIn = await fetch(`${b.url}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'bob', password: bobPassword }) });
    assert.equal(signIn.status, 200);
    const cookie = signIn.headers
      .getSetCookie()
      .map((v) => v.split(';')[0])
      .join('; ');
    const { csrf_token } = (await signIn.json()) as { csrf_token: string };
    const bobKeyRes = await fetch(`${c.url}/v1/user/api-keys`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrf_token, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bob' }),
    });
    assert.equal(bobKeyRes.status, 201);
    const bobKey = ((await bobKeyRes.json()) as { key: string }).key;
    assert.equal((await fetch(`${a.url}/v1/accounts/acme/members/bob`, { method: 'PUT', headers: as(adminKey), body: JSON.stringify({ role: 'read_only' }) })).status, 201);
    for (const n of nodes) assert.equal((await fetch(`${n.url}/v1/accounts/acme/members`, { headers: as(bobKey) })).status, 200, 'bob reads the account on every node');
    assert.equal((await fetch(`${a.url}/v1/accounts/acme/members/bob`, { method: 'DELETE', headers: as(adminKey) })).status, 204);
    for (const [name, n] of [
      ['B', b],
      ['C', c],
    ] as const) {
      const took = await pollUntil(async () => (await fetch(`${n.url}/v1/accounts/acme/members`, { headers: as(bobKey) })).status === 404, CAP_MS);
      assert.ok(took !== undefined, `node ${name} cuts the removed member off within ${CAP_MS} ms`);
      t.diagnostic(`removed member cut off on node ${name} after ${took.toFixed(0)} ms`);
    }

    // A disabled user's key, cached on every node, is refused by all.
    for (const n of nodes) assert.equal((await fetch(`${n.url}/v1/user`, { headers: as(bobKey) })).status, 200);
    const disabled = await fetch(`${a.url}/v1/admin/users/bob`, { method: 'PATCH', headers: as(adminKey), body: JSON.stringify({ disabled: true }) });
    assert.equal(disabled.status, 200, await disabled.text());
    for (const [name, n] of [
      ['B', b],
      ['C', c],
    ] as const) {
      const took = await pollUntil(async () => (await fetch(`${n.url}/v1/user`, { headers: as(bobKey) })).status === 403, CAP_MS);
      assert.ok(took !== undefined, `node ${name} refuses the disabled user's key within ${CAP_MS} ms`);
      t.diagnostic(`disabled user's key refused by node ${name} after ${took.toFixed(0)} ms`);
    }

    // Failed sign-ins spread over the nodes hit the throttle as they would on one: five free failures
    // per address, then a wait (each node alone has seen at most two).
    const wrong = (n: Node) => fetch(`${n.url}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'carol', password: 'not it at all' }) });
    for (const n of [a, b, c, a, b]) assert.equal((await wrong(n)).status, 401);
    const throttled = await wrong(c);
    assert.equal(throttled.status, 429, 'the sixth failure, on a node that saw one, is throttled');
    assert.equal(((await throttled.json()) as { error: { code: string } }).error.code, 'rate_limited');

    // The listening connections are cut (as a failover or a restarted PostgreSQL would): each node
    // reconnects and LISTENs again, and revocations reach it again.
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    const listeners = async () =>
      (await admin.query<{ pid: number }>("select pid from pg_stat_activity where datname = current_database() and query = 'LISTEN keysmith_invalidate' and pid <> pg_backend_pid()")).rows;
    const before = await listeners();
    assert.equal(before.length, 3, 'one listening connection per node');
    for (const { pid } of before) await admin.query('select pg_terminate_backend($1)', [pid]);
    const back = await pollUntil(async () => (await listeners()).filter((l) => !before.some((b) => b.pid === l.pid)).length === 3, CAP_MS);
    assert.ok(back !== undefined, 'every node listens again');
    t.diagnostic(`all three nodes listening again ${back.toFixed(0)} ms after their connections were cut`);
    await admin.end();
    const again = (await (await fetch(`${a.url}/v1/user/api-keys`, { method: 'POST', headers: as(adminKey), body: JSON.stringify({ name: 'again' }) })).json()) as { id: number; key: string };
    for (const n of nodes) assert.equal((await fetch(`${n.url}/v1/user`, { headers: as(again.key) })).status, 200);
    assert.equal((await fetch(`${a.url}/v1/user/api-keys/${again.id}`, { method: 'DELETE', headers: as(adminKey) })).status, 204);
    for (const [name, n] of [
      ['B', b],
      ['C', c],
    ] as const) {
      const took = await pollUntil(async () => (await fetch(`${n.url}/v1/user`, { headers: as(again.key) })).status === 401, CAP_MS);
      assert.ok(took !== undefined, `node ${name} refuses a key deleted after the reconnect`);
      t.diagnostic(`after the reconnect, deleted key refused by node ${name} after ${took.toFixed(0)} ms`);
    }

    // Each node is ready (database answers, nothing pending) and shows its own metrics to the token only.
    for (const n of nodes) {
      const ready = await fetch(`${n.url}/readyz`);
      assert.equal(ready.status, 200, await ready.text());
      assert.equal((await fetch(`${n.url}/metrics`)).status, 401, 'no token, no metrics');
      const metrics = await fetch(`${n.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
      assert.equal(metrics.status, 200);
      const text = await metrics.text();
      assert.match(text, /^keysmith_http_requests_total\{method="GET",route="\/v1\/user",status_code="200"\} \d+$/m, 'this node counted the requests it answered');
      assert.match(text, /^keysmith_process_cpu_seconds_total /m);
      assert.ok(!text.includes('alice') && !text.includes('bob'), 'no login in the labels');
    }

    for (const n of nodes) assert.equal(await n.stop(), 0, `a node stops cleanly on SIGTERM: ${n.output()}`);
  });
}

/** A real process each, started together: the advisory lock is what keeps them from colliding. */
function runAsync(args: string[], env: Record<string, string>, cwd: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH!, ...env } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}
