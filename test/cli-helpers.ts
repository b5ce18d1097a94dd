// The keysmith command run as a user runs it, on a database nothing has touched yet.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { POSTGRES_URL } from './harness.ts';

export const BIN = path.resolve('bin/keysmith.mjs');

export function keysmith(args: string[], env: Record<string, string>, cwd: string, input?: string) {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH!, ...env }, input, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** An untouched database of the given kind (a new PostgreSQL database), and a way to drop it. */
export async function freshDatabase(kind: string, dir: string): Promise<{ url: string; drop(): Promise<void> }> {
  if (kind === 'sqlite') return { url: `sqlite:${path.join(dir, 'data', 'keysmith.db')}`, drop: async () => {} };
  const name = `keysmith_cli_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: POSTGRES_URL });
      await c.connect();
      // pg's pool.end() resolves before its sockets have closed; terminating a backend still closing
      // would raise in this process, so wait for the test's own connections to be gone first.
      for (let i = 0; i < 100; i++) {
        const { rows } = await c.query<{ n: string }>('select count(*) as n from pg_stat_activity where datname = $1', [name]);
        if (Number(rows[0]!.n) === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
