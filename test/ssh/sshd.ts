// The real thing for the SSH tests: OpenSSH's sshd on a free port of 127.0.0.1 with a config built
// from `keysmith ssh-setup`'s own output, Unix users made with useradd, and the real ssh and git
// clients. This needs root (sshd, useradd) and the binaries: without them the tests skip with a loud
// notice, except under CI=true, where they fail.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort } from '../harness.ts';

const IN_CI = process.env.CI === 'true';
const BINARIES = ['/usr/sbin/sshd', '/usr/bin/ssh', '/usr/bin/ssh-keygen', '/usr/bin/git', '/usr/bin/curl', '/usr/sbin/useradd', '/usr/sbin/userdel', '/usr/sbin/usermod'];

function whyNot(): string | undefined {
  if (process.getuid?.() !== 0) return 'they need root (sshd, useradd)';
  return missingBinaries(BINARIES);
}

function missingBinaries(binaries: string[]): string | undefined {
  const missing = binaries.filter((b) => !fs.existsSync(b));
  return missing.length ? `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not installed (apt-get install openssh-server openssh-client git curl)` : undefined;
}

/** Why the helpers cannot run here (they need sh, curl and git, not root), or undefined. Under CI=true they must. */
export function helpersUnavailable(suite: string): string | undefined {
  return loudly(suite, missingBinaries(['/bin/sh', '/usr/bin/curl', '/usr/bin/git', '/usr/bin/sed']));
}

function loudly(suite: string, reason: string | undefined): string | undefined {
  if (!reason) return undefined;
  if (IN_CI) throw new Error(`${suite}: ${reason}, and CI=true, so the run fails.`);
  process.stderr.write(`\n*** ${suite}: SKIPPED, ${reason} ***\n\n`);
  return reason;
}

/** Why the real-sshd tests cannot run here, or undefined when they can. Under CI=true they must. */
export function sshdUnavailable(suite: string): string | undefined {
  return loudly(suite, whyNot());
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program without blocking the event loop (the Keysmith under test answers in this process). */
export function run(file: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env: options.env ?? process.env, cwd: options.cwd, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const status = (err as { code?: unknown } | null)?.code;
      const code = !err ? 0 : typeof status === 'number' ? status : null;
      resolve({ code, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
    else child.stdin!.end();
  });
}

/** Like run(), but a non-zero exit throws with the program's output. */
export async function must(file: string, args: string[], options?: Parameters<typeof run>[2]): Promise<string> {
  const result = await run(file, args, options);
  if (result.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** useradd and userdel take /etc/passwd's lock; another test file may hold it for a moment. */
async function withPasswdLock(file: string, args: string[]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const result = await run(file, args);
    if (result.code === 0) return;
    if (attempt >= 20 || !/lock|try again/i.test(result.stderr)) throw new Error(`${file} ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A root-owned working directory sshd accepts helpers in (not /tmp: it is world-writable). */
export function rootOwnedDir(prefix = 'keysmith-test-'): string {
  const dir = fs.mkdtempSync(path.join('/var/lib', prefix));
  fs.chmodSync(dir, 0o755);
  return dir;
}

export interface UnixUser {
  name: string;
  home: string;
  uid: number;
  gid: number;
}

/** A Unix account sshd lets in (a password field of `*`, not the locked `!`), removed by remove(). */
export async function addUnixUser(prefix: string, home: string, shell = '/bin/sh'): Promise<UnixUser> {
  const name = `${prefix}${randomBytes(3).toString('hex')}`;
  await withPasswdLock('/usr/sbin/useradd', ['--create-home', '--home-dir', home, '--shell', shell, '--user-group', name]);
  await withPasswdLock('/usr/sbin/usermod', ['-p', '*', name]);
  const stat = fs.statSync(home);
  return { name, home, uid: stat.uid, gid: stat.gid };
}

export async function removeUnixUser(user: UnixUser): Promise<void> {
  await withPasswdLock('/usr/sbin/userdel', ['--remove', user.name]).catch(() => undefined);
}

/** A client key pair made by ssh-keygen: the private key file (0600) and the public line. */
export async function clientKey(dir: string, name: string): Promise<{ file: string; publicLine: string }> {
  const file = path.join(dir, name);
  await must('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file]);
  return { file, publicLine: fs.readFileSync(`${file}.pub`, 'utf8').trim() };
}

/** Writes a private key a runner received, as ssh needs it (0600, a final newline). */
export function writePrivateKey(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`, { mode: 0o600 });
  return file;
}

export interface Sshd {
  port: number;
  /** Everything sshd logged (-e: to stderr), for assertions on what the helpers wrote. */
  log(): string;
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** Names the config and pid files, so that several sshd can share `dir` (default: sshd). */
  name?: string;
  /** The benchmark's file baselines; by default there is none, and only Keysmith says who may log in. */
  authorizedKeysFile?: string;
}

/** sshd -D on 127.0.0.1:<free port> with its own host key and pid file, and `extra` (ssh-setup's lines) last. */
export async function startSshd(dir: string, extra: string, options: SshdOptions = {}): Promise<Sshd> {
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKey = path.join(dir, 'host_ed25519');
  if (!fs.existsSync(hostKey)) await must('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  const port = await freePort();
  const name = options.name ?? 'sshd';
  const config = path.join(dir, `${name}_config`);
  fs.writeFileSync(
    config,
    [
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, `${name}.pid`)}`,
      'UsePAM no',
      `AuthorizedKeysFile ${options.authorizedKeysFile ?? 'none'}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin no',
      'LogLevel VERBOSE',
      extra,
    ].join('\n'),
    { mode: 0o600 },
  );
  const check = await run('/usr/sbin/sshd', ['-t', '-f', config]);
  if (check.code !== 0) throw new Error(`sshd -t refused the config:\n${check.stderr}\n${fs.readFileSync(config, 'utf8')}`);
  const child: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config, '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    log += chunk.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`sshd exited at start: ${log}`);
    if (await answers(port)) break;
    if (i > 100) throw new Error(`sshd did not answer on port ${port} within 10 s: ${log}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    port,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** True once something on the port speaks SSH. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(1000);
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString('latin1').startsWith('SSH-'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** The ssh client options every test uses: this key only, no prompts, no known_hosts. */
export function sshOptions(keyFile: string): string[] {
  return ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-i', keyFile];
}

/** `ssh -p <port> <user>@127.0.0.1 <command…>` with this key. */
export function ssh(sshd: Sshd, keyFile: string, user: string, command: string[] = ['true']): Promise<Run> {
  return run('/usr/bin/ssh', [...sshOptions(keyFile), '-p', String(sshd.port), `${user}@127.0.0.1`, ...command]);
}

/** `git <args>` with GIT_SSH_COMMAND using this key, and a committer identity. */
export function git(keyFile: string, args: string[], cwd?: string): Promise<Run> {
  const sshCommand = ['ssh', ...sshOptions(keyFile)].join(' ');
  return run('/usr/bin/git', args, {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: cwd ?? '/',
      GIT_SSH_COMMAND: sshCommand,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 'Test',
      GIT_AUTHOR_EMAIL: 'test@example.com',
      GIT_COMMITTER_NAME: 'Test',
      GIT_COMMITTER_EMAIL: 'test@example.com',
    },
  });
}

/** A token file holding `key`, owned by `owner` and readable by it alone, as ssh-setup demands. */
export function tokenFile(dir: string, key: string, owner: UnixUser): string {
  const file = path.join(dir, 'ssh-server.token');
  fs.writeFileSync(file, `${key}\n`, { mode: 0o600 });
  fs.chownSync(file, owner.uid, owner.gid);
  return file;
}
