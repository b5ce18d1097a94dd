// Git mode with the real thing: OpenSSH's sshd configured with `keysmith ssh-setup --mode git`'s own
// output, one shared Unix user, bare repositories under its home, and the real git client over SSH:
// a runner clones with the checkout key it fetched, members push or not by their role, another
// account's repository and shell commands are refused, every decision is in the audit trail, and
// nobody gets in once Keysmith is stopped. On SQLite and on PostgreSQL.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { keysmith } from '../cli-helpers.ts';
import { addProject, addServiceKey, addUser, seed } from '../factories.ts';
import { bearer, createTestApp, forEachDatabase, type TestApp } from '../harness.ts';
import { addUnixUser, clientKey, git, must, removeUnixUser, rootOwnedDir, ssh, sshdUnavailable, startSshd, tokenFile, writePrivateKey, type Sshd, type UnixUser } from './sshd.ts';

const skip = sshdUnavailable('sshd git-mode tests');
const USAGE = 'This server only serves git: use git clone, fetch, push or archive with a path such as <account>/<name>.git.';

interface Decision {
  identity: string;
  project: string;
  access: 'read' | 'write';
  allowed: boolean;
}

if (!skip) {
  forEachDatabase('sshd in git mode asks Keysmith for every repository access', (kind) => {
    let app: TestApp;
    let appClosed = false;
    let base: string;
    let gitUser: UnixUser;
    let sshd: Sshd;
    let ownerKey: string;
    const keys = new Map<string, string>();
    const logins = new Map<string, string>();
    const decisions: Decision[] = [];
    let clones = 0;

    const url = (repository: string) => `ssh://${gitUser.name}@127.0.0.1:${sshd.port}/${repository}`;
    const head = (repository: string) => must('/usr/bin/git', ['--git-dir', path.join(gitUser.home, repository), 'rev-parse', 'refs/heads/main']);

    /** `git clone` into a fresh directory with this key. */
    async function clone(keyFile: string, repository: string) {
      const dir = path.join(base, 'clients', `clone-${++clones}`);
      fs.mkdirSync(dir, { recursive: true });
      const result = await git(keyFile, ['clone', '--quiet', url(repository), 'work'], dir);
      return { ...result, work: path.join(dir, 'work') };
    }

    /** A new commit on main in `work`, pushed with this key. */
    async function commitAndPush(keyFile: string, work: string, file: string) {
      fs.writeFileSync(path.join(work, file), `${file}\n`);
      assert.equal((await git(keyFile, ['add', file], work)).code, 0);
      assert.equal((await git(keyFile, ['commit', '--quiet', '-m', `add ${file}`], work)).code, 0);
      const pushed = await git(keyFile, ['push', '--quiet', 'origin', 'HEAD:main'], work);
      return { ...pushed, commit: (await git(keyFile, ['rev-parse', 'HEAD'], work)).stdout };
    }

    /** A bare repository `<home>/<account>/<name>.git` with one commit on main, owned by the git user. */
    async function bareRepository(account: string, name: string) {
      const bare = path.join(gitUser.home, account, `${name}.git`);
      await must('/usr/bin/git', ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
      const seedDir = fs.mkdtempSync(path.join(base, 'seed-'));
      await must('/usr/bin/git', ['init', '--quiet', '--initial-branch=main', seedDir]);
      fs.writeFileSync(path.join(seedDir, 'README'), `${account}/${name}\n`);
      const env = {
        PATH: process.env.PATH,
        HOME: seedDir,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_AUTHOR_NAME: 'Seed',
        GIT_AUTHOR_EMAIL: 'seed@example.com',
        GIT_COMMITTER_NAME: 'Seed',
        GIT_COMMITTER_EMAIL: 'seed@example.com',
      };
      await must('/usr/bin/git', ['-C', seedDir, 'add', 'README'], { env });
      await must('/usr/bin/git', ['-C', seedDir, 'commit', '--quiet', '-m', 'first'], { env });
      await must('/usr/bin/git', ['-C', seedDir, 'push', '--quiet', bare, 'main'], { env });
      await must('/bin/chown', ['-R', `${gitUser.name}:${gitUser.name}`, path.join(gitUser.home, account)]);
    }

    /** A member of acme with `role` and their own SSH key in Keysmith. */
    async function member(label: string, role: 'read_write' | 'read_only') {
      const user = await addUser(app, `${label}${kind === 'sqlite' ? 's' : 'p'}`, { account: 'acme', role, by: ownerKey });
      const key = await clientKey(base, `${label}_key`);
      const added = await app.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bearer(user.key), payload: { title: label, key: key.publicLine } });
      assert.equal(added.statusCode, 201, added.body);
      keys.set(label, key.file);
      logins.set(label, user.login);
    }

    before(async () => {
      app = await createTestApp(kind, { listen: true });
      const alice = await seed(app);
      ownerKey = alice.key;
      await addProject(app, alice.key, 'acme', 'web');
      const olga = await addUser(app, 'olga');
      const other = await app.request({ method: 'POST', url: '/v1/accounts', headers: bearer(olga.key), payload: { name: 'other' } });
      assert.equal(other.statusCode, 201, other.body);
      await addProject(app, olga.key, 'other', 'app');

      base = rootOwnedDir();
      gitUser = await addUnixUser('ksgit', path.join(base, 'git'));
      const token = tokenFile(base, (await addServiceKey(app, alice.key, 'acme', 'ssh_server')).key, gitUser);
      // No --git-root: the repositories live in the git user's home.
      const setup = keysmith(
        ['ssh-setup', '--mode', 'git', '--url', app.url, '--token-file', token, '--dir', path.join(base, 'bin'), '--command-user', gitUser.name, '--git-user', gitUser.name],
        {},
        base,
      );
      assert.equal(setup.code, 0, setup.stderr);
      await bareRepository('acme', 'web');
      await bareRepository('other', 'app');
      sshd = await startSshd(base, setup.stdout);

      await member('dave', 'read_write');
      await member('rita', 'read_only');
      const checkoutKey = await app.request({ method: 'POST', url: '/v1/projects/gh/acme/web/checkout-keys', headers: bearer(alice.key), payload: { type: 'deploy' } });
      assert.equal(checkoutKey.statusCode, 201, checkoutKey.body);
    });

    after(async () => {
      await sshd?.stop();
      if (gitUser) await removeUnixUser(gitUser);
      if (!appClosed) await app?.close();
      if (base) fs.rmSync(base, { recursive: true, force: true });
    });

    test('a runner fetches checkout-credentials and clones with the checkout key; its push is refused with a sentence', async () => {
      const runner = await addServiceKey(app, ownerKey, 'acme', 'runner');
      const credentials = await app.request({ method: 'GET', url: '/v1/projects/gh/acme/web/checkout-credentials', headers: bearer(runner.key) });
      assert.equal(credentials.statusCode, 200, credentials.body);
      const keyFile = writePrivateKey(base, 'checkout_key', (credentials.json() as { checkout_key: { private_key: string } }).checkout_key.private_key);
      keys.set('runner', keyFile);

      const cloned = await clone(keyFile, 'acme/web.git');
      assert.equal(cloned.code, 0, `${cloned.stderr}\n${sshd.log()}`);
      assert.equal(fs.readFileSync(path.join(cloned.work, 'README'), 'utf8'), 'acme/web\n');
      decisions.push({ identity: 'deploy key of gh/acme/web', project: 'gh/acme/web', access: 'read', allowed: true });

      const before = await head('acme/web.git');
      const pushed = await commitAndPush(keyFile, cloned.work, 'from-runner');
      assert.notEqual(pushed.code, 0);
      assert.match(pushed.stderr, /read-only|read only/i);
      assert.match(pushed.stderr, /^[A-Z].*[.:]$/m, `a sentence: ${pushed.stderr}`);
      assert.equal(await head('acme/web.git'), before, 'the refused push changed nothing');
      decisions.push({ identity: 'deploy key of gh/acme/web', project: 'gh/acme/web', access: 'write', allowed: false });
    });

    test('a read_write member clones and pushes', async () => {
      const cloned = await clone(keys.get('dave')!, 'acme/web');
      assert.equal(cloned.code, 0, cloned.stderr);
      decisions.push({ identity: `user ${logins.get('dave')}`, project: 'gh/acme/web', access: 'read', allowed: true });
      const pushed = await commitAndPush(keys.get('dave')!, cloned.work, 'from-dave');
      assert.equal(pushed.code, 0, `${pushed.stderr}\n${sshd.log().slice(-3000)}`);
      assert.equal(await head('acme/web.git'), pushed.commit, 'the pushed commit is on main in the repository');
      decisions.push({ identity: `user ${logins.get('dave')}`, project: 'gh/acme/web', access: 'write', allowed: true });
    });

    test('a read_only member clones but cannot push', async () => {
      const cloned = await clone(keys.get('rita')!, 'gh/acme/web.git');
      assert.equal(cloned.code, 0, cloned.stderr);
      assert.ok(fs.existsSync(path.join(cloned.work, 'from-dave')), 'the clone has what dave pushed');
      decisions.push({ identity: `user ${logins.get('rita')}`, project: 'gh/acme/web', access: 'read', allowed: true });
      const before = await head('acme/web.git');
      const pushed = await commitAndPush(keys.get('rita')!, cloned.work, 'from-rita');
      assert.notEqual(pushed.code, 0);
      assert.match(pushed.stderr, /read_only|read-only|read only/i);
      assert.equal(await head('acme/web.git'), before);
      decisions.push({ identity: `user ${logins.get('rita')}`, project: 'gh/acme/web', access: 'write', allowed: false });
    });

    test("another account's repository is refused like one that does not exist", async () => {
      const other = await clone(keys.get('dave')!, 'other/app.git');
      assert.notEqual(other.code, 0);
      assert.ok(!fs.existsSync(other.work), 'nothing was cloned');
      decisions.push({ identity: `user ${logins.get('dave')}`, project: 'gh/other/app', access: 'read', allowed: false });
      const absent = await clone(keys.get('dave')!, 'other/nothing.git');
      assert.notEqual(absent.code, 0);
      decisions.push({ identity: `user ${logins.get('dave')}`, project: 'gh/other/nothing', access: 'read', allowed: false });
      const sentence = (stderr: string, name: string) =>
        stderr
          .split('\n')
          .find((line) => line.includes(name))
          ?.replaceAll(name, '<name>');
      assert.ok(sentence(other.stderr, 'app'), other.stderr);
      assert.equal(sentence(other.stderr, 'app'), sentence(absent.stderr, 'nothing'));
    });

    test('a shell, any other command and a command with shell syntax are refused, and run nothing', async () => {
      const canary = path.join(base, 'pwned');
      const usage = `${USAGE}\n`;
      const badPath = /^The repository path must be .*\n$/;
      for (const [command, expected] of [
        [[], usage],
        [['ls'], usage],
        [['sh', '-c', 'id'], usage],
        [[`git-upload-pack 'acme/web.git'; touch ${canary}`], badPath],
        [[`git-upload-pack '$(touch ${canary})'`], badPath],
      ] as const) {
        const result = await ssh(sshd, keys.get('dave')!, gitUser.name, [...command]);
        assert.equal(result.code, 1, `${JSON.stringify(command)}: ${result.stderr}`);
        assert.equal(result.stdout, '');
        if (typeof expected === 'string') assert.equal(result.stderr, expected);
        else assert.match(result.stderr, expected);
      }
      assert.ok(!fs.existsSync(canary));
    });

    test('every decision is in the audit trail, with the key, the project, the access and the answer', async () => {
      const res = await app.request({ method: 'GET', url: '/v1/audit-events?action=ssh.access&per_page=100', headers: bearer(ownerKey) });
      assert.equal(res.statusCode, 200, res.body);
      const events = (res.json() as Array<{ details: Record<string, unknown> }>).reverse();
      assert.deepEqual(
        events.map((e) => ({ identity: e.details.identity ?? null, project: e.details.project, access: e.details.access, allowed: e.details.allowed })),
        decisions,
      );
      for (const e of events) assert.match(String(e.details.key), /^key-\d+$/);
    });

    test('Keysmith stopped: nobody clones, and sshd logs the helper line saying why', async () => {
      assert.equal((await clone(keys.get('dave')!, 'acme/web.git')).code, 0, 'dave clones while Keysmith runs');
      await app.close();
      appClosed = true;
      const refused = await clone(keys.get('dave')!, 'acme/web.git');
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /Permission denied \(publickey\)/);
      assert.match(sshd.log(), /keysmith-authorized-keys: cannot connect to Keysmith at http:\/\/127\.0\.0\.1:\d+ \(curl exit 7\); no key offered/);
    });
  });
} else {
  test('sshd git-mode tests', { skip }, () => {});
}
