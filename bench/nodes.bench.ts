// Benchmark: several `keysmith serve` nodes on one PostgreSQL database.
// 1. Revocation propagation: a user API key, cached on nodes B and C, is deleted through node A; how
//    long until both refuse it (from A's 204, and from sending the DELETE). Target: worst <= 1000 ms.
// 2. Sustained authenticated throughput (GET /v1/user) of one node against two, the same total
//    connections, with each server's CPU time per request (from /proc/<pid>/stat).
import fs from 'node:fs';
import autocannon from 'autocannon';
import { createPostgresTarget, formatNumber, formatTable, median, runNode, startServer, freePort, BENCH_HOST, type BenchSettings, type ServerHandle } from './lib.ts';
import { randomBytes } from 'node:crypto';

const TRIALS = 25;
const TARGET_WORST_MS = 1000;
const ROUTE = '/v1/user';

export interface NodesResults {
  propagation: { trials: number; fromAcknowledgedMs: { median: number; worst: number }; fromSentMs: { median: number; worst: number }; targetWorstMs: number; met: boolean } | { skipped: string };
  throughput?: { oneNode: Throughput; twoNodes: Throughput; ratio: number };
}

interface Throughput {
  requestsPerSecond: number;
  cpuMsPerRequest: number;
  non2xx: number;
}

/** utime + stime of a process, in ms (Linux: clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function until(check: () => Promise<boolean>, capMs: number): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < capMs) if (await check()) return performance.now();
  throw new Error(`not refused within ${capMs} ms`);
}

async function load(servers: ServerHandle[], apiKey: string, settings: BenchSettings, seconds: number): Promise<Throughput> {
  const per = Math.max(1, Math.floor(settings.connections / servers.length));
  const before = servers.map((s) => cpuMs(s.pid));
  const results = await Promise.all(
    servers.map((s) => autocannon({ url: `${s.url}${ROUTE}`, headers: { authorization: `Bearer ${apiKey}` }, connections: per, pipelining: settings.pipelining, duration: seconds })),
  );
  const cpu = servers.reduce((sum, s, i) => sum + cpuMs(s.pid) - before[i]!, 0);
  const requests = results.reduce((sum, r) => sum + r['2xx'], 0);
  const duration = Math.max(...results.map((r) => r.duration));
  return { requestsPerSecond: requests / duration, cpuMsPerRequest: cpu / Math.max(1, requests), non2xx: results.reduce((sum, r) => sum + r.non2xx, 0) };
}

export async function nodesBench(settings: BenchSettings): Promise<NodesResults> {
  const database = await createPostgresTarget(settings.postgresAdminUrl);
  if ('unavailable' in database) {
    console.log(`PostgreSQL unavailable (${database.unavailable}): skipped`);
    return { propagation: { skipped: database.unavailable } };
  }
  const servers: ServerHandle[] = [];
  try {
    const env = { KEYSMITH_DATABASE_URL: database.url, KEYSMITH_MASTER_KEY: randomBytes(32).toString('base64'), KEYSMITH_LOG_LEVEL: 'warn' };
    const printed = await runNode(['bin/keysmith.mjs', 'init', '--login', 'alice', '--account', 'acme', '--json'], env);
    const apiKey = (JSON.parse(printed) as { api_key: string }).api_key;
    for (const name of ['A', 'B', 'C']) {
      const port = await freePort();
      servers.push(await startServer({ name: `node ${name}`, args: ['bin/keysmith.mjs', 'serve'], env: { ...env, KEYSMITH_HOST: BENCH_HOST, KEYSMITH_PORT: String(port) }, port }));
    }
    const [a, b, c] = servers as [ServerHandle, ServerHandle, ServerHandle];
    const auth = (key: string) => ({ authorization: `Bearer ${key}` });

    const fromAck: number[] = [];
    const fromSent: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const made = await fetch(`${a.url}/v1/user/api-keys`, { method: 'POST', headers: { ...auth(apiKey), 'content-type': 'application/json' }, body: JSON.stringify({ name: `trial-${trial}` }) });
      const { id, key } = (await made.json()) as { id: number; key: string };
      for (const n of [b, c]) if ((await fetch(`${n.url}${ROUTE}`, { headers: auth(key) })).status !== 200) throw new Error('the new key does not work');
      const sent = performance.now();
      const deleted = await fetch(`${a.url}/v1/user/api-keys/${id}`, { method: 'DELETE', headers: auth(apiKey) });
      const acknowledged = performance.now();
      if (deleted.status !== 204) throw new Error(`delete answered ${deleted.status}`);
      const refusedAt = await Promise.all([b, c].map((n) => until(async () => (await fetch(`${n.url}${ROUTE}`, { headers: auth(key) })).status === 401, 10_000)));
      const last = Math.max(...refusedAt);
      fromAck.push(Math.max(0, last - acknowledged));
      fromSent.push(last - sent);
    }
    const worst = Math.max(...fromSent);
    const propagation = {
      trials: TRIALS,
      fromAcknowledgedMs: { median: median(fromAck), worst: Math.max(...fromAck) },
      fromSentMs: { median: median(fromSent), worst },
      targetWorstMs: TARGET_WORST_MS,
      met: worst <= TARGET_WORST_MS,
    };
    console.log(
      formatTable(
        ['revocation on B and C', 'median ms', 'worst ms'],
        [
          ["from A's 204", formatNumber(propagation.fromAcknowledgedMs.median, 1), formatNumber(propagation.fromAcknowledgedMs.worst, 1)],
          ['from sending the DELETE', formatNumber(propagation.fromSentMs.median, 1), formatNumber(worst, 1)],
        ],
      ),
    );
    console.log(`${TRIALS} trials; target worst <= ${TARGET_WORST_MS} ms: ${propagation.met ? 'met' : 'NOT met'}`);

    // Throughput: warm both, then one node, then two, the same total connections.
    await load([a, b], apiKey, settings, settings.warmupSeconds);
    const oneNode = await load([a], apiKey, settings, settings.durationSeconds);
    const twoNodes = await load([a, b], apiKey, settings, settings.durationSeconds);
    console.log(
      formatTable(
        ['GET /v1/user', 'req/s', 'server CPU ms/req', 'non-2xx'],
        [
          ['one node', formatNumber(oneNode.requestsPerSecond), formatNumber(oneNode.cpuMsPerRequest, 3), String(oneNode.non2xx)],
          ['two nodes', formatNumber(twoNodes.requestsPerSecond), formatNumber(twoNodes.cpuMsPerRequest, 3), String(twoNodes.non2xx)],
        ],
      ),
    );
    const ratio = twoNodes.requestsPerSecond / oneNode.requestsPerSecond;
    console.log(`two nodes / one node: ${formatNumber(ratio, 2)}× (the load generator shares the machine's cores with the servers)`);
    return { propagation, throughput: { oneNode, twoNodes, ratio } };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await database.dispose();
  }
}
