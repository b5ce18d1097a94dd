// Two SSH-key figures (issue 3):
//  1. parse + validate + fingerprint of 100,000 public-key lines, against `ssh-keygen -l -f` on the
//     same file in the same run (baseline: OpenSSH's own parser); once on an ed25519-only file and
//     once on a mixed file (every accepted type, RSA 2048–4096), since cost differs a lot by type.
//  2. adding 100,000 keys through the service layer (parse outside, one transaction per batch with
//     its audit rows), keys/s on SQLite (a file) and on PostgreSQL.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { initialise } from '../src/cli/init.ts';
import { loadConfig } from '../src/config.ts';
import { loadKeyRing } from '../src/crypto/master-key.ts';
import { parseSshPublicKey } from '../src/crypto/ssh-public-key.ts';
import { connectDatabase } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createServices } from '../src/services.ts';
import { ed25519Line, sshKeygen } from '../test/ssh-fixtures.ts';
import { createPostgresTarget, createSqliteTarget, formatNumber, formatTable, type BenchSettings, type DatabaseTarget } from './lib.ts';

const KEYS = Number(process.env.BENCH_SSH_KEYS ?? 100_000);
const BATCH = 1_000;
export const PARSE_TARGET_RATIO = 1.0;

interface ParseResult {
  file: string;
  keys: number;
  keysmithKeysPerSecond: number;
  sshKeygenKeysPerSecond: number;
  ratio: number;
}

/** A pool of real keys of the slower types, made by ssh-keygen itself, sampled into the mixed file. */
function mixedPool(): string[] {
  const pool: string[] = [];
  for (const [type, bits, count] of [
    ['rsa', 2048, 6],
    ['rsa', 3072, 4],
    ['rsa', 4096, 2],
    ['ecdsa', 256, 6],
    ['ecdsa', 384, 3],
    ['ecdsa', 521, 3],
  ] as const) {
    for (let i = 0; i < count; i++) pool.push(sshKeygen(type, bits).publicLine);
  }
  const sk = fs.readFileSync(path.join(import.meta.dirname, '..', 'test', 'fixtures', 'ssh', 'sk-keys.txt'), 'utf8');
  pool.push(...sk.split('\n').filter((l) => l.startsWith('sk-')));
  return pool;
}

function timeParse(lines: string[]): number {
  const start = process.hrtime.bigint();
  let checksum = 0;
  for (const line of lines) checksum += parseSshPublicKey(line).fingerprintSha256.length;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (checksum !== lines.length * 50) throw new Error('a fingerprint had an unexpected length');
  return seconds;
}

function timeSshKeygen(file: string, expected: number): number {
  const start = process.hrtime.bigint();
  const result = spawnSync('ssh-keygen', ['-l', '-f', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const listed = result.stdout.split('\n').filter(Boolean).length;
  if (result.status !== 0 || listed !== expected) throw new Error(`ssh-keygen -l listed ${listed} of ${expected} keys: ${result.stderr}`);
  return seconds;
}

function parseBench(label: string, lines: string[], dir: string): ParseResult {
  const file = path.join(dir, `${label}.pub`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  // The same fingerprints, or the comparison means nothing.
  const sample = execFileSync('ssh-keygen', ['-l', '-f', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    .split('\n')
    .slice(0, 50);
  sample.filter(Boolean).forEach((row, i) => {
    if (row.split(' ')[1] !== parseSshPublicKey(lines[i]!).fingerprintSha256) throw new Error(`fingerprint of line ${i + 1} differs from ssh-keygen`);
  });
  timeParse(lines.slice(0, 5_000)); // warm-up: JIT and the hash functions
  const ours = Math.min(timeParse(lines), timeParse(lines));
  const theirs = Math.min(timeSshKeygen(file, lines.length), timeSshKeygen(file, lines.length));
  return { file: label, keys: lines.length, keysmithKeysPerSecond: lines.length / ours, sshKeygenKeysPerSecond: lines.length / theirs, ratio: theirs / ours };
}

async function insertBench(target: DatabaseTarget, lines: string[]): Promise<{ database: string; keys: number; seconds: number; keysPerSecond: number }> {
  const config = loadConfig({ KEYSMITH_DATABASE_URL: target.url, KEYSMITH_MASTER_KEY: Buffer.alloc(32, 1).toString('base64') });
  const handle = connectDatabase(target.url);
  try {
    await migrateToLatest(handle.db);
    const services = createServices({ db: handle.db, ring: loadKeyRing(config).ring, config, logger: pino({ level: 'warn' }) });
    const { user } = await initialise(services, { login: 'bench', account: 'benchco' });
    const start = process.hrtime.bigint();
    for (let i = 0; i < lines.length; i += BATCH) {
      await services.sshKeys.importUserKeys(
        { cli: true },
        user.id,
        lines.slice(i, i + BATCH).map((key, j) => ({ title: `key ${i + j}`, key })),
      );
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const stored = await handle.db
      .selectFrom('ssh_keys')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    if (Number(stored.n) !== lines.length) throw new Error(`${stored.n} keys stored of ${lines.length}`);
    return { database: target.label, keys: lines.length, seconds, keysPerSecond: lines.length / seconds };
  } finally {
    await handle.close();
  }
}

export async function sshKeysBench(settings: BenchSettings) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-ssh-bench-'));
  try {
    console.log(`generating ${formatNumber(KEYS)} ed25519 keys and a pool of ssh-keygen keys…`);
    const unique = Array.from({ length: KEYS }, (_, i) => ed25519Line(`bench-${i}`));
    const pool = mixedPool();
    // Mixed: 60% ed25519, the rest drawn from every other accepted type.
    const mixed = unique.map((line, i) => (i % 5 < 3 ? line : pool[i % pool.length]!));

    const parse = [parseBench('ed25519', unique, dir), parseBench('mixed', mixed, dir)];
    console.log('\nparse + validate + fingerprint, against ssh-keygen -l -f on the same file');
    console.log(
      formatTable(
        ['file', 'keys', 'Keysmith keys/s', 'ssh-keygen keys/s', 'ratio'],
        parse.map((r) => [r.file, formatNumber(r.keys), formatNumber(r.keysmithKeysPerSecond), formatNumber(r.sshKeygenKeysPerSecond), `${r.ratio.toFixed(2)}×`]),
      ),
    );
    const worst = Math.min(...parse.map((r) => r.ratio));
    console.log(`target ≥ ${PARSE_TARGET_RATIO.toFixed(1)}× ssh-keygen: ${worst >= PARSE_TARGET_RATIO ? 'met' : 'NOT met'} (lowest ${worst.toFixed(2)}×)`);

    const inserts = [];
    const sqlite = await createSqliteTarget();
    try {
      inserts.push(await insertBench(sqlite, unique));
    } finally {
      await sqlite.dispose();
    }
    const postgres = await createPostgresTarget(settings.postgresAdminUrl);
    if ('unavailable' in postgres) console.log(`PostgreSQL unavailable (${postgres.unavailable}); SQLite only`);
    else {
      try {
        inserts.push(await insertBench(postgres, unique));
      } finally {
        await postgres.dispose();
      }
    }
    console.log(`\nadding keys through the service layer, ${formatNumber(BATCH)} per transaction (with their audit rows)`);
    console.log(
      formatTable(
        ['database', 'keys', 'seconds', 'keys/s'],
        inserts.map((r) => [r.database, formatNumber(r.keys), r.seconds.toFixed(1), formatNumber(r.keysPerSecond)]),
      ),
    );
    return { parse, parseTargetRatio: PARSE_TARGET_RATIO, inserts, batchSize: BATCH };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
