// Real `keysmith serve` processes on one database, for the tests and the bench of several nodes.
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN } from './cli-helpers.ts';
import { freePort } from './harness.ts';

export interface Node {
  url: string;
  child: ChildProcess;
  output(): string;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts a node on a port nothing listened on a moment ago. Should something bind that port before the
 * node does, the node exits with EADDRINUSE and is started again on another port, up to five times.
 */
export async function startNode(env: Record<string, string>, cwd: string): Promise<Node> {
  for (let attempt = 1; ; attempt++) {
    const started = await startNodeOn(await freePort(), env, cwd);
    if ('url' in started) return started;
    if (!started.portTaken || attempt === 5) throw new Error(started.failure);
  }
}

async function startNodeOn(port: number, env: Record<string, string>, cwd: string): Promise<Node | { failure: string; portTaken: boolean }> {
  const child = spawn(process.execPath, [BIN, 'serve'], {
    cwd,
    env: { PATH: process.env.PATH!, KEYSMITH_PORT: String(port), KEYSMITH_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const health = await fetch(`${url}/healthz`).catch(() => undefined);
    if (health?.status === 200) {
      return {
        url,
        child,
        output: () => output,
        async stop() {
          if (child.exitCode === null) child.kill('SIGTERM');
          return exited;
        },
      };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  await exited;
  return { failure: `keysmith serve did not start on ${url}: ${output}`, portTaken: output.includes('EADDRINUSE') };
}

/** Asks `check` until it answers true or `capMs` passes; returns the time it took, or undefined. */
export async function pollUntil(check: () => Promise<boolean>, capMs: number): Promise<number | undefined> {
  const start = performance.now();
  while (performance.now() - start < capMs) {
    if (await check()) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 5));
  }
  return undefined;
}
