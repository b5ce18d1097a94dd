// The helpers ssh-setup writes, run by sh as sshd runs them, against a real Keysmith (no sshd needed):
// - keysmith-git-serve treats SSH_ORIGINAL_COMMAND as hostile: a table of hostile commands is refused
//   with the parser's sentence before any request reaches Keysmith, and nothing the client sent is
//   ever run by a shell; well-formed commands ask /v1/ssh/authorize the right question (audited) and
//   run git on the mapped repository.
// - both helpers fail closed: Keysmith down, silent for more than 5 s, or answering an error gives no
//   key, one line on stderr and a non-zero exit.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { renderAuthorizedKeysHelper, renderGitServeHelper, type HelperSettings } from '../../src/cli/ssh-setup.ts';
import { addProject, addServiceKey, addUser, seed } from '../factories.ts';
import { bearer, createTestApp, forEachDatabase, freePort, type TestApp } from '../harness.ts';
import { ed25519Line } from '../ssh-fixtures.ts';
import { helpersUnavailable, run } from './sshd.ts';

const skip = helpersUnavailable('ssh helper tests');

const USAGE = 'This server only serves git: use git clone, fetch, push or archive with a path such as <account>/<name>.git.';
const BAD_PATH = `The repository path must be <account>/<name>.git of letters, digits, '.', '_', '-' and '/' only (no '..'): ${USAGE}`;
const noRepository = (p: string) => `There is no repository ${p}: use <account>/<name>.git.`;

interface Installed {
  dir: string;
  root: string;
  lookup: string;
  serve: string;
}

/** The two helpers as ssh-setup renders them, pointing at `url`, with `key` in the token file. */
function install(url: string, key: string, mode: 'login' | 'git' = 'git'): Installed {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-helpers-'));
  const root = path.join(dir, 'repositories');
  fs.mkdirSync(root);
  const tokenFile = path.join(dir, 'token');
  fs.writeFileSync(tokenFile, `${key}\n`, { mode: 0o600 });
  const settings: HelperSettings = { url, tokenFile, mode, forcedCommand: path.join(dir, 'keysmith-git-serve'), gitRoot: root };
  const lookup = path.join(dir, 'keysmith-authorized-keys');
  const serve = path.join(dir, 'keysmith-git-serve');
  fs.writeFileSync(lookup, renderAuthorizedKeysHelper(settings), { mode: 0o755 });
  fs.writeFileSync(serve, renderGitServeHelper(settings), { mode: 0o755 });
  return { dir, root, lookup, serve };
}

/** keysmith-git-serve as sshd runs a forced command: `sh -c '<helper> key-<id>'` with the client's command in the environment. */
const serve = (h: Installed, original: string | undefined, identity = 'key-1') =>
  run('/bin/sh', ['-c', `${h.serve} ${identity}`], { env: { PATH: '/usr/bin:/bin', ...(original === undefined ? {} : { SSH_ORIGINAL_COMMAND: original }) }, cwd: h.dir });

const lookup = (h: Installed, args: string[]) => run(h.lookup, args, { env: {}, cwd: h.dir });

const sshServerKey = (app: TestApp, ownerKey: string) => addServiceKey(app, ownerKey, 'acme', 'ssh_server');

const accessEvents = async (app: TestApp, ownerKey: string) =>
  (await app.request({ method: 'GET', url: '/v1/audit-events?action=ssh.access', headers: bearer(ownerKey) })).json() as Array<{ details: Record<string, unknown> }>;

/** How many requests Keysmith received for a path (its request log). */
const requestsTo = (app: TestApp, url: string) => app.logs.filter((line) => line.includes('"incoming request"') && line.includes(`"url":"${url}`)).length;

describe('keysmith-git-serve refuses every hostile SSH_ORIGINAL_COMMAND before asking Keysmith', { skip }, () => {
  let app: TestApp;
  let helpers: Installed;
  let canary: string;

  before(async () => {
    app = await createTestApp('sqlite', { listen: true });
    const alice = await seed(app);
    helpers = install(app.url, (await sshServerKey(app, alice.key)).key);
    canary = path.join(helpers.dir, 'pwned');
  });
  after(async () => {
    await app.close();
    fs.rmSync(helpers.dir, { recursive: true, force: true });
  });

  const hostile: Array<[string | undefined, string]> = [];
  const add = (expected: string, ...commands: Array<string | undefined>) => commands.forEach((c) => hostile.push([c, expected]));
  add(USAGE, undefined, '', 'sh', 'bash -i', 'ls', 'ls -la /', 'id', 'git-shell -c ls', 'scp -t /tmp', 'rsync --server -e.Lsfx . /', 'GIT-UPLOAD-PACK acme/web.git');
  add(USAGE, 'git-upload-pack', 'git-receive-pack', 'git upload-pack acme/web.git', 'git-upload-pack\tacme/web.git', "git-upload-pack${IFS}'acme/web.git'", 'git-upload-pack\nacme/web.git');
  add(USAGE, 'git-upload-packs acme/web.git', 'xgit-upload-pack acme/web.git', '/usr/bin/git-upload-pack acme/web.git', 'git-upload-pack;touch CANARY acme/web.git');
  add(
    BAD_PATH,
    "git-upload-pack 'acme/web.git'; touch CANARY",
    "git-upload-pack 'acme/web.git' && touch CANARY",
    "git-upload-pack 'acme/web.git' | touch CANARY",
    "git-upload-pack '$(touch CANARY)'",
    'git-upload-pack `touch CANARY`',
    "git-upload-pack 'acme/web.git'\ntouch CANARY",
    "git-upload-pack 'acme/web.git",
    "git-upload-pack acme/web.git'",
    "git-upload-pack '''acme/web.git'''",
    'git-upload-pack "acme/web.git"',
    "git-upload-pack 'acme/web.git' extra",
    "git-upload-pack  'acme/web.git'",
    'git-upload-pack --upload-pack=touch CANARY',
    "git-upload-pack '../../etc/passwd'",
    "git-upload-pack 'acme/../../root/.ssh'",
    "git-upload-pack 'acme/..'",
    "git-upload-pack 'acme/web..git'",
    "git-upload-pack 'acmé/web.git'",
    "git-upload-pack 'acme/web*'",
    "git-upload-pack 'acme/web?.git'",
    "git-upload-pack 'acme/~root'",
    "git-upload-pack 'acme/$HOME'",
    "git-upload-pack 'acme/web.git\\'",
    "git-upload-pack ''",
    "git-upload-pack '",
    'git-upload-pack acme/web.git\u0000touch CANARY'.replace('\u0000', '\u0001'),
    "git-receive-pack 'acme/web.git';touch CANARY",
    "git-upload-archive 'acme/web.git' --remote=x",
  );
  add(noRepository('a/b/c/d.git'), "git-upload-pack 'a/b/c/d.git'");
  add(noRepository('//acme/web.git'), "git-upload-pack '//acme/web.git'");
  add(noRepository('acme//web.git'), "git-upload-pack 'acme//web.git'");
  add(noRepository('acme/web/'), "git-upload-pack 'acme/web/'");
  add(noRepository('./web.git'), "git-upload-pack './web.git'");
  add(noRepository('acme/.git'), "git-upload-pack 'acme/.git'");
  add(noRepository('/'), "git-upload-pack '/'");
  add(noRepository('web.git'), "git-upload-pack 'web.git'", 'git-upload-pack web.git');
  add(noRepository('-oProxyCommand'), 'git-upload-pack -oProxyCommand');

  test(`${hostile.length} hostile commands: each refused with the parser's sentence, exit 1, no request, nothing run`, async () => {
    const before = requestsTo(app, '/v1/ssh/authorize');
    for (const [original, expected] of hostile) {
      const command = original?.replaceAll('CANARY', canary);
      const result = await serve(helpers, command);
      const shown = JSON.stringify(command);
      assert.equal(result.code, 1, `${shown} exits 1`);
      assert.equal(result.stdout, '', `${shown} writes nothing for git to read`);
      assert.equal(result.stderr, `${expected}\n`, `${shown} is refused with its sentence`);
    }
    assert.ok(!fs.existsSync(canary), 'no hostile command ran anything');
    assert.equal(requestsTo(app, '/v1/ssh/authorize'), before, 'no hostile command reached Keysmith');
  });

  test('the forced command refuses an identity argument that is not key-<id> or cert-<serial>', async () => {
    for (const identity of ['', 'key-', 'key-1x', 'key-abc', 'cert-', 'cert-x1', 'user-1', '1', 'key-1 key-2']) {
      const result = await serve(helpers, "git-upload-pack 'acme/web.git'", identity);
      assert.equal(result.code, 1, identity);
      assert.match(result.stderr, /^keysmith-git-serve: (expected one argument|".*" is not key-<id> or cert-<serial>)/, identity);
    }
  });
});

forEachDatabase('keysmith-git-serve asks Keysmith and runs git on the mapped repository', (kind) => {
  test('read and write of gh/<account>/<name> in each spelling; another vcs maps below its own directory', { skip }, async (t) => {
    const app = await createTestApp(kind, { listen: true });
    t.after(() => app.close());
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme', 'web');
    const bob = await addUser(app, 'bob', { account: 'acme', role: 'read_only', by: alice.key });
    const added = await app.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bearer(bob.key), payload: { title: 'laptop', key: ed25519Line() } });
    assert.equal(added.statusCode, 201, added.body);
    const keyId = (added.json() as { id: number }).id;
    const helpers = install(app.url, (await sshServerKey(app, alice.key)).key);
    t.after(() => fs.rmSync(helpers.dir, { recursive: true, force: true }));

    for (const [original, access] of [
      ["git-upload-pack 'acme/web.git'", 'read'],
      ["git-upload-pack '/acme/web.git'", 'read'],
      ['git-upload-pack acme/web', 'read'],
      ["git-upload-pack 'gh/acme/web.git'", 'read'],
    ] as const) {
      const result = await serve(helpers, original, `key-${keyId}`);
      // The repository does not exist on disk, so git itself says which path it was given.
      assert.match(result.stderr, new RegExp(`'${helpers.root}/acme/web\\.git' does not appear to be a git repository`), `${original}: ${result.stderr}`);
      const last = (await accessEvents(app, alice.key))[0]!;
      assert.deepEqual({ project: last.details.project, access: last.details.access, allowed: last.details.allowed }, { project: 'gh/acme/web', access, allowed: true }, original);
    }
    // git upload-archive says less about a missing repository, but it is git that answers.
    const archive = await serve(helpers, "git-upload-archive '/gh/acme/web'", `key-${keyId}`);
    assert.match(archive.stderr, /git upload-archive: archiver died/);
    const archived = (await accessEvents(app, alice.key))[0]!;
    assert.deepEqual({ project: archived.details.project, access: archived.details.access, allowed: archived.details.allowed }, { project: 'gh/acme/web', access: 'read', allowed: true });

    const push = await serve(helpers, "git-receive-pack 'acme/web.git'", `key-${keyId}`);
    assert.equal(push.code, 1);
    assert.equal(push.stdout, '');
    assert.ok(!push.stderr.includes('does not appear to be a git repository'), 'git never ran');
    assert.match(push.stderr, /^\S.*\.\n$/, `one sentence: ${push.stderr}`);
    const refused = (await accessEvents(app, alice.key))[0]!;
    assert.deepEqual({ project: refused.details.project, access: refused.details.access, allowed: refused.details.allowed }, { project: 'gh/acme/web', access: 'write', allowed: false });

    const otherVcs = await serve(helpers, "git-upload-pack 'bb/acme/web.git'", `key-${keyId}`);
    assert.equal(otherVcs.code, 1, 'there is no bb/acme/web project');
    assert.match(otherVcs.stderr, /bb\/acme\/web/);
    assert.equal((await accessEvents(app, alice.key))[0]!.details.project, 'bb/acme/web');
  });
});

describe('both helpers fail closed: no key, one line on stderr, a non-zero exit', { skip }, () => {
  let app: TestApp;
  let ownerKey: string;
  let sshServer: string;
  let fingerprint: string;
  const dirs: string[] = [];
  const installed = (url: string, key: string, mode: 'login' | 'git' = 'login') => {
    const h = install(url, key, mode);
    dirs.push(h.dir);
    return h;
  };

  before(async () => {
    app = await createTestApp('sqlite', { listen: true });
    const alice = await seed(app);
    ownerKey = alice.key;
    sshServer = (await sshServerKey(app, alice.key)).key;
    const added = await app.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bearer(alice.key), payload: { key: ed25519Line() } });
    fingerprint = (added.json() as { fingerprint_sha256: string }).fingerprint_sha256;
  });
  after(async () => {
    await app.close();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  const oneLine = (result: { code: number | null; stdout: string; stderr: string }, pattern: RegExp) => {
    assert.notEqual(result.code, 0);
    assert.equal(result.stdout, '', 'no key');
    assert.equal(result.stderr.split('\n').length, 2, `one line: ${result.stderr}`);
    assert.match(result.stderr, pattern);
  };

  test('the lookup answers the key when Keysmith is up (the baseline the refusals below differ from)', async () => {
    const h = installed(app.url, sshServer);
    const result = await lookup(h, ['alice', fingerprint]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^ssh-ed25519 AAAA[A-Za-z0-9+/=]+\n$/);
    assert.equal(result.stderr, '');
  });

  test('Keysmith down', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    oneLine(await lookup(installed(url, sshServer), ['alice', fingerprint]), /^keysmith-authorized-keys: cannot connect to Keysmith at http:\/\/127\.0\.0\.1:\d+ \(curl exit 7\); no key offered\n$/);
    const git = await serve(installed(url, sshServer, 'git'), "git-upload-pack 'acme/web.git'");
    oneLine(git, /^Access to acme\/web\.git cannot be checked: Keysmith cannot be reached \(curl exit 7\)\. Try again; if it persists, tell the server's administrator\.\n$/);
  });

  test('Keysmith accepting the connection but silent for more than 5 seconds', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const held: net.Socket[] = [];
    silent.on('connection', (socket) => held.push(socket));
    try {
      const url = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
      const [keys, git] = await Promise.all([lookup(installed(url, sshServer), ['alice', fingerprint]), serve(installed(url, sshServer, 'git'), "git-upload-pack 'acme/web.git'")]);
      oneLine(keys, /^keysmith-authorized-keys: Keysmith at http:\/\/127\.0\.0\.1:\d+ did not answer within 5 seconds; no key offered\n$/);
      oneLine(git, /^Access to acme\/web\.git cannot be checked: Keysmith did not answer within 5 seconds\./);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('Keysmith answering an error: an unknown key (401), a key of another role (403)', async () => {
    const unknown = `kss_${randomBytes(24).toString('hex')}`;
    oneLine(await lookup(installed(app.url, unknown), ['alice', fingerprint]), /^keysmith-authorized-keys: Keysmith answered HTTP 401 \([a-z_]+\) to the key lookup; no key offered\n$/);
    oneLine(
      await serve(installed(app.url, unknown, 'git'), "git-upload-pack 'acme/web.git'"),
      /^Access to acme\/web\.git cannot be checked: Keysmith answered HTTP 401\. Tell the server's administrator\.\n$/,
    );
    const readOnly = (await addServiceKey(app, ownerKey, 'acme', 'read_only')).key;
    oneLine(await lookup(installed(app.url, readOnly), ['alice', fingerprint]), /^keysmith-authorized-keys: Keysmith answered HTTP 403 \(role_required\) to the key lookup; no key offered\n$/);
  });

  test('a token file the command user cannot read, or that holds no service key; arguments sshd would not send', async () => {
    const h = installed(app.url, sshServer);
    fs.chmodSync(path.join(h.dir, 'token'), 0o000);
    if (process.getuid?.() !== 0) oneLine(await lookup(h, ['alice', fingerprint]), /^keysmith-authorized-keys: cannot read the ssh_server key in .*\/token as /);
    fs.chmodSync(path.join(h.dir, 'token'), 0o600);
    fs.writeFileSync(path.join(h.dir, 'token'), 'not a key\n');
    oneLine(await lookup(h, ['alice', fingerprint]), /does not hold a Keysmith service key \(kss_\.\.\.\)/);
    fs.writeFileSync(path.join(h.dir, 'token'), `${sshServer}"\nheader = "X-Injected: 1\n`);
    oneLine(await lookup(h, ['alice', fingerprint]), /holds more than one service key \(kss_\.\.\.\) on its first line/);
    fs.writeFileSync(path.join(h.dir, 'token'), `${sshServer}\n`);
    oneLine(await lookup(h, ['alice']), /^keysmith-authorized-keys: expected two arguments \(sshd's %u %f\), got 1/);
    oneLine(await lookup(h, ['alice', 'MD5:00:11']), /the fingerprint is not a SHA256 one/);
  });
});
