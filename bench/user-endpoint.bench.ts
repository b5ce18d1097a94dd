// Benchmark 1: authenticated GET /v1/user against a bare Fastify route sending the same bytes, on
// SQLite and on PostgreSQL. The ratio (authenticated req/s ÷ bare req/s) is what Keysmith's own
// per-request work — its Fastify setup, the auth hook, the credential look-up — costs on top of the
// framework floor; the target is at least 0.85 on each database.
import path from 'node:path';
import {
  BENCH_HOST,
  createPostgresTarget,
  createSqliteTarget,
  formatNumber,
  formatTable,
  freePort,
  measureInterleaved,
  median,
  pinProcess,
  startKeysmith,
  startServer,
  type BenchSettings,
  type DatabaseKind,
  type DatabaseTarget,
  type LoadResult,
  type ServerHandle,
  withLoadGeneratorPinned,
} from './lib.ts';

const ROUTE = '/v1/user';
export const TARGET_RATIO = 0.85;

export interface DatabaseResult {
  bare: LoadResult;
  authenticated: LoadResult;
  /** authenticated.requestsPerSecond / bare.requestsPerSecond */
  ratio: number;
  /** The ratio within each round (bare and authenticated measured back to back). */
  roundRatios: number[];
  /**
   * bare CPU ms per request ÷ Keysmith's: the same ratio read from the servers' own CPU time, which a
   * busy neighbour on the machine disturbs far less than req/s. Null without /proc.
   */
  cpuRatio: number | null;
  /** The body both servers answered with. */
  payload: unknown;
  /** With BENCH_USER_BEFORE: another build of Keysmith, measured in the same rounds. */
  before?: { tree: string; result: LoadResult; ratio: number };
}

export interface UserEndpointResults {
  route: string;
  databases: Partial<Record<DatabaseKind, DatabaseResult | { skipped: string }>>;
  /** Met when every measured database reaches minRatio (req/s). */
  target: { minRatio: number; ratios: Partial<Record<DatabaseKind, number>>; met: boolean };
}

export async function userEndpointBench(settings: BenchSettings): Promise<UserEndpointResults> {
  const databases: UserEndpointResults['databases'] = {};

  const sqlite = await benchDatabase(await createSqliteTarget(), settings);
  databases.sqlite = sqlite;

  const postgres = await createPostgresTarget(settings.postgresAdminUrl);
  if ('unavailable' in postgres) {
    console.log(`\nPostgreSQL is unreachable, so only SQLite was measured.\n  ${postgres.unavailable}`);
    databases.postgres = { skipped: `PostgreSQL unreachable: ${postgres.unavailable}` };
  } else {
    databases.postgres = await benchDatabase(postgres, settings);
  }

  const ratios: UserEndpointResults['target']['ratios'] = {};
  for (const [kind, result] of Object.entries(databases) as Array<[DatabaseKind, DatabaseResult | { skipped: string }]>) {
    if ('ratio' in result) ratios[kind] = result.ratio;
  }
  const met = Object.values(ratios).every((ratio) => ratio >= TARGET_RATIO);
  const measured = Object.entries(ratios)
    .map(([kind, ratio]) => `${kind} ${ratio.toFixed(2)}×`)
    .join(', ');
  console.log(`\ntarget ≥ ${TARGET_RATIO}× on each database: ${met ? 'met' : 'not met'} (${measured})`);
  return { route: `GET ${ROUTE}`, databases, target: { minRatio: TARGET_RATIO, ratios, met } };
}

async function benchDatabase(database: DatabaseTarget, settings: BenchSettings): Promise<DatabaseResult> {
  const servers: ServerHandle[] = [];
  try {
    const keysmith = await startKeysmith(database, settings);
    servers.push(keysmith.server);
    // Sent to the bare server too, so both receive identical requests.
    const headers = { authorization: `Bearer ${keysmith.apiKey}` };
    const payload = await fetchBody(keysmith.server, headers);

    const port = await freePort();
    const bare = await startServer({
      name: 'bare Fastify',
      // Profiled too when Keysmith is (into <dir>/bare), so the two profiles can be compared.
      args: [...(settings.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(settings.cpuProfileDir, 'bare')}`] : []), '--import', 'tsx', 'bench/bare-server.ts'],
      env: { BENCH_PAYLOAD: payload, HOST: BENCH_HOST, PORT: String(port) },
      port,
    });
    servers.push(bare);
    const barePayload = await fetchBody(bare, headers);
    if (barePayload !== payload) {
      throw new Error(`The bare server's body differs from Keysmith's, so the comparison would be unfair:\n  Keysmith: ${payload}\n  bare:     ${barePayload}`);
    }
    // BENCH_USER_BEFORE=<directory>: a checkout of another commit (with its node_modules), served on the
    // same database and measured in the same rounds, for a before/after that the machine's drift
    // between runs cannot blur.
    const beforeTree = process.env.BENCH_USER_BEFORE?.trim();
    const before = beforeTree ? await startKeysmithFrom(beforeTree, keysmith.env) : undefined;
    if (before) {
      servers.push(before);
      if ((await fetchBody(before, headers)) !== payload) throw new Error(`The build in ${beforeTree} answers a different body, so the comparison would be unfair.`);
    }

    // Only one server is under load at any moment; the others idle. Pinned (lib.ts, cpuPinning), the
    // server under load has a core of its own and the load generator the other.
    const { pinning } = settings;
    if (pinning) for (const server of servers) pinProcess(server.pid, pinning.servers);
    const [bareResult, authenticated, beforeResult] = await withLoadGeneratorPinned(pinning, () =>
      measureInterleaved([{ server: bare, path: ROUTE, headers }, { server: keysmith.server, path: ROUTE, headers }, ...(before ? [{ server: before, path: ROUTE, headers }] : [])], settings),
    );
    const roundRatios = authenticated.roundRequestsPerSecond.map((rps, i) => round2(rps / bareResult.roundRequestsPerSecond[i]!));
    const result: DatabaseResult = {
      bare: bareResult,
      authenticated,
      ratio: authenticated.requestsPerSecond / bareResult.requestsPerSecond,
      roundRatios,
      cpuRatio: bareResult.serverCpuMsPerRequest && authenticated.serverCpuMsPerRequest ? round2(bareResult.serverCpuMsPerRequest / authenticated.serverCpuMsPerRequest) : null,
      payload: JSON.parse(payload),
      ...(beforeTree && beforeResult ? { before: { tree: beforeTree, result: beforeResult, ratio: beforeResult.requestsPerSecond / bareResult.requestsPerSecond } } : {}),
    };
    printDatabaseResult(database, result, settings);
    return result;
  } finally {
    // Stopping with SIGTERM (not SIGKILL) lets a --cpu-prof child write its profile.
    for (const server of servers.reverse()) await server.stop();
    await database.dispose();
  }
}

/** One request outside the measurement, so a 401 or a wrong body fails before any load is sent. */
async function fetchBody(server: ServerHandle, headers: Record<string, string>): Promise<string> {
  const response = await fetch(`${server.url}${ROUTE}`, { headers });
  const body = await response.text();
  if (response.status !== 200) {
    throw new Error(`${server.name}: GET ${ROUTE} answered ${response.status}, expected 200: ${body}\nServer output:\n${server.output() || '(none)'}`);
  }
  return body;
}

const round2 = (value: number): number => Math.round(value * 100) / 100;

function printDatabaseResult(database: DatabaseTarget, result: DatabaseResult, settings: BenchSettings): void {
  const row = (name: string, r: LoadResult) => [
    name,
    formatNumber(r.requestsPerSecond),
    formatNumber(r.latencyMs.p99, 2),
    formatNumber(r.latencyMs.average, 2),
    formatNumber(r.totalRequests),
    r.serverCpuMsPerRequest === null ? 'n/a' : formatNumber(r.serverCpuMsPerRequest, 4),
    r.roundRequestsPerSecond.map((rps) => formatNumber(rps / 1000, 1) + 'k').join(' '),
  ];
  console.log(
    `\n${database.label}: GET ${ROUTE}, ${settings.durationSeconds} s per server in ${settings.rounds} alternating rounds ` +
      `after ${settings.warmupSeconds} s warm-up, ${settings.connections} connections, pipelining ${settings.pipelining}; ` +
      (settings.pinning ? `servers on CPU ${settings.pinning.servers}, load generator on CPU ${settings.pinning.loadGenerator}` : 'not pinned to CPUs'),
  );
  console.log(
    formatTable(
      ['server', 'req/s', 'p99 ms', 'avg ms', 'requests', 'CPU ms/req', 'req/s by round'],
      [row('bare Fastify', result.bare), row('Keysmith (authenticated)', result.authenticated), ...(result.before ? [row('Keysmith before (BENCH_USER_BEFORE)', result.before.result)] : [])],
    ),
  );
  const spread =
    result.roundRatios.length > 1 ? ` (by round: median ${median(result.roundRatios).toFixed(2)}, ${Math.min(...result.roundRatios).toFixed(2)}–${Math.max(...result.roundRatios).toFixed(2)})` : '';
  console.log(`ratio authenticated/bare (req/s): ${result.ratio.toFixed(2)}×${spread}`);
  if (result.cpuRatio !== null) console.log(`ratio bare/authenticated (server CPU per request): ${result.cpuRatio.toFixed(2)}×`);
  if (result.before) console.log(`before (${result.before.tree}): ratio ${result.before.ratio.toFixed(2)}× (req/s)`);
}

/** Keysmith from another checkout, on the same database and master key (already initialised: the same key works). */
async function startKeysmithFrom(tree: string, env: NodeJS.ProcessEnv): Promise<ServerHandle> {
  const bin = path.resolve(tree, 'bin/keysmith.mjs');
  const port = await freePort();
  return startServer({
    name: `Keysmith before (${tree})`,
    args: [bin, 'serve'],
    env: { ...env, KEYSMITH_HOST: BENCH_HOST, KEYSMITH_PORT: String(port) },
    port,
  });
}
