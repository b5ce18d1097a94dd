// `keysmith ssh-setup`: writes sshd's helpers (POSIX sh + curl, templates in ./ssh-helpers/) into a
// directory sshd will accept, and returns the sshd_config lines that use them. Everything sshd would
// refuse at login time — a helper under a directory that is not root's or is writable by others, a
// token file others can read — is refused here, with a sentence, before anything is written.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export type SshSetupMode = 'login' | 'git';

export interface SshSetupOptions {
  mode: SshSetupMode;
  /** Keysmith's public URL, as the SSH server reaches it. */
  url: string;
  /** Holds the ssh_server service key (kss_…), readable by the command user only. */
  tokenFile: string;
  /** Where the helpers are written: root's, not writable by group or others, nor any parent. */
  dir: string;
  /** sshd's AuthorizedKeysCommandUser. */
  commandUser: string;
  /** git mode: the one Unix user every git client logs in as. */
  gitUser?: string;
  /** git mode: where `<account>/<name>.git` repositories live (default: the git user's home). */
  gitRoot?: string;
  /**
   * Trust the account's SSH CA: fetch its public file as TrustedUserCAKeys, write
   * keysmith-authorized-principals for the online check. `only` leaves out AuthorizedKeysCommand.
   */
  certificates?: { account: string; only?: boolean; krl?: boolean };
}

export const AUTHORIZED_KEYS_HELPER = 'keysmith-authorized-keys';
export const GIT_SERVE_HELPER = 'keysmith-git-serve';
export const AUTHORIZED_PRINCIPALS_HELPER = 'keysmith-authorized-principals';
/** TrustedUserCAKeys: the account CA's public keys, as GET /v1/accounts/{account}/ssh-ca.pub serves them. */
export const CA_FILE = 'keysmith-ca.pub';
/** RevokedKeys (--krl): the account's KRL, as GET /v1/accounts/{account}/ssh-ca/krl serves it. */
export const KRL_FILE = 'keysmith-ca.krl';
/** Below the helpers' directory: keysmith-authorized-keys' one-second answers, the command user's only. */
export const CACHE_SUBDIRECTORY = 'cache';
const NOBODY_UID = 65534;

/** What may sit between single quotes in a helper and in sshd_config without quoting: the forced command's charset. */
const SAFE_PATH = /^\/[A-Za-z0-9._/-]*$/;
const SAFE_URL = /^https?:\/\/[A-Za-z0-9._~:[\]@%/-]+$/;
const UNIX_USER = /^[a-z_][a-z0-9_.-]{0,31}$/i;
const SERVICE_KEY = /^kss_[A-Za-z0-9_]+$/;
const ACCOUNT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,38}$/;
/** One line of ssh-ca.pub: `<type> <base64> <comment>`. */
const CA_LINE = /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,3}( [!-~]+)?$/;
const KRL_MAGIC = Buffer.from('SSHKRL\n\0', 'latin1');
/** How long ssh-setup waits for each answer from Keysmith. */
const FETCH_TIMEOUT_MS = 10_000;

export interface HelperSettings {
  url: string;
  tokenFile: string;
  mode: SshSetupMode;
  /** git mode: the absolute path of keysmith-git-serve, Keysmith's forced command. */
  forcedCommand?: string;
  gitRoot?: string;
  /** Where keysmith-authorized-keys keeps an answer for sshd's second call of a login; none when unset. */
  cacheDir?: string;
}

function template(name: string): string {
  return fs.readFileSync(new URL(`./ssh-helpers/${name}.sh`, import.meta.url), 'utf8');
}

function fill(text: string, values: Map<string, string>): string {
  const out = text.replace(/@([A-Z_]+)@/g, (whole, key: string) => {
    const value = values.get(key);
    if (value === undefined) throw new Error(`The helper template names @${key}@, which ssh-setup does not fill.`);
    // The value lands between single quotes: refuse anything that could end them.
    if (/['\\\n]/.test(value)) throw new Error(`A value for ${key} contains a quote, a backslash or a newline.`);
    return value;
  });
  return out;
}

/** The text of keysmith-authorized-keys for these settings. */
export function renderAuthorizedKeysHelper(s: HelperSettings): string {
  return fill(
    template(AUTHORIZED_KEYS_HELPER),
    new Map([
      ['KEYSMITH_URL', s.url],
      ['TOKEN_FILE', s.tokenFile],
      ['MODE', s.mode],
      ['FORCED_COMMAND', s.mode === 'git' ? (s.forcedCommand ?? '') : ''],
      ['CACHE_DIR', s.cacheDir ?? ''],
    ]),
  );
}

/** The text of keysmith-authorized-principals for these settings. */
export function renderAuthorizedPrincipalsHelper(s: HelperSettings): string {
  return fill(
    template(AUTHORIZED_PRINCIPALS_HELPER),
    new Map([
      ['KEYSMITH_URL', s.url],
      ['TOKEN_FILE', s.tokenFile],
      ['MODE', s.mode],
      ['FORCED_COMMAND', s.mode === 'git' ? (s.forcedCommand ?? '') : ''],
    ]),
  );
}

/** The text of keysmith-git-serve for these settings. */
export function renderGitServeHelper(s: HelperSettings): string {
  return fill(
    template(GIT_SERVE_HELPER),
    new Map([
      ['KEYSMITH_URL', s.url],
      ['TOKEN_FILE', s.tokenFile],
      ['GIT_ROOT', s.gitRoot ?? ''],
    ]),
  );
}

interface UnixUser {
  name: string;
  uid: number;
  /** The primary group first. */
  gids: number[];
  home: string;
}

function unixUser(name: string, flag: string): UnixUser {
  if (!UNIX_USER.test(name)) throw new Error(`${flag} ${JSON.stringify(name)} is not a Unix user name.`);
  try {
    const entry = execFileSync('getent', ['passwd', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]!;
    const fields = entry.split(':');
    const primary = Number(fields[3]);
    const others = execFileSync('id', ['-G', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .trim()
      .split(/\s+/)
      .map(Number);
    return { name, uid: Number(fields[2]), gids: [primary, ...others.filter((gid) => gid !== primary)], home: fields[5] ?? '' };
  } catch {
    throw new Error(`There is no Unix user ${name} (${flag}); create it first, e.g. useradd --system --shell /usr/sbin/nologin ${name}.`);
  }
}

function safePath(value: string, flag: string): string {
  const absolute = path.resolve(value);
  if (!SAFE_PATH.test(absolute)) throw new Error(`${flag} ${absolute} may hold only letters, digits, '.', '_', '-' and '/'; choose such a path.`);
  return absolute;
}

function keysmithUrl(value: string): string {
  const url = value.replace(/\/+$/, '');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--url ${JSON.stringify(value)} is not an absolute URL; give Keysmith's public URL, such as https://keys.example.com.`);
  }
  if (!SAFE_URL.test(url) || parsed.search || parsed.hash || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
    throw new Error(`--url must be Keysmith's http:// or https:// address without a query, such as https://keys.example.com; ${JSON.stringify(value)} is not.`);
  }
  return url;
}

const octal = (mode: number) => `0${(mode & 0o777).toString(8)}`;

/** sshd's rule for an AuthorizedKeysCommand (safe_path): the file and every directory above it root's, none writable by group or others. */
function checkHelperDirectory(dir: string): void {
  for (let current = dir; ; current = path.dirname(current)) {
    const stat = fs.statSync(current);
    if (!stat.isDirectory()) throw new Error(`${current} is not a directory; --dir must be one.`);
    if (stat.uid !== 0) {
      throw new Error(
        `sshd refuses a helper below ${current}: it is owned by uid ${stat.uid}, not root. Use a root-owned directory such as /usr/local/libexec/keysmith (chown root ${current} if it is yours to change).`,
      );
    }
    if (stat.mode & 0o022) {
      throw new Error(
        `sshd refuses a helper below ${current}: it is writable by its group or by others (mode ${octal(stat.mode)}). Run chmod go-w ${current}, or use a directory such as /usr/local/libexec/keysmith.`,
      );
    }
    if (current === path.dirname(current)) return;
  }
}

function checkTokenFile(file: string, reader: UnixUser): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new Error(`There is no token file ${file}; put the ssh_server service key (kss_…) in it, readable only by ${reader.name}.`);
  }
  if (!stat.isFile()) throw new Error(`The token file ${file} is not a regular file.`);
  if (stat.mode & 0o006) {
    throw new Error(`The token file ${file} is readable or writable by others (mode ${octal(stat.mode)}); it holds a secret: chown ${reader.name} ${file} && chmod 0400 ${file}.`);
  }
  const readable = reader.uid === 0 || (stat.uid === reader.uid && stat.mode & 0o400) || (reader.gids.includes(stat.gid) && stat.mode & 0o040);
  if (!readable) throw new Error(`The token file ${file} is not readable by ${reader.name}, who runs the lookup: chown ${reader.name} ${file} && chmod 0400 ${file}.`);
  const first = fs.readFileSync(file, 'utf8').split('\n')[0]!.trim();
  if (!SERVICE_KEY.test(first)) throw new Error(`The token file ${file} does not hold a Keysmith service key (kss_…) on its first line; create an ssh_server service key and put it there.`);
}

function requireProgram(name: string): void {
  if (!['/usr/local/bin', '/usr/bin', '/bin'].some((dir) => fs.existsSync(path.join(dir, name)))) {
    throw new Error(`The helpers need ${name}, which is not installed in /usr/local/bin, /usr/bin or /bin (on Debian: apt-get install ${name}).`);
  }
}

/**
 * The cache directory: the command user's, mode 0700, so that only that user (and root) can put an
 * answer there for the helper to print. An existing one is brought back to that owner and mode.
 */
function prepareCacheDirectory(dir: string, owner: UnixUser): void {
  const stat = fs.lstatSync(dir, { throwIfNoEntry: false });
  if (stat && !stat.isDirectory()) throw new Error(`${dir} exists and is not a directory; remove it so that ssh-setup can create the lookup cache there.`);
  if (!stat) fs.mkdirSync(dir, { mode: 0o700 });
  try {
    fs.chownSync(dir, owner.uid, owner.gids[0]!);
  } catch {
    throw new Error(`Cannot give ${dir} to ${owner.name}; run ssh-setup as root.`);
  }
  fs.chmodSync(dir, 0o700);
}

/** Writes `file` in one step (a temporary file renamed over it), mode 0755. */
function writeHelper(file: string, text: string): void {
  const temporary = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(temporary, text, { mode: 0o755 });
  fs.chmodSync(temporary, 0o755);
  fs.renameSync(temporary, file);
}

/** What Keysmith answered, or a sentence saying why there is no answer; `what` names the request for it. */
async function ask(url: string, route: string, what: string, token?: string): Promise<Buffer> {
  let response: Response;
  try {
    response = await fetch(`${url}${route}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      redirect: 'error',
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
  } catch (err) {
    const code = (err as { cause?: { code?: unknown } }).cause?.code;
    const cause = typeof code === 'string' ? code : err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${FETCH_TIMEOUT_MS / 1000} s` : 'the request failed';
    throw new Error(`Cannot fetch ${what} from Keysmith at ${url} (${cause}); check --url and that Keysmith is running. Nothing was written.`);
  }
  const body = Buffer.from(await response.arrayBuffer());
  if (response.status !== 200) {
    let detail = '';
    try {
      const error = (JSON.parse(body.toString('utf8')) as { error?: { code?: unknown; message?: unknown } }).error;
      if (typeof error?.code === 'string' && typeof error.message === 'string') detail = ` (${error.code}: ${error.message.slice(0, 300)})`;
    } catch {
      // Not Keysmith's JSON error: the status says enough.
    }
    throw new Error(`Keysmith answered HTTP ${response.status}${detail} when asked for ${what} (GET ${route}). Nothing was written.`);
  }
  return body;
}

/**
 * The account CA's public file (and KRL), fetched before anything is written. The authenticated read
 * comes first: it makes the CA on first use, so the public file is never empty, and it proves the token
 * file's key belongs to the account.
 */
async function fetchCaFiles(url: string, tokenFile: string, account: string, krl: boolean): Promise<{ ca: string; krl?: Buffer }> {
  if (!ACCOUNT.test(account)) throw new Error(`--account ${JSON.stringify(account.slice(0, 60))} is not an account name; give the account whose CA sshd should trust, such as acme.`);
  const token = fs.readFileSync(tokenFile, 'utf8').split('\n')[0]!.trim();
  const base = `/v1/accounts/${encodeURIComponent(account)}/ssh-ca`;
  await ask(url, base, `the SSH CA of ${account} with the key in ${tokenFile}`, token);
  const ca = (await ask(url, `${base}.pub`, `the SSH CA public file of ${account}`)).toString('utf8');
  const lines = ca.split('\n').filter((line) => line !== '');
  if (lines.length === 0 || !ca.endsWith('\n') || !lines.every((line) => CA_LINE.test(line))) {
    throw new Error(`Keysmith's answer to GET ${base}.pub is not one CA public key per line; check that --url is Keysmith's. Nothing was written.`);
  }
  if (!krl) return { ca };
  const list = await ask(url, `${base}/krl`, `the KRL of ${account}`);
  if (!list.subarray(0, KRL_MAGIC.length).equals(KRL_MAGIC)) throw new Error(`Keysmith's answer to GET ${base}/krl is not an OpenSSH KRL; check that --url is Keysmith's. Nothing was written.`);
  return { ca, krl: list };
}

/** Writes `file` in one step (a temporary file renamed over it): root's, readable by all, as sshd's own files are. */
function writeReadable(file: string, data: string | Buffer): void {
  const temporary = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(temporary, data, { mode: 0o644 });
  fs.chmodSync(temporary, 0o644);
  fs.renameSync(temporary, file);
}

/** Checks, writes the helpers (and the CA files), and returns the sshd_config lines (with their final newline). */
export async function sshSetup(options: SshSetupOptions): Promise<string> {
  const url = keysmithUrl(options.url);
  const dir = safePath(options.dir, '--dir');
  const tokenFile = safePath(options.tokenFile, '--token-file');
  const commandUser = unixUser(options.commandUser, '--command-user');
  requireProgram('curl');
  let gitRoot: string | undefined;
  let gitUser: UnixUser | undefined;
  if (options.mode === 'git') {
    requireProgram('git');
    gitUser = unixUser(options.gitUser ?? 'git', '--git-user');
    gitRoot = safePath(options.gitRoot ?? gitUser.home, '--git-root');
    if (!fs.statSync(gitRoot, { throwIfNoEntry: false })?.isDirectory()) {
      throw new Error(`--git-root ${gitRoot} is not a directory; create it for the repositories (install -d -o ${gitUser.name} ${gitRoot}).`);
    }
  }
  checkTokenFile(tokenFile, commandUser);
  if (options.mode === 'git' && gitUser && gitUser.uid !== commandUser.uid) checkTokenFile(tokenFile, gitUser);

  // The nearest existing directory is checked before anything is created below it.
  let existing = dir;
  while (!fs.existsSync(existing)) existing = path.dirname(existing);
  checkHelperDirectory(fs.realpathSync(existing));

  const certificates = options.certificates;
  const fetched = certificates ? await fetchCaFiles(url, tokenFile, certificates.account, certificates.krl ?? false) : undefined;

  if (existing !== dir) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    checkHelperDirectory(fs.realpathSync(dir));
  }

  const lookup = path.join(dir, AUTHORIZED_KEYS_HELPER);
  const principalsHelper = path.join(dir, AUTHORIZED_PRINCIPALS_HELPER);
  const forcedCommand = path.join(dir, GIT_SERVE_HELPER);
  // Whoever can write the cache can let any key in: `nobody`, which other daemons run as, gets none.
  const cacheDir = commandUser.name !== 'nobody' && commandUser.uid !== NOBODY_UID ? path.join(dir, CACHE_SUBDIRECTORY) : undefined;
  const keyLookup = !certificates?.only;
  const settings: HelperSettings = { url, tokenFile, mode: options.mode, forcedCommand, gitRoot, cacheDir };
  if (options.mode === 'git') writeHelper(forcedCommand, renderGitServeHelper(settings));
  const lines: string[] = [];
  if (keyLookup) {
    if (cacheDir) prepareCacheDirectory(cacheDir, commandUser);
    writeHelper(lookup, renderAuthorizedKeysHelper(settings));
    lines.push(`AuthorizedKeysCommand ${lookup} %u %f`, `AuthorizedKeysCommandUser ${commandUser.name}`);
  }
  if (fetched) {
    const caFile = path.join(dir, CA_FILE);
    writeReadable(caFile, fetched.ca);
    writeHelper(principalsHelper, renderAuthorizedPrincipalsHelper(settings));
    lines.push(`TrustedUserCAKeys ${caFile}`, `AuthorizedPrincipalsCommand ${principalsHelper} %u %s %F`, `AuthorizedPrincipalsCommandUser ${commandUser.name}`);
    if (fetched.krl) {
      const krlFile = path.join(dir, KRL_FILE);
      writeReadable(krlFile, fetched.krl);
      lines.push(`RevokedKeys ${krlFile}`);
    }
  }

  // `Match all` closes whatever Match block the file may end in, so that `>>` adds global lines.
  if (options.mode === 'login') return ['Match all', ...lines].join('\n') + '\n';
  return [`Match User ${gitUser!.name}`, ...lines.map((line) => `    ${line}`)].join('\n') + '\n';
}
