// `npm run bench [-- <name>…]`: runs every benchmark (or the named ones) one after another and writes
// each one's results to bench/results/latest-<name>.json (latest-<name>-profiled.json under BENCH_CPU_PROF).
// Env: BENCH_DURATION (measured s per server, default 10), BENCH_ROUNDS (alternating rounds those seconds
// are split into, default 5; 1 measures each server in one go), BENCH_WARMUP (s, default 2),
// BENCH_POSTGRES_URL (admin URL used to create a throw-away database), BENCH_CPU_PROF (directory:
// profile the Keysmith server child, and the user benchmark's bare server into <dir>/bare; summarise
// with bench/cpuprofile-summary.ts), BENCH_USER_BEFORE (the user benchmark only: a checkout of another
// commit, with node_modules, whose Keysmith is measured in the same rounds as a "before"), BENCH_PIN
// (0: do not pin; by default the user benchmark runs its servers on CPUs 1… and the load generator
// on CPU 0 where there are two CPUs or more and taskset is installed).
import os from 'node:os';
import { benchSettings, installExitHandlers, wasInterrupted, writeResults, type BenchSettings } from './lib.ts';
import { sshKeysBench } from './ssh-keys.bench.ts';
import { sshLoginBench } from './ssh-login.bench.ts';
import { userEndpointBench } from './user-endpoint.bench.ts';
import { nodesBench } from './nodes.bench.ts';
import { sshCertificatesBench } from './ssh-certificates.bench.ts';
import { baselineStagesBench } from './baseline-stages.bench.ts';

interface Benchmark {
  /** Names the results file and selects the benchmark on the command line. */
  name: string;
  run(settings: BenchSettings): Promise<unknown>;
}

// Later benchmarks: add a *.bench.ts module exporting an async function, and list it here.
const BENCHMARKS: Benchmark[] = [
  { name: 'user', run: userEndpointBench },
  { name: 'ssh-keys', run: sshKeysBench },
  // Needs root: a real sshd and a Unix user (see bench/ssh-login.bench.ts).
  { name: 'ssh-login', run: sshLoginBench },
  // Three nodes on one PostgreSQL: revocation propagation, and one node's throughput against two.
  { name: 'nodes', run: nodesBench },
  // Certificates signed per second: our signer against ssh-keygen -s (bench/ssh-certificates.bench.ts).
  { name: 'ssh-certificates', run: sshCertificatesBench },
  // The user benchmark's bare route in processes that first did part of Keysmith's start-up.
  { name: 'baseline-stages', run: baselineStagesBench },
];

async function main(): Promise<number> {
  installExitHandlers();
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !BENCHMARKS.some((b) => b.name === name));
  if (unknown.length > 0) {
    console.error(`bench: unknown benchmark ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
    return 2;
  }
  const settings = benchSettings();
  const selected = wanted.length > 0 ? BENCHMARKS.filter((b) => wanted.includes(b.name)) : BENCHMARKS;
  const cpus = os.cpus();
  // The load generator runs in this process and competes with the server for these cores, which
  // matters when reading absolute numbers (less so for ratios measured on the same machine).
  const machine = { node: process.version, platform: `${os.platform()} ${os.arch()}`, cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown' };
  console.log(`Node ${machine.node}, ${machine.cpus} × ${machine.cpuModel}; load generator: autocannon in the runner process`);
  if (settings.cpuProfileDir) console.log(`CPU profiles of the Keysmith server go to ${settings.cpuProfileDir} (the user benchmark's bare server's to its bare/; profiling slows them down).`);

  for (const benchmark of selected) {
    console.log(`\n=== ${benchmark.name} ===`);
    const results = await benchmark.run(settings);
    // A profiled server is slower; its numbers must not replace the plain run's.
    const file = await writeResults(settings.cpuProfileDir ? `${benchmark.name}-profiled` : benchmark.name, {
      benchmark: benchmark.name,
      finishedAt: new Date().toISOString(),
      machine,
      settings: {
        warmupSeconds: settings.warmupSeconds,
        durationSeconds: settings.durationSeconds,
        rounds: settings.rounds,
        connections: settings.connections,
        pipelining: settings.pipelining,
        cpuProfiled: settings.cpuProfileDir !== undefined,
        pinning: settings.pinning ?? null,
      },
      results,
    });
    console.log(`\nresults written to ${file}`);
  }
  return 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  // After a signal the servers are killed on purpose; the signal handler reports and sets the exit code.
  if (!wasInterrupted()) {
    console.error(`\nbench FAILED: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
