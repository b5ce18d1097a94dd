// `keysmith ssh-setup` as an administrator runs it: it refuses, with a sentence, what sshd would
// refuse at login time (a helper directory not root's or writable by others, a token file others can
// read), writes nothing then, and otherwise writes the helpers 0755 and prints only sshd_config lines.
// The command itself runs for what it prints and its exit codes; the refusals call sshSetup() in
// this process (a `keysmith` process costs seconds here).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sshSetup, type SshSetupOptions } from '../../src/cli/ssh-setup.ts';
import { keysmith } from '../cli-helpers.ts';
import { addUnixUser, removeUnixUser, rootOwnedDir, run, sshdUnavailable, tokenFile, type UnixUser } from './sshd.ts';

const skip = sshdUnavailable('ssh-setup tests');
const TOKEN = 'kss_0123456789abcdefghijklmnopqrstuvwxyzABCD';

describe('keysmith ssh-setup', { skip }, () => {
  let base: string;
  let lookup: UnixUser;
  let gitUser: UnixUser;
  let token: string;
  const setup = (args: string[]) => keysmith(['ssh-setup', ...args], {}, base);

  before(async () => {
    base = rootOwnedDir();
    lookup = await addUnixUser('kslk', path.join(base, 'lookup-home'));
    gitUser = await addUnixUser('ksgt', path.join(base, 'git-home'));
    token = tokenFile(base, TOKEN, lookup);
  });
  after(async () => {
    await removeUnixUser(lookup);
    await removeUnixUser(gitUser);
    fs.rmSync(base, { recursive: true, force: true });
  });

  test('login mode writes one helper, 0755, and prints only the sshd_config lines', () => {
    const dir = path.join(base, 'login-helpers');
    const out = setup(['--mode', 'login', '--url', 'http://127.0.0.1:8080/', '--token-file', token, '--dir', dir, '--command-user', lookup.name]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stderr, '');
    assert.equal(out.stdout, `Match all\nAuthorizedKeysCommand ${dir}/keysmith-authorized-keys %u %f\nAuthorizedKeysCommandUser ${lookup.name}\n`);
    assert.deepEqual(fs.readdirSync(dir), ['cache', 'keysmith-authorized-keys']);
    const stat = fs.statSync(path.join(dir, 'keysmith-authorized-keys'));
    assert.equal(stat.mode & 0o777, 0o755);
    assert.equal(stat.uid, 0);
    const cache = fs.statSync(path.join(dir, 'cache'));
    assert.equal(cache.mode & 0o777, 0o700, "the lookup cache is the command user's alone");
    assert.equal(cache.uid, lookup.uid);
    const text = fs.readFileSync(path.join(dir, 'keysmith-authorized-keys'), 'utf8');
    assert.match(text, /^#!\/bin\/sh\n/);
    assert.match(text, /^KEYSMITH_URL='http:\/\/127\.0\.0\.1:8080'$/m, 'the trailing slash is dropped');
    assert.match(text, new RegExp(`^TOKEN_FILE='${token}'$`, 'm'));
    assert.match(text, /^MODE='login'$/m);
    assert.match(text, new RegExp(`^CACHE_DIR='${dir}/cache'$`, 'm'));
    assert.ok(!text.includes(TOKEN), 'the helper names the token file, never the token');
    assert.ok(!/@[A-Z_]+@/.test(text), 'every placeholder is filled');
  });

  test('git mode writes both helpers and a Match User block; --git-root defaults to the git user home', async () => {
    const dir = path.join(base, 'git-helpers');
    const gitToken = path.join(base, 'git.token');
    fs.writeFileSync(gitToken, `${TOKEN}\n`, { mode: 0o400 });
    fs.chownSync(gitToken, gitUser.uid, gitUser.gid);
    const out = setup(['--mode', 'git', '--url', 'https://keys.example.com', '--token-file', gitToken, '--dir', dir, '--command-user', gitUser.name, '--git-user', gitUser.name]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, `Match User ${gitUser.name}\n    AuthorizedKeysCommand ${dir}/keysmith-authorized-keys %u %f\n    AuthorizedKeysCommandUser ${gitUser.name}\n`);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['cache', 'keysmith-authorized-keys', 'keysmith-git-serve']);
    for (const name of ['keysmith-authorized-keys', 'keysmith-git-serve']) assert.equal(fs.statSync(path.join(dir, name)).mode & 0o777, 0o755, name);
    const lookupText = fs.readFileSync(path.join(dir, 'keysmith-authorized-keys'), 'utf8');
    assert.match(lookupText, /^MODE='git'$/m);
    assert.match(lookupText, new RegExp(`^FORCED_COMMAND='${dir}/keysmith-git-serve'$`, 'm'));
    assert.match(fs.readFileSync(path.join(dir, 'keysmith-git-serve'), 'utf8'), new RegExp(`^GIT_ROOT='${gitUser.home}'$`, 'm'));
    // sshd itself accepts the lines.
    const config = path.join(base, 'sshd_config.check');
    const hostKey = path.join(base, 'host_check');
    await run('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
    fs.writeFileSync(config, `HostKey ${hostKey}\nUsePAM no\n${out.stdout}`);
    fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const check = await run('/usr/sbin/sshd', ['-t', '-f', config]);
    assert.equal(check.code, 0, check.stderr);
  });

  test('the lookup cache is left out when the command user is nobody, whom other daemons run as', async () => {
    const dir = path.join(base, 'nobody-helpers');
    const nobodyToken = path.join(base, 'nobody.token');
    fs.writeFileSync(nobodyToken, `${TOKEN}\n`, { mode: 0o400 });
    fs.chownSync(nobodyToken, 65534, 65534);
    await sshSetup({ mode: 'login', url: 'http://127.0.0.1:8080', tokenFile: nobodyToken, dir, commandUser: 'nobody' });
    assert.deepEqual(fs.readdirSync(dir), ['keysmith-authorized-keys']);
    assert.match(fs.readFileSync(path.join(dir, 'keysmith-authorized-keys'), 'utf8'), /^CACHE_DIR=''$/m);
  });

  test('a directory sshd would refuse is refused with a sentence, and nothing is written', async () => {
    const tmp = setup(['--mode', 'login', '--url', 'http://127.0.0.1:8080', '--token-file', token, '--dir', fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-setup-')), '--command-user', lookup.name]);
    assert.equal(tmp.code, 1);
    assert.equal(tmp.stdout, '');
    assert.match(
      tmp.stderr,
      /^keysmith: sshd refuses a helper below \/tmp: it is writable by its group or by others \(mode 01?777\)\. Run chmod go-w \/tmp, or use a directory such as \/usr\/local\/libexec\/keysmith\.\n$/,
    );

    const refusedAt = (dir: string, message: RegExp) => assert.rejects(() => sshSetup({ mode: 'login', url: 'http://127.0.0.1:8080', tokenFile: token, dir, commandUser: lookup.name }), message);
    const underTmp = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-setup-'));
    await refusedAt(underTmp, /below \/tmp: it is writable by its group or by others/);
    assert.deepEqual(fs.readdirSync(underTmp), []);

    const notRoots = path.join(base, 'not-roots');
    fs.mkdirSync(notRoots, { mode: 0o755 });
    fs.chownSync(notRoots, lookup.uid, lookup.gid);
    await refusedAt(path.join(notRoots, 'helpers'), new RegExp(`^Error: sshd refuses a helper below ${notRoots}: it is owned by uid ${lookup.uid}, not root\\. Use a root-owned directory`));
    assert.deepEqual(fs.readdirSync(notRoots), [], 'nothing is created below a refused directory');

    const groupWritable = path.join(base, 'group-writable');
    fs.mkdirSync(groupWritable);
    fs.chmodSync(groupWritable, 0o775);
    await refusedAt(groupWritable, /writable by its group or by others \(mode 0775\)/);
    assert.deepEqual(fs.readdirSync(groupWritable), []);

    await refusedAt(path.join(base, 'with space'), /--dir .* may hold only letters, digits/);
    assert.ok(!fs.existsSync(path.join(base, 'with space')));
  });

  test('a token file others can read, or its reader cannot, or that holds no service key, is refused', async () => {
    const dir = path.join(base, 'token-checks');
    const refused = (file: string, message: RegExp, extra: Partial<SshSetupOptions> = {}) =>
      assert.rejects(
        () => sshSetup({ mode: 'login', url: 'http://127.0.0.1:8080', tokenFile: file, dir, commandUser: lookup.name, ...extra }),
        (err: Error) => {
          assert.match(err.message, message);
          assert.ok(!err.message.includes(TOKEN) && !err.message.includes('ksu_thisis'), 'the file content is never echoed');
          return true;
        },
      );

    const open = path.join(base, 'open.token');
    fs.writeFileSync(open, TOKEN);
    fs.chmodSync(open, 0o644);
    await refused(open, new RegExp(`^The token file ${open} is readable or writable by others \\(mode 0644\\); it holds a secret: chown ${lookup.name} ${open} && chmod 0400 ${open}\\.$`));

    const roots = path.join(base, 'roots.token');
    fs.writeFileSync(roots, TOKEN, { mode: 0o600 });
    await refused(roots, new RegExp(`not readable by ${lookup.name}, who runs the lookup: chown ${lookup.name} ${roots} && chmod 0400 ${roots}\\.`));

    const notAKey = path.join(base, 'not-a-key.token');
    fs.writeFileSync(notAKey, 'ksu_thisisauserkeynotaservicekey\n', { mode: 0o600 });
    fs.chownSync(notAKey, lookup.uid, lookup.gid);
    await refused(notAKey, /does not hold a Keysmith service key \(kss_…\) on its first line; create an ssh_server service key/);

    await refused(path.join(base, 'nothing-here.token'), /^There is no token file/);
    await refused(token, /^There is no Unix user no-such-user \(--command-user\); create it first/, { commandUser: 'no-such-user' });
    await refused(token, /^--git-root \/nonexistent-keysmith is not a directory/, { mode: 'git', gitUser: gitUser.name, gitRoot: '/nonexistent-keysmith' });
    assert.ok(!fs.existsSync(dir), 'no refusal wrote the helper directory');
  });

  test('usage errors exit 2 and name what is missing; a URL that could break out of the helper is refused', async () => {
    const partial = setup(['--mode', 'git', '--url', 'http://x']);
    assert.equal(partial.code, 2);
    assert.match(partial.stderr, /^keysmith: ssh-setup needs --token-file, --dir, --command-user\./);
    await assert.rejects(
      () => sshSetup({ mode: 'login', url: "http://x/'; rm -rf /", tokenFile: token, dir: path.join(base, 'u'), commandUser: lookup.name }),
      /--url must be Keysmith's http:\/\/ or https:\/\/ address without a query/,
    );
    await assert.rejects(() => sshSetup({ mode: 'login', url: 'file:///etc/passwd', tokenFile: token, dir: path.join(base, 'u'), commandUser: lookup.name }), /--url must be/);
  });
});
