// Benchmark: the user benchmark's bare route (bench/bare-server.ts), served by six processes that
// first did more and more of Keysmith's start-up (bench/startup-stages.ts), loaded in turn. None of
// them runs any of Keysmith's request path, so a difference in CPU per request between them is what
// the start-up leaves behind in the process (V8's inline caches and object shapes in the code every
// Node server shares), not what a request costs. Stage 0 is the baseline the user benchmark uses.
import { randomBytes } from 'node:crypto';
import { BENCH_HOST, formatNumber, formatTable, freePort, measureInterleaved, median, startServer, type BenchSettings, type LoadResult, type ServerHandle } from './lib.ts';
import { STAGES } from './startup-stages.ts';

const ROUTE = '/v1/user';
// The shape GET /v1/user answers with for a user; every process sends these same bytes.
const PAYLOAD = JSON.stringify({ type: 'user', user: { id: 1, login: 'alice', name: null, email: null, site_admin: true, created_at: '2026-12-07T00:00:00.000Z' } });

export interface StageResult {
  stage: number;
  did: string;
  result: LoadResult;
  /** Stage 0's CPU per request ÷ this stage's (1 = no cost left behind). */
  cpuRatio: number | null;
}

export async function baselineStagesBench(settings: BenchSettings): Promise<StageResult[]> {
  const servers: ServerHandle[] = [];
  try {
    for (const [stage] of STAGES.entries()) {
      const port = await freePort();
      servers.push(
        await startServer({
          name: `bare, stage ${stage}`,
          args: ['--import', 'tsx', 'bench/bare-server.ts'],
          env: { BENCH_PAYLOAD: PAYLOAD, HOST: BENCH_HOST, PORT: String(port), BENCH_BARE_STAGE: String(stage), KEYSMITH_MASTER_KEY: randomBytes(32).toString('base64') },
          port,
        }),
      );
    }
    const results = await measureInterleaved(
      servers.map((server) => ({ server, path: ROUTE, headers: {} })),
      settings,
    );
    const base = results[0]!.serverCpuMsPerRequest;
    const stages = results.map((result, stage) => ({
      stage,
      did: STAGES[stage]!,
      result,
      cpuRatio: base && result.serverCpuMsPerRequest ? Math.round((base / result.serverCpuMsPerRequest) * 100) / 100 : null,
    }));
    console.log(`\nGET ${ROUTE} on the bare route, ${settings.durationSeconds} s per server in ${settings.rounds} rounds, ${settings.connections} connections`);
    console.log(
      formatTable(
        ['stage', 'the process first', 'req/s', 'median round req/s', 'CPU µs/req', 'CPU ratio to stage 0'],
        stages.map(({ stage, did, result, cpuRatio }) => [
          String(stage),
          did,
          formatNumber(result.requestsPerSecond),
          formatNumber(median(result.roundRequestsPerSecond)),
          result.serverCpuMsPerRequest === null ? 'n/a' : formatNumber(result.serverCpuMsPerRequest * 1000, 1),
          cpuRatio === null ? 'n/a' : `${cpuRatio.toFixed(2)}×`,
        ]),
      ),
    );
    return stages;
  } finally {
    for (const server of servers.reverse()) await server.stop();
  }
}
