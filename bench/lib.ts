// Shared machinery for the benchmarks: settings, child-process servers that never outlive the runner,
// throw-away databases, an initialised Keysmith, load generation and the printed tables.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon, { type Result } from 'autocannon';
import pg from 'pg';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BENCH_HOST = '127.0.0.1';

// ---------------------------------------------------------------------------------------------
// Settings

export interface BenchSettings {
  warmupSeconds: number;
  durationSeconds: number;
  /** The measured time is split into this many alternating rounds per target. */
  rounds: number;
  connections: number;
  pipelining: number;
  /** Admin connection used only to create and drop a throw-away database. */
  postgresAdminUrl: string;
  /** When set, the Keysmith child runs with --cpu-prof and writes its profile here on exit. */
  cpuProfileDir: string | undefined;
  /** Where the load generator and the servers under test run, for the benchmarks that pin them (see cpuPinning). */
  pinning: CpuPinning | undefined;
}

/** CPU lists in taskset's syntax. */
export interface CpuPinning {
  loadGenerator: string;
  servers: string;
}

/**
 * With at least two CPUs and `taskset`: the load generator (this process) on CPU 0, the servers under
 * test on the others, so that the server under load never shares its core with the load generator and
 * the scheduler's placement of the two is not one more thing that differs between rounds.
 * BENCH_PIN=0 turns it off.
 */
function cpuPinning(env: NodeJS.ProcessEnv): CpuPinning | undefined {
  if (env.BENCH_PIN?.trim() === '0') return undefined;
  const cpus = os.availableParallelism();
  if (cpus < 2) return undefined;
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  return { loadGenerator: '0', servers: cpus === 2 ? '1' : `1-${cpus - 1}` };
}

/** Sets the CPUs of every thread of a process. */
export function pinProcess(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

/** Pins this process (the load generator) for the duration of `task`, then gives it back the CPUs it had. */
export async function withLoadGeneratorPinned<T>(pinning: CpuPinning | undefined, task: () => Promise<T>): Promise<T> {
  if (!pinning) return task();
  // "pid 123's current affinity list: 0-3"
  const had = execFileSync('taskset', ['-c', '-p', String(process.pid)], { encoding: 'utf8' })
    .trim()
    .split(' ')
    .at(-1)!;
  pinProcess(process.pid, pinning.loadGenerator);
  try {
    return await task();
  } finally {
    pinProcess(process.pid, had);
  }
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number of seconds, not "${text}".`);
  return value;
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number, not "${text}".`);
  return value;
}

export function benchSettings(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  const cpuProfileDir = env.BENCH_CPU_PROF?.trim();
  return {
    warmupSeconds: positiveNumber(env, 'BENCH_WARMUP', 2),
    durationSeconds: positiveNumber(env, 'BENCH_DURATION', 10),
    rounds: positiveInteger(env, 'BENCH_ROUNDS', 5),
    // Fixed on purpose: results are only comparable across runs if the load shape stays the same.
    connections: 10,
    pipelining: 1,
    postgresAdminUrl: env.BENCH_POSTGRES_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/test',
    cpuProfileDir: cpuProfileDir ? path.resolve(cpuProfileDir) : undefined,
    pinning: cpuPinning(env),
  };
}

// ---------------------------------------------------------------------------------------------
// Cleanup: children are killed and throw-away databases dropped however the runner ends.

const liveChildren = new Set<ChildProcess>();
const pendingCleanups = new Set<() => Promise<void>>();

/** Registers `task` to run if the runner is interrupted; call the returned function once it ran normally. */
export function onInterrupt(task: () => Promise<void>): () => void {
  pendingCleanups.add(task);
  return () => pendingCleanups.delete(task);
}

let handlersInstalled = false;
let interrupted = false;

/** True once a signal has started the cleanup; failures after that are its consequence, not news. */
export const wasInterrupted = (): boolean => interrupted;

export function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // 'exit' also fires after an uncaught exception, but only synchronous work can run there.
  process.on('exit', () => {
    for (const child of liveChildren) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      interrupted = true;
      process.stderr.write(`\nbench: ${signal}, stopping servers and cleaning up\n`);
      for (const child of liveChildren) child.kill('SIGKILL');
      const tasks = [...pendingCleanups].map((task) => task().catch(() => undefined));
      const deadline = new Promise((resolve) => setTimeout(resolve, 5_000).unref());
      void Promise.race([Promise.all(tasks), deadline]).finally(() => process.exit(130));
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Processes

export async function freePort(): Promise<number> {
  // Port 0 would be simpler, but then the server would have to tell us which port it got, and
  // Keysmith only logs that at info level, which the benchmark turns off.
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, BENCH_HOST, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Runs `node <args>` in the repository and returns its stdout; a non-zero exit throws with stderr. */
export async function runNode(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`node ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

export interface ServerHandle {
  readonly name: string;
  /** http://host:port, no trailing slash. */
  readonly url: string;
  readonly pid: number;
  /** The last lines the server wrote, for error messages. */
  output(): string;
  /** Throws (with the server's output) if the process has exited. */
  assertAlive(): void;
  /** SIGTERM, then SIGKILL if it has not exited within 10 s. */
  stop(): Promise<void>;
}

const OUTPUT_LIMIT = 16 * 1024;

/** Spawns `node <args>` and resolves once GET /healthz answers 200. */
export async function startServer(options: { name: string; args: string[]; env: NodeJS.ProcessEnv; port: number; startupTimeoutMs?: number }): Promise<ServerHandle> {
  const child = spawn(process.execPath, options.args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveChildren.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exitDescription: string | undefined;
  const exited = new Promise<void>((resolve) => {
    const gone = (description: string) => {
      exitDescription ??= description;
      liveChildren.delete(child);
      resolve();
    };
    child.once('exit', (code, signal) => gone(signal ? `was killed by ${signal}` : `exited with code ${code}`));
    child.once('error', (err) => gone(`could not be started: ${err.message}`));
  });

  const url = `http://${BENCH_HOST}:${options.port}`;
  const handle: ServerHandle = {
    name: options.name,
    url,
    pid: child.pid ?? -1,
    output: () => output,
    assertAlive() {
      if (exitDescription) throw new Error(`${options.name} server ${exitDescription}. Its output:\n${output || '(none)'}`);
    },
    async stop() {
      if (exitDescription) return;
      child.kill('SIGTERM');
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killTimer);
    },
  };

  try {
    await waitForHealth(handle, options.startupTimeoutMs);
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return handle;
}

async function waitForHealth(server: ServerHandle, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    server.assertAlive();
    try {
      const response = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${server.name} server did not answer GET /healthz within ${timeoutMs / 1000} s. Its output:\n${server.output() || '(none)'}`);
}

// ---------------------------------------------------------------------------------------------
// Databases and Keysmith

export type DatabaseKind = 'sqlite' | 'postgres';

export interface DatabaseTarget {
  readonly kind: DatabaseKind;
  readonly label: string;
  readonly url: string;
  dispose(): Promise<void>;
}

export async function createSqliteTarget(): Promise<DatabaseTarget> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'keysmith-bench-'));
  const dispose = () => fs.rm(dir, { recursive: true, force: true });
  const forget = onInterrupt(dispose);
  return {
    kind: 'sqlite',
    label: 'SQLite',
    url: `sqlite:${path.join(dir, 'keysmith.db')}`,
    async dispose() {
      forget();
      await dispose();
    },
  };
}

/** A freshly created database, or why PostgreSQL could not be used. */
export async function createPostgresTarget(adminUrl: string): Promise<DatabaseTarget | { unavailable: string }> {
  const name = `keysmith_bench_${randomBytes(6).toString('hex')}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3_000 });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  try {
    await admin(`CREATE DATABASE ${name}`);
  } catch (err) {
    return { unavailable: `${redactPassword(adminUrl)}: ${(err as Error).message || String(err)}` };
  }
  // FORCE ends any connection a crashed server child may have left behind.
  const dispose = () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  const forget = onInterrupt(dispose);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    label: 'PostgreSQL',
    url: url.toString(),
    async dispose() {
      forget();
      await dispose();
    },
  };
}

function redactPassword(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return databaseUrl;
  }
}

export interface KeysmithInstance {
  readonly server: ServerHandle;
  /** The ksu_ key `keysmith init` printed for the first user. */
  readonly apiKey: string;
  /** The settings it was started with (database, master key, log level), for another build on the same data. */
  readonly env: NodeJS.ProcessEnv;
}

/** `keysmith init` on the (empty) database, then `keysmith serve` on a free port. */
export async function startKeysmith(database: DatabaseTarget, settings: BenchSettings): Promise<KeysmithInstance> {
  const env: NodeJS.ProcessEnv = {
    KEYSMITH_DATABASE_URL: database.url,
    // Set so that no master key file is written into the repository's data/ directory.
    KEYSMITH_MASTER_KEY: randomBytes(32).toString('base64'),
    // Request logging at info level would dominate the profile and the numbers.
    KEYSMITH_LOG_LEVEL: 'warn',
  };
  const printed = await runNode(['bin/keysmith.mjs', 'init', '--login', 'alice', '--account', 'acme', '--json'], env);
  const apiKey = (JSON.parse(printed) as { api_key?: unknown }).api_key;
  if (typeof apiKey !== 'string' || !apiKey.startsWith('ksu_')) throw new Error(`keysmith init printed no user API key: ${printed}`);

  const port = await freePort();
  const profiling = settings.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${settings.cpuProfileDir}`] : [];
  const server = await startServer({
    name: `Keysmith (${database.label})`,
    args: [...profiling, 'bin/keysmith.mjs', 'serve'],
    env: { ...env, KEYSMITH_HOST: BENCH_HOST, KEYSMITH_PORT: String(port) },
    port,
  });
  return { server, apiKey, env };
}

// ---------------------------------------------------------------------------------------------
// Load

export interface LoadTarget {
  server: ServerHandle;
  path: string;
  /** Paths each connection cycles through instead of `path` alone (so that no cache answers them all). */
  paths?: string[];
  headers: Record<string, string>;
}

export interface LoadResult {
  /** Completed requests over measured seconds, all rounds together. */
  requestsPerSecond: number;
  /** The same, round by round: their spread shows how noisy the machine was. */
  roundRequestsPerSecond: number[];
  /** From every 2xx response's own time, not autocannon's histogram, which truncates to whole ms. */
  latencyMs: { average: number; p50: number; p99: number; max: number };
  totalRequests: number;
  durationSeconds: number;
  statusCodes: Record<string, number>;
  /**
   * The server process's own CPU time (user + system, from /proc) per answered request, over the
   * measured rounds; null where /proc is missing. Unlike req/s it barely moves when another process
   * takes the cores away, so it is the number to compare across runs on a shared machine.
   */
  serverCpuMsPerRequest: number | null;
}

let clockTicksPerSecond: number | undefined;

/** CPU time (ms, user + system) the process has used so far, or undefined without /proc (not Linux). */
export async function processCpuMs(pid: number): Promise<number | undefined> {
  let stat: string;
  try {
    stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  clockTicksPerSecond ??= await new Promise<number>((resolve) => {
    execFile('getconf', ['CLK_TCK'], (err, stdout) => resolve(err ? 100 : Number(stdout.trim()) || 100));
  });
  // Fields after the parenthesised command name (which may contain spaces): utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / clockTicksPerSecond;
}

/**
 * Warms every target up, then measures them in alternating rounds (A B, B A, A B, …) that add up to
 * `durationSeconds` each. On a shared 2-core machine throughput drifts by a factor of two within
 * seconds; alternating exposes the targets to the same drift, so their ratio stays meaningful.
 * Throws if any request, warm-up included, was not answered with a 2xx.
 */
export async function measureInterleaved<T extends LoadTarget[]>(targets: [...T], settings: BenchSettings): Promise<{ [K in keyof T]: LoadResult }> {
  const optionsOf = (target: LoadTarget) => ({
    url: `${target.server.url}${target.path}`,
    headers: target.headers,
    ...(target.paths ? { requests: target.paths.map((p) => ({ path: p })) } : {}),
    connections: settings.connections,
    pipelining: settings.pipelining,
  });
  // The warm-up lets V8 optimise the hot path and fills caches and pools before anything is counted.
  for (const target of targets) {
    assertClean(target.server, 'warm-up', await autocannon({ ...optionsOf(target), duration: settings.warmupSeconds }));
  }

  const tallies = targets.map(() => ({
    latencies: new LatencyLog(),
    rounds: [] as number[],
    requests: 0,
    seconds: 0,
    statusCodes: {} as Record<string, number>,
    cpuMs: 0 as number | null,
  }));
  const roundSeconds = settings.durationSeconds / settings.rounds;
  for (let round = 0; round < settings.rounds; round++) {
    const order = targets.map((_, i) => i);
    if (round % 2 === 1) order.reverse();
    for (const i of order) {
      const target = targets[i]!;
      const tally = tallies[i]!;
      const cpuBefore = await processCpuMs(target.server.pid);
      const run = autocannon({ ...optionsOf(target), duration: roundSeconds });
      run.on('response', (_client, statusCode, _bytes, responseTime) => {
        if (statusCode >= 200 && statusCode < 300) tally.latencies.add(responseTime);
      });
      const result = await run;
      const cpuAfter = await processCpuMs(target.server.pid);
      tally.cpuMs = tally.cpuMs === null || cpuBefore === undefined || cpuAfter === undefined ? null : tally.cpuMs + (cpuAfter - cpuBefore);
      assertClean(target.server, `measurement round ${round + 1}`, result);
      tally.rounds.push(result.requests.total / result.duration);
      tally.requests += result.requests.total;
      tally.seconds += result.duration;
      for (const [code, { count }] of Object.entries(result.statusCodeStats)) tally.statusCodes[code] = (tally.statusCodes[code] ?? 0) + count;
    }
  }

  const results: LoadResult[] = tallies.map((tally) => ({
    requestsPerSecond: tally.requests / tally.seconds,
    roundRequestsPerSecond: tally.rounds.map((rps) => Math.round(rps)),
    latencyMs: tally.latencies.summary(),
    totalRequests: tally.requests,
    durationSeconds: Math.round(tally.seconds * 100) / 100,
    statusCodes: tally.statusCodes,
    serverCpuMsPerRequest: tally.cpuMs === null || tally.requests === 0 ? null : Math.round((tally.cpuMs / tally.requests) * 10_000) / 10_000,
  }));
  return results as { [K in keyof T]: LoadResult };
}

/** Response times in a growing typed array: a push per response is cheap enough not to slow the load generator. */
class LatencyLog {
  #values = new Float64Array(1 << 16);
  #count = 0;

  add(ms: number): void {
    if (this.#count === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#count++] = ms;
  }

  summary(): LoadResult['latencyMs'] {
    const sorted = this.#values.subarray(0, this.#count).sort();
    if (sorted.length === 0) return { average: 0, p50: 0, p99: 0, max: 0 };
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
    const round = (ms: number) => Math.round(ms * 1000) / 1000;
    const sum = sorted.reduce((total, ms) => total + ms, 0);
    return { average: round(sum / sorted.length), p50: round(at(0.5)), p99: round(at(0.99)), max: round(sorted[sorted.length - 1]!) };
  }
}

function assertClean(server: ServerHandle, phase: string, result: Result): void {
  server.assertAlive();
  // A fast stream of 401s would look like a great result; only 2xx answers count.
  const problems = [
    result.non2xx > 0 ? `${result.non2xx} non-2xx responses` : '',
    result.errors > 0 ? `${result.errors} connection errors` : '',
    result.timeouts > 0 ? `${result.timeouts} timeouts` : '',
    result['2xx'] === 0 ? 'no 2xx responses at all' : '',
  ].filter(Boolean);
  if (problems.length === 0) return;
  const codes = Object.entries(result.statusCodeStats)
    .map(([code, { count }]) => `${code}×${count}`)
    .join(', ');
  throw new Error(`${server.name} ${result.url} during ${phase}: ${problems.join(', ')} (status codes: ${codes || 'none'}).\nServer output:\n${server.output() || '(none)'}`);
}

// ---------------------------------------------------------------------------------------------
// Output

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

export const formatNumber = (value: number, fractionDigits = 0): string => value.toLocaleString('en-US', { minimumFractionDigits: fractionDigits, maximumFractionDigits: fractionDigits });

/** Columns padded to their widest cell; every column but the first is right-aligned (numbers). */
export function formatTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('   ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('   '), ...rows.map(line)].join('\n');
}

export async function writeResults(name: string, results: unknown): Promise<string> {
  const dir = path.join(REPO_ROOT, 'bench', 'results');
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, `latest-${name}.json`);
  await fs.writeFile(file, JSON.stringify(results, null, 2) + '\n');
  return path.relative(REPO_ROOT, file);
}

/** A JSON call to a bench server with an API key, in the account acme; a non-2xx answer throws with its body. */
export async function api(server: ServerHandle, key: string, method: string, url: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.url}${url}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'x-keysmith-account': 'acme', ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}
