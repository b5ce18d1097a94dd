// Experiment driver (not kept): bare route at stages 0..5, interleaved, CPU µs/req.
import { freePort, measureInterleaved, startServer, benchSettings } from './lib.ts';
const stages = (process.env.STAGES ?? '0,1,2,3,4,5').split(',').map(Number);
const payload = JSON.stringify({ type: 'user', user: { id: 1, login: 'alice', name: null, email: null, site_admin: true, created_at: '2026-12-07T00:00:00.000Z' } });
const servers = [];
for (const stage of stages) {
  const port = await freePort();
  servers.push(await startServer({ name: `stage ${stage}`, args: ['--import', 'tsx', 'bench/staged-bare.ts'], env: { BENCH_PAYLOAD: payload, PORT: String(port), STAGE: String(stage), KEYSMITH_MASTER_KEY: Buffer.alloc(32, 1).toString('base64') }, port }));
}
const settings = { ...benchSettings(), warmupSeconds: 2, durationSeconds: Number(process.env.DUR ?? 16), rounds: Number(process.env.ROUNDS ?? 8) };
const results = await measureInterleaved(servers.map((server) => ({ server, path: '/v1/user', headers: {} })), settings);
for (const [i, r] of results.entries()) console.log(`stage ${stages[i]}: ${Math.round(r.requestsPerSecond)} req/s, ${(r.serverCpuMsPerRequest! * 1000).toFixed(1)} µs CPU/req, rounds ${r.roundRequestsPerSecond.join(' ')}`);
for (const s of servers) await s.stop();
process.exit(0);
