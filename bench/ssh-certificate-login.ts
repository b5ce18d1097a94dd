// Part (ii) of `npm run bench -- ssh-certificates`: what a login with a Keysmith certificate and the
// online check costs, against a plain key. A real sshd per set-up on 127.0.0.1, Keysmith in a child
// process on SQLite, and the real client timing `ssh … true`, interleaved login by login:
//   (a) a plain key in a one-key authorized_keys file (no Keysmith);
//   (b) a plain key looked up in Keysmith (keysmith-authorized-keys, `ssh-setup --mode login`);
//   (c) a certificate: TrustedUserCAKeys plus the online check (keysmith-authorized-principals,
//       `ssh-setup --mode login --certificates-only --account acme`).
// ssh-setup runs as a child process, as a person runs it. Needs root (sshd, useradd), like bench/ssh-login.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { addUnixUser, clientKey, removeUnixUser, rootOwnedDir, ssh, startSshd, tokenFile, type Sshd, type UnixUser } from '../test/ssh/sshd.ts';
import { api, createSqliteTarget, formatTable, freePort, median, REPO_ROOT, runNode, startServer, type DatabaseTarget, type ServerHandle } from './lib.ts';

const LOGINS = Math.max(10, Number(process.env.BENCH_SSH_LOGINS ?? 30));

export type LoginTimes =
  { measured: false; why: string } | { measured: true; loginsPerSetup: number; database: string; logins: { setup: string; medianMs: number; minMs: number; maxMs: number; ratioToA: number }[] };

/** `keysmith ssh-setup …` in a child process; its stdout is the sshd_config lines. */
async function sshSetup(args: string[]): Promise<string> {
  return runNode([path.join(REPO_ROOT, 'bin/keysmith.mjs'), 'ssh-setup', ...args], {});
}

async function timedLogin(sshd: Sshd, keyFile: string, user: string, label: string): Promise<number> {
  const started = process.hrtime.bigint();
  const result = await ssh(sshd, keyFile, user);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.code !== 0) throw new Error(`${label}: ssh exited ${result.code}: ${result.stderr}\nsshd log:\n${sshd.log().slice(-4000)}`);
  return ms;
}

/** Whether this checkout's ssh-setup writes the principals helper (ssh-setup --certificates). */
function principalsHelperPresent(): boolean {
  return fs.existsSync(path.join(REPO_ROOT, 'src/cli/ssh-helpers/keysmith-authorized-principals.sh'));
}

export async function certificateLoginBench(): Promise<LoginTimes> {
  if (process.getuid?.() !== 0) return { measured: false, why: 'it runs a real sshd and creates Unix users: run it as root (as CI does)' };
  if (!principalsHelperPresent()) return { measured: false, why: 'ssh-setup cannot write keysmith-authorized-principals in this checkout (ssh-setup --certificates)' };
  const base = rootOwnedDir('keysmith-bench-cert-');
  const users: UnixUser[] = [];
  const sshds: Sshd[] = [];
  let server: ServerHandle | undefined;
  let database: DatabaseTarget | undefined;
  try {
    fs.mkdirSync(path.join(base, 'home'), { mode: 0o755 });
    const login = await addUnixUser('kscb', path.join(base, 'home', 'login'));
    users.push(login);
    const lookupUser = await addUnixUser('kscl', path.join(base, 'home', 'lookup'), '/usr/sbin/nologin');
    users.push(lookupUser);
    const plain = await clientKey(base, 'plain_key');
    const certified = await clientKey(base, 'certified_key');

    database = await createSqliteTarget();
    const env: NodeJS.ProcessEnv = { KEYSMITH_DATABASE_URL: database.url, KEYSMITH_MASTER_KEY: randomBytes(32).toString('base64'), KEYSMITH_LOG_LEVEL: 'warn' };
    // The Keysmith login equals the Unix user: the certificate's principal is the user sshd logs in.
    const printed = await runNode(['bin/keysmith.mjs', 'init', '--login', login.name, '--account', 'acme', '--json'], env);
    const apiKey = (JSON.parse(printed) as { api_key: string }).api_key;
    const port = await freePort();
    server = await startServer({ name: 'Keysmith (SQLite)', args: ['bin/keysmith.mjs', 'serve'], env: { ...env, KEYSMITH_HOST: '127.0.0.1', KEYSMITH_PORT: String(port) }, port });
    await api(server, apiKey, 'POST', '/v1/user/ssh-keys', { title: 'plain', key: plain.publicLine });
    await api(server, apiKey, 'POST', '/v1/user/ssh-keys', { title: 'certified', key: certified.publicLine });
    // Valid for the whole run: 24 hours, the most a user certificate gets.
    const issued = await api(server, apiKey, 'POST', '/v1/user/ssh-certificates', { public_key: certified.publicLine, account: 'acme', ttl_seconds: 86_400 });
    fs.writeFileSync(`${certified.file}-cert.pub`, `${String(issued.certificate)}\n`, { mode: 0o644 });
    const sshServerKey = String((await api(server, apiKey, 'POST', '/v1/service-api-keys', { name: 'bench sshd', role: 'ssh_server' })).key);
    const token = tokenFile(base, sshServerKey, lookupUser);
    const common = ['--mode', 'login', '--url', server.url, '--token-file', token, '--command-user', lookupUser.name];

    const oneKey = path.join(base, 'one-key');
    fs.writeFileSync(oneKey, `${plain.publicLine}\n`, { mode: 0o644 });
    const fileA = await startSshd(base, '', { name: 'sshd-one-key', authorizedKeysFile: oneKey });
    sshds.push(fileA);
    const keyLines = await sshSetup([...common, '--dir', path.join(base, 'keys-bin')]);
    const lookupB = await startSshd(base, keyLines, { name: 'sshd-key-lookup' });
    sshds.push(lookupB);
    const certLines = await sshSetup([...common, '--dir', path.join(base, 'cert-bin'), '--certificates-only', '--account', 'acme']);
    const certC = await startSshd(base, certLines, { name: 'sshd-certificates' });
    sshds.push(certC);

    const setups = [
      { label: '(a) plain key, authorized_keys file (1 key)', sshd: fileA, key: plain.file },
      { label: '(b) plain key, Keysmith key lookup', sshd: lookupB, key: plain.file },
      { label: '(c) certificate + Keysmith online check', sshd: certC, key: certified.file },
    ];
    // The certificate alone gets in where there is no key lookup: the bare key is refused there.
    const bare = await ssh(certC, plain.file, login.name);
    if (bare.code === 0) throw new Error('(c) let the plain key in: the certificate set-up is not what it claims to be');
    const times = setups.map(() => [] as number[]);
    for (const s of setups) for (let w = 0; w < 3; w++) await timedLogin(s.sshd, s.key, login.name, `${s.label} warm-up`);
    console.log(`\n${LOGINS} logins per set-up, interleaved (ssh -p <port> ${login.name}@127.0.0.1 true)…`);
    for (let round = 0; round < LOGINS; round++) {
      const order = setups.map((_, i) => i);
      if (round % 2 === 1) order.reverse();
      for (const i of order) times[i]!.push(await timedLogin(setups[i]!.sshd, setups[i]!.key, login.name, setups[i]!.label));
    }
    const medians = times.map((t) => median(t));
    const round1 = (n: number) => Math.round(n * 10) / 10;
    const logins = setups.map((s, i) => ({
      setup: s.label,
      medianMs: round1(medians[i]!),
      minMs: round1(Math.min(...times[i]!)),
      maxMs: round1(Math.max(...times[i]!)),
      ratioToA: Math.round((medians[i]! / medians[0]!) * 1000) / 1000,
    }));
    console.log(
      formatTable(
        ['set-up', 'median ms', 'min ms', 'max ms', 'ratio to (a)'],
        logins.map((l) => [l.setup, l.medianMs.toFixed(1), l.minMs.toFixed(1), l.maxMs.toFixed(1), `${l.ratioToA.toFixed(3)}×`]),
      ),
    );
    return { measured: true, loginsPerSetup: LOGINS, database: 'SQLite', logins };
  } finally {
    for (const s of sshds) await s.stop().catch(() => undefined);
    await server?.stop().catch(() => undefined);
    await database?.dispose().catch(() => undefined);
    for (const u of users) await removeUnixUser(u);
    fs.rmSync(base, { recursive: true, force: true });
  }
}
