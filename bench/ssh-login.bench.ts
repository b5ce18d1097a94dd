// `npm run bench -- ssh-login` (issue 11): what asking Keysmith costs an SSH login. A real sshd on
// 127.0.0.1 per set-up, and the real client timing `ssh … true`, interleaved login by login so that
// the machine's drift hits every set-up alike; the median of BENCH_SSH_LOGINS (default 40, at least 30)
// logins each for
//   (a) a one-key authorized_keys file,
//   (b) a 1,000,000-line authorized_keys file with the key on the last line,
//   (c) Keysmith holding 1,000,000 keys (keysmith-authorized-keys, from ssh-setup) on SQLite and on
//       PostgreSQL;
// the ratios (c)/(a) and (b)/(a) (target: (c)/(a) ≤ 1.1), then the lookup route's own throughput and
// p99 under autocannon at 1M keys. Needs root (sshd, useradd), like the tests in test/ssh/.
// The bulk keys are real ed25519 public-key blobs (random points need not be on the curve) with their
// true SHA256 and MD5 fingerprints, all distinct, written straight into ssh_keys: on SQLite through one
// prepared statement in one transaction, on PostgreSQL by one INSERT … SELECT over generate_series.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { sshSetup } from '../src/cli/ssh-setup.ts';
import { addUnixUser, clientKey, removeUnixUser, rootOwnedDir, ssh, startSshd, tokenFile, type Sshd, type UnixUser } from '../test/ssh/sshd.ts';
import {
  api,
  createPostgresTarget,
  createSqliteTarget,
  formatNumber,
  formatTable,
  freePort,
  measureInterleaved,
  median,
  runNode,
  startServer,
  type BenchSettings,
  type DatabaseTarget,
  type LoadResult,
  type ServerHandle,
} from './lib.ts';

const KEYS = 1_000_000;
const LOGINS = Math.max(30, Number(process.env.BENCH_SSH_LOGINS ?? 40));
export const SSH_LOGIN_TARGET_RATIO = 1.1;

const ED25519_HEADER = Buffer.from('0000000b7373682d65643235353139', 'hex'); // string "ssh-ed25519"
const ED25519_LENGTH = Buffer.from('00000020', 'hex');

/** `count` distinct ed25519 public-key blobs (51 bytes each), as base64. */
function bulkBlobs(count: number): string[] {
  const random = randomBytes(32 * count);
  const out = new Array<string>(count);
  for (let i = 0; i < count; i++) out[i] = Buffer.concat([ED25519_HEADER, ED25519_LENGTH, random.subarray(32 * i, 32 * i + 32)]).toString('base64');
  return out;
}

const sha256Fingerprint = (blob: Buffer) => `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
const md5Fingerprint = (blob: Buffer) =>
  createHash('md5')
    .update(blob)
    .digest('hex')
    .replace(/(..)(?!$)/g, '$1:');

interface Keysmith {
  database: DatabaseTarget;
  server: ServerHandle;
  sshServerKey: string;
  sshd: Sshd;
  /** Fingerprints of bulk keys, for the route's own load. */
  sample: string[];
  insertSeconds: number;
}

async function bulkInsertSqlite(url: string, userId: number, blobs: string[]): Promise<string[]> {
  const db = new Database(url.slice('sqlite:'.length));
  try {
    db.pragma('busy_timeout = 10000');
    // Room for the whole unique index while it grows (random fingerprints touch every page).
    db.pragma('cache_size = -400000');
    const insert = db.prepare(
      `insert into ssh_keys (kind, user_id, project_id, title, key_type, public_key, fingerprint_sha256, fingerprint_md5, bits, read_only, added_by, created_at)
       values ('user', ?, null, ?, 'ssh-ed25519', ?, ?, ?, 256, 0, null, ?)`,
    );
    const sample: string[] = [];
    const now = new Date().toISOString();
    db.transaction(() => {
      blobs.forEach((base64, i) => {
        const blob = Buffer.from(base64, 'base64');
        const fingerprint = sha256Fingerprint(blob);
        if (i % 1000 === 0) sample.push(fingerprint);
        insert.run(userId, `bulk ${i}`, `ssh-ed25519 ${base64}`, fingerprint, md5Fingerprint(blob), now);
      });
    })();
    db.exec('analyze');
    return sample;
  } finally {
    db.close();
  }
}

async function bulkInsertPostgres(url: string, userId: number, count: number): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // The blob is "ssh-ed25519" and 32 bytes (the SHA-256 of the row number): distinct, and its
    // fingerprints are computed as ssh-keygen computes them (base64 of 51 bytes has no line break).
    await client.query(
      `insert into ssh_keys (kind, user_id, project_id, title, key_type, public_key, fingerprint_sha256, fingerprint_md5, bits, read_only, added_by, created_at)
       select 'user', $1, null, 'bulk ' || i, 'ssh-ed25519', 'ssh-ed25519 ' || encode(blob, 'base64'),
              'SHA256:' || rtrim(encode(sha256(blob), 'base64'), '='), regexp_replace(md5(blob), '(..)(?!$)', '\\1:', 'g'), 256, false, null, now()
       from (select i, '\\x0000000b7373682d6564323535313900000020'::bytea || sha256(int4send(i)) as blob from generate_series(1, $2::int) as i) as keys`,
      [userId, count],
    );
    await client.query('analyze ssh_keys');
    const { rows } = await client.query<{ f: string }>(`select fingerprint_sha256 as f from ssh_keys where title like 'bulk %' and id % 1000 = 0 limit 1000`);
    return rows.map((r) => r.f);
  } finally {
    await client.end();
  }
}

/** What was started, so that a failure part-way still stops all of it. */
interface Started {
  sshds: Sshd[];
  servers: ServerHandle[];
}

async function startKeysmithWithKeys(
  database: DatabaseTarget,
  login: UnixUser,
  publicLine: string,
  blobs: string[],
  base: string,
  lookupUser: UnixUser,
  settings: BenchSettings,
  started: Started,
): Promise<Keysmith> {
  const env: NodeJS.ProcessEnv = { KEYSMITH_DATABASE_URL: database.url, KEYSMITH_MASTER_KEY: randomBytes(32).toString('base64'), KEYSMITH_LOG_LEVEL: 'warn' };
  const printed = await runNode(['bin/keysmith.mjs', 'init', '--login', login.name, '--account', 'acme', '--json'], env);
  const apiKey = (JSON.parse(printed) as { api_key: string }).api_key;
  const port = await freePort();
  const profiling = settings.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${settings.cpuProfileDir}`] : [];
  const server = await startServer({
    name: `Keysmith (${database.label})`,
    args: [...profiling, 'bin/keysmith.mjs', 'serve'],
    env: { ...env, KEYSMITH_HOST: '127.0.0.1', KEYSMITH_PORT: String(port) },
    // Beside 1M keys in memory and other work on a shared machine, a start can take longer than usual.
    startupTimeoutMs: 120_000,
    port,
  });
  started.servers.push(server);
  const caller = await api(server, apiKey, 'GET', '/v1/user');
  const userId = Number((caller.user as { id?: unknown } | undefined)?.id);
  if (!Number.isInteger(userId)) throw new Error(`GET /v1/user named no user id: ${JSON.stringify(caller)}`);
  await api(server, apiKey, 'POST', '/v1/user/ssh-keys', { title: 'bench', key: publicLine });
  const sshServerKey = String((await api(server, apiKey, 'POST', '/v1/service-api-keys', { name: 'bench sshd', role: 'ssh_server' })).key);

  console.log(`${database.label}: inserting ${formatNumber(KEYS - 1)} keys…`);
  const insertStart = process.hrtime.bigint();
  const sample = database.kind === 'sqlite' ? await bulkInsertSqlite(database.url, userId, blobs) : await bulkInsertPostgres(database.url, userId, KEYS - 1);
  const insertSeconds = Number(process.hrtime.bigint() - insertStart) / 1e9;
  console.log(`${database.label}: ${formatNumber(KEYS)} keys stored (bulk insert ${insertSeconds.toFixed(1)} s)`);

  const dir = path.join(base, `keysmith-${database.kind}`);
  fs.mkdirSync(dir, { mode: 0o755 });
  const token = tokenFile(dir, sshServerKey, lookupUser);
  const lines = await sshSetup({ mode: 'login', url: server.url, tokenFile: token, dir: path.join(dir, 'bin'), commandUser: lookupUser.name });
  const sshd = await startSshd(base, lines, { name: `sshd-${database.kind}` });
  started.sshds.push(sshd);
  // The bulk keys are really there: one of them is answered like any member's key.
  const probe = await fetch(`${server.url}/v1/ssh/authorized-keys?user=${login.name}&fingerprint=${encodeURIComponent(sample[sample.length - 1]!)}&mode=login`, {
    headers: { authorization: `Bearer ${sshServerKey}` },
  });
  const line = await probe.text();
  if (probe.status !== 200 || !line.startsWith('ssh-ed25519 ')) throw new Error(`${database.label}: a bulk key's lookup answered ${probe.status} ${JSON.stringify(line.slice(0, 200))}`);
  return { database, server, sshServerKey, sshd, sample, insertSeconds };
}

/** Milliseconds of one `ssh … true` login; a failed login throws with sshd's log. */
async function timedLogin(sshd: Sshd, keyFile: string, user: string, label: string): Promise<number> {
  const started = process.hrtime.bigint();
  const result = await ssh(sshd, keyFile, user);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.code !== 0) throw new Error(`${label}: ssh exited ${result.code}: ${result.stderr}\nsshd log:\n${sshd.log().slice(-4000)}`);
  return ms;
}

export async function sshLoginBench(settings: BenchSettings) {
  if (process.getuid?.() !== 0) throw new Error('the ssh-login benchmark runs a real sshd and creates a Unix user: run it as root (as CI does).');
  const base = rootOwnedDir('keysmith-bench-');
  const users: UnixUser[] = [];
  const instances: Keysmith[] = [];
  const databases: DatabaseTarget[] = [];
  const started: Started = { sshds: [], servers: [] };
  const sshds = started.sshds;
  try {
    fs.mkdirSync(path.join(base, 'home'), { mode: 0o755 });
    const login = await addUnixUser('ksb', path.join(base, 'home', 'login'));
    users.push(login);
    const lookupUser = await addUnixUser('kslk', path.join(base, 'home', 'lookup'), '/usr/sbin/nologin');
    users.push(lookupUser);
    const key = await clientKey(base, 'bench_key');

    console.log(`generating ${formatNumber(KEYS - 1)} ed25519 public keys…`);
    const blobs = bulkBlobs(KEYS - 1);
    const keysDir = path.join(base, 'keys');
    fs.mkdirSync(keysDir, { mode: 0o755 });
    const oneKey = path.join(keysDir, 'one-key');
    fs.writeFileSync(oneKey, `${key.publicLine}\n`, { mode: 0o644 });
    const millionLines = path.join(keysDir, 'million-lines');
    const out = fs.openSync(millionLines, 'w', 0o644);
    for (let i = 0; i < blobs.length; i += 10_000) {
      fs.writeSync(
        out,
        blobs
          .slice(i, i + 10_000)
          .map((b, j) => `ssh-ed25519 ${b} bulk-${i + j}\n`)
          .join(''),
      );
    }
    fs.writeSync(out, `${key.publicLine}\n`);
    fs.closeSync(out);

    const fileA = await startSshd(base, '', { name: 'sshd-one-key', authorizedKeysFile: oneKey });
    sshds.push(fileA);
    const fileB = await startSshd(base, '', { name: 'sshd-million-lines', authorizedKeysFile: millionLines });
    sshds.push(fileB);

    const sqlite = await createSqliteTarget();
    databases.push(sqlite);
    instances.push(await startKeysmithWithKeys(sqlite, login, key.publicLine, blobs, base, lookupUser, settings, started));
    const postgres = await createPostgresTarget(settings.postgresAdminUrl);
    if ('unavailable' in postgres) console.log(`PostgreSQL unavailable (${postgres.unavailable}); SQLite only`);
    else {
      databases.push(postgres);
      instances.push(await startKeysmithWithKeys(postgres, login, key.publicLine, blobs, base, lookupUser, settings, started));
    }

    const setups = [
      { label: '(a) authorized_keys, 1 key', sshd: fileA },
      { label: '(b) authorized_keys, 1,000,000 lines, key last', sshd: fileB },
      ...instances.map((k) => ({ label: `(c) Keysmith, ${formatNumber(KEYS)} keys, ${k.database.label}`, sshd: k.sshd })),
    ];
    const times = setups.map(() => [] as number[]);
    // Warm-up: caches, the helper's first curl, and a check that every set-up lets the key in.
    for (const [i, s] of setups.entries()) for (let w = 0; w < 3; w++) await timedLogin(s.sshd, key.file, login.name, s.label + ` warm-up ${i}`);
    console.log(`\n${LOGINS} logins per set-up, interleaved (ssh -p <port> ${login.name}@127.0.0.1 true)…`);
    for (let round = 0; round < LOGINS; round++) {
      const order = setups.map((_, i) => i);
      if (round % 2 === 1) order.reverse();
      for (const i of order) times[i]!.push(await timedLogin(setups[i]!.sshd, key.file, login.name, setups[i]!.label));
    }
    const medians = times.map((t) => median(t));
    const baseline = medians[0]!;
    const logins = setups.map((s, i) => ({
      setup: s.label,
      logins: times[i]!.length,
      medianMs: Math.round(medians[i]! * 10) / 10,
      minMs: Math.round(Math.min(...times[i]!) * 10) / 10,
      maxMs: Math.round(Math.max(...times[i]!) * 10) / 10,
      ratioToA: Math.round((medians[i]! / baseline) * 1000) / 1000,
    }));
    console.log(
      formatTable(
        ['set-up', 'logins', 'median ms', 'min ms', 'max ms', 'ratio to (a)'],
        logins.map((l) => [l.setup, String(l.logins), l.medianMs.toFixed(1), l.minMs.toFixed(1), l.maxMs.toFixed(1), `${l.ratioToA.toFixed(3)}×`]),
      ),
    );
    const keysmithRatios = logins.slice(2).map((l) => l.ratioToA);
    const worst = Math.max(...keysmithRatios);
    console.log(`target (c)/(a) ≤ ${SSH_LOGIN_TARGET_RATIO}: ${worst <= SSH_LOGIN_TARGET_RATIO ? 'met' : 'NOT met'} (highest ${worst.toFixed(3)}×); (b)/(a) = ${logins[1]!.ratioToA.toFixed(2)}×`);

    console.log(`\nthe lookup route itself under autocannon, ${formatNumber(KEYS)} keys, ${instances[0]!.sample.length} distinct fingerprints in turn`);
    const targets = instances.map((k) => ({
      server: k.server,
      path: '/v1/ssh/authorized-keys',
      paths: k.sample.map((f) => `/v1/ssh/authorized-keys?user=${login.name}&fingerprint=${encodeURIComponent(f)}&mode=login`),
      headers: { authorization: `Bearer ${k.sshServerKey}` },
    }));
    const loads = (await measureInterleaved(targets, settings)) as LoadResult[];
    const route = instances.map((k, i) => ({ database: k.database.label, ...loads[i]! }));
    console.log(
      formatTable(
        ['database', 'requests/s', 'p50 ms', 'p99 ms', 'max ms'],
        route.map((r) => [r.database, formatNumber(r.requestsPerSecond), r.latencyMs.p50.toFixed(2), r.latencyMs.p99.toFixed(2), r.latencyMs.max.toFixed(2)]),
      ),
    );
    return {
      keys: KEYS,
      loginsPerSetup: LOGINS,
      logins,
      targetRatio: SSH_LOGIN_TARGET_RATIO,
      targetMet: worst <= SSH_LOGIN_TARGET_RATIO,
      bulkInsertSeconds: Object.fromEntries(instances.map((k) => [k.database.label, Math.round(k.insertSeconds * 10) / 10])),
      route,
    };
  } finally {
    for (const s of sshds) await s.stop().catch(() => undefined);
    for (const server of started.servers) await server.stop().catch(() => undefined);
    for (const d of databases) await d.dispose().catch(() => undefined);
    for (const u of users) await removeUnixUser(u);
    fs.rmSync(base, { recursive: true, force: true });
  }
}
