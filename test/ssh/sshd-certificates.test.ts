// sshd that trusts Keysmith's SSH CA, with the real thing: OpenSSH's sshd configured with
// `keysmith ssh-setup --certificates-only`'s own output (TrustedUserCAKeys and the principals command,
// no AuthorizedKeysCommand), and the real ssh and git clients. A user logs in with a fresh certificate
// and not with the bare key; a revoked or expired certificate is refused; the KRL says REVOKED and an
// sshd with RevokedKeys and no online check refuses the revoked certificate; a rotated CA keeps old
// certificates working until the previous key is dropped; a runner clones with its checkout certificate
// over the git server and cannot push. On SQLite and on PostgreSQL.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BIN } from '../cli-helpers.ts';
import { addProject, addServiceKey, addUser, seed } from '../factories.ts';
import { bearer, createTestApp, forEachDatabase, freePort, type TestApp } from '../harness.ts';
import { addUnixUser, clientKey, git, must, removeUnixUser, rootOwnedDir, run, ssh, sshdUnavailable, startSshd, tokenFile, type Sshd, type UnixUser } from './sshd.ts';

const skip = sshdUnavailable('sshd certificate tests');
const HOUR = 3600_000;

/** `keysmith ssh-setup …` in its own process, without blocking this one (the Keysmith it asks answers here). */
const sshSetup = (args: string[], cwd: string) => run(process.execPath, [BIN, 'ssh-setup', ...args], { cwd, env: { PATH: process.env.PATH } });

if (!skip) {
  forEachDatabase('sshd trusts the account SSH CA, and Keysmith says which certificates still count', (kind) => {
    let app: TestApp;
    let base: string;
    let lookupUser: UnixUser;
    let loginUser: UnixUser;
    let gitUser: UnixUser;
    let sshd: Sshd;
    let offline: Sshd;
    let gitSshd: Sshd;
    let ownerKey: string;
    let userKey: string;
    let token: string;
    let keys = 0;
    /** The real clock, moved by `offset` (to issue a certificate that is already expired in real time). */
    let offset = 0;
    const clock = { now: () => new Date(Date.now() + offset) };

    const setupArgs = (dir: string, ...extra: string[]) => ['--mode', 'login', '--url', app.url, '--token-file', token, '--dir', path.join(base, dir), '--command-user', lookupUser.name, ...extra];
    /** Re-runs ssh-setup for the offline sshd: a fresh CA file and KRL. */
    const refreshOffline = async () => {
      const out = await sshSetup(setupArgs('offline', '--certificates-only', '--account', 'acme', '--krl'), base);
      assert.equal(out.code, 0, out.stderr);
      return out.stdout;
    };
    /** Re-runs ssh-setup for the online sshd: a fresh CA file. */
    const refreshOnline = async () => {
      const out = await sshSetup(setupArgs('bin', '--certificates-only', '--account', 'acme'), base);
      assert.equal(out.code, 0, out.stderr);
      return out.stdout;
    };

    /** A key pair of the login user, added to their Keysmith SSH keys, and (unless `bare`) a certificate beside it as <key>-cert.pub. */
    async function certifiedKey(options: { bare?: boolean } = {}) {
      const key = await clientKey(base, `user_key_${++keys}`);
      const added = await app.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bearer(userKey), payload: { title: `key ${keys}`, key: key.publicLine } });
      assert.equal(added.statusCode, 201, added.body);
      if (options.bare) return { file: key.file, serial: 0, certFile: '' };
      const issued = await app.request({ method: 'POST', url: '/v1/user/ssh-certificates', headers: bearer(userKey), payload: { public_key: key.publicLine, account: 'acme' } });
      assert.equal(issued.statusCode, 201, issued.body);
      const { serial, certificate } = issued.json() as { serial: number; certificate: string };
      const certFile = `${key.file}-cert.pub`;
      fs.writeFileSync(certFile, `${certificate}\n`);
      return { file: key.file, serial, certFile };
    }

    const loginAs = (server: Sshd, keyFile: string) => ssh(server, keyFile, loginUser.name, ['id', '-un']);
    const assertIn = async (server: Sshd, keyFile: string, what: string) => {
      const result = await loginAs(server, keyFile);
      assert.equal(result.code, 0, `${what}: ${result.stderr}\n${server.log().slice(-3000)}`);
      assert.equal(result.stdout, `${loginUser.name}\n`);
    };
    const assertOut = async (server: Sshd, keyFile: string, what: string) => {
      const result = await loginAs(server, keyFile);
      assert.notEqual(result.code, 0, `${what}: the login succeeded`);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, /Permission denied \(publickey\)/, what);
    };
    const revoke = async (serial: number) => {
      const res = await app.request({ method: 'DELETE', url: `/v1/accounts/acme/ssh-certificates/${serial}`, headers: bearer(userKey) });
      assert.equal(res.statusCode, 204, res.body);
    };

    before(async () => {
      app = await createTestApp(kind, { listen: true, clock });
      ownerKey = (await seed(app)).key;
      base = rootOwnedDir();
      lookupUser = await addUnixUser('kslk', path.join(base, 'lookup-home'));
      loginUser = await addUnixUser('kscu', path.join(base, 'login-home'));
      // The Keysmith login equals the Unix user, so that the certificate's principal is the user sshd logs in.
      userKey = (await addUser(app, loginUser.name, { account: 'acme', role: 'read_write', by: ownerKey })).key;
      token = tokenFile(base, (await addServiceKey(app, ownerKey, 'acme', 'ssh_server')).key, lookupUser);

      const dir = path.join(base, 'bin');
      const setup = await sshSetup(setupArgs('bin', '--certificates-only', '--account', 'acme'), base);
      assert.equal(setup.code, 0, setup.stderr);
      assert.equal(setup.stderr, '');
      assert.equal(
        setup.stdout,
        `Match all\nTrustedUserCAKeys ${dir}/keysmith-ca.pub\nAuthorizedPrincipalsCommand ${dir}/keysmith-authorized-principals %u %s %F\nAuthorizedPrincipalsCommandUser ${lookupUser.name}\n`,
      );
      assert.deepEqual(fs.readdirSync(dir).sort(), ['keysmith-authorized-principals', 'keysmith-ca.pub'], 'certificates only: no key lookup helper');
      const caStat = fs.statSync(path.join(dir, 'keysmith-ca.pub'));
      assert.equal(caStat.mode & 0o777, 0o644);
      assert.equal(caStat.uid, 0);
      assert.equal(fs.statSync(path.join(dir, 'keysmith-authorized-principals')).mode & 0o777, 0o755);
      const ca = await app.request({ method: 'GET', url: '/v1/accounts/acme/ssh-ca', headers: bearer(ownerKey) });
      const [active] = (ca.json() as { keys: Array<{ public_key: string; state: string }> }).keys;
      assert.equal(active?.state, 'active', 'ssh-setup made the CA on first use');
      assert.equal(fs.readFileSync(path.join(dir, 'keysmith-ca.pub'), 'utf8'), (await app.request({ method: 'GET', url: '/v1/accounts/acme/ssh-ca.pub' })).body);
      sshd = await startSshd(base, setup.stdout);

      // The offline server: TrustedUserCAKeys and RevokedKeys only, no online check.
      const offlineLines = await refreshOffline();
      const offlineDir = path.join(base, 'offline');
      assert.equal(
        offlineLines,
        `Match all\nTrustedUserCAKeys ${offlineDir}/keysmith-ca.pub\nAuthorizedPrincipalsCommand ${offlineDir}/keysmith-authorized-principals %u %s %F\nAuthorizedPrincipalsCommandUser ${lookupUser.name}\nRevokedKeys ${offlineDir}/keysmith-ca.krl\n`,
      );
      offline = await startSshd(
        base,
        offlineLines
          .split('\n')
          .filter((line) => !line.startsWith('AuthorizedPrincipals'))
          .join('\n'),
        { name: 'sshd-offline' },
      );
    });

    after(async () => {
      await sshd?.stop();
      await offline?.stop();
      await gitSshd?.stop();
      for (const user of [lookupUser, loginUser, gitUser]) if (user) await removeUnixUser(user);
      await app?.close();
      if (base) fs.rmSync(base, { recursive: true, force: true });
    });

    test('a fresh certificate logs the user in; the same kind of key without one does not', async () => {
      const certified = await certifiedKey();
      await assertIn(sshd, certified.file, 'a certified key');
      assert.match(sshd.log(), new RegExp(`Accepted publickey for ${loginUser.name} .*ED25519-CERT.*ID user:${loginUser.name} \\(serial ${certified.serial}\\)`));
      const bare = await certifiedKey({ bare: true });
      await assertOut(sshd, bare.file, 'a key in Keysmith without a certificate (there is no AuthorizedKeysCommand)');
    });

    test('after DELETE …/ssh-certificates/{serial} the next login fails', async () => {
      const certified = await certifiedKey();
      await assertIn(sshd, certified.file, 'before the revocation');
      await revoke(certified.serial);
      await assertOut(sshd, certified.file, 'after the revocation');
    });

    test('a certificate already expired in real time is refused by sshd itself', async () => {
      offset = -10 * HOUR;
      let certified: Awaited<ReturnType<typeof certifiedKey>>;
      try {
        certified = await certifiedKey();
      } finally {
        offset = 0;
      }
      const listed = await run('/usr/bin/ssh-keygen', ['-L', '-f', certified.certFile]);
      assert.match(listed.stdout, /Valid: from \S+ to \S+/);
      await assertOut(sshd, certified.file, 'an expired certificate');
      await assertOut(offline, certified.file, 'an expired certificate, offline');
      assert.match(offline.log(), /[Cc]ertificate invalid: expired/);
    });

    test('the KRL says REVOKED, and an sshd with RevokedKeys and no online check refuses the certificate', async () => {
      const certified = await certifiedKey();
      await assertIn(offline, certified.file, 'offline, before the revocation');
      await revoke(certified.serial);
      await assertIn(offline, certified.file, 'offline, revoked but the KRL not yet refreshed (no online check)');
      await refreshOffline();
      const krl = path.join(base, 'offline', 'keysmith-ca.krl');
      assert.equal(fs.statSync(krl).mode & 0o777, 0o644);
      const query = await run('/usr/bin/ssh-keygen', ['-Q', '-f', krl, certified.certFile]);
      assert.match(query.stdout, /REVOKED/);
      await assertOut(offline, certified.file, 'offline, with the refreshed KRL');
      assert.match(offline.log(), /revoked/i);
      const good = await certifiedKey();
      const ok = await run('/usr/bin/ssh-keygen', ['-Q', '-f', krl, good.certFile]);
      assert.match(ok.stdout, /ok/);
      assert.doesNotMatch(ok.stdout, /REVOKED/);
      await assertIn(offline, good.file, 'offline, an unrevoked certificate');
    });

    test('CA rotation: an old certificate works until DELETE …/ssh-ca/previous', async () => {
      const old = await certifiedKey();
      await assertIn(sshd, old.file, 'old CA, before the rotation');
      const rotated = await app.request({ method: 'POST', url: '/v1/accounts/acme/ssh-ca/rotate', headers: bearer(ownerKey) });
      assert.equal(rotated.statusCode, 201, rotated.body);
      await refreshOnline();
      await refreshOffline();
      assert.equal(
        fs
          .readFileSync(path.join(base, 'bin', 'keysmith-ca.pub'), 'utf8')
          .trim()
          .split('\n').length,
        2,
        'both CA keys are trusted',
      );
      const fresh = await certifiedKey();
      await assertIn(sshd, old.file, 'old CA, after the rotation');
      await assertIn(sshd, fresh.file, 'new CA');
      // sshd re-reads TrustedUserCAKeys per authentication: the offline server takes the new key from the rewritten file.
      await assertIn(offline, fresh.file, 'new CA, offline');
      await assertIn(offline, old.file, 'old CA, offline');

      const dropped = await app.request({ method: 'DELETE', url: '/v1/accounts/acme/ssh-ca/previous', headers: bearer(ownerKey) });
      assert.equal(dropped.statusCode, 204, dropped.body);
      await assertOut(sshd, old.file, 'old CA dropped: the online check refuses it at once');
      await refreshOnline();
      await refreshOffline();
      assert.equal(
        fs
          .readFileSync(path.join(base, 'bin', 'keysmith-ca.pub'), 'utf8')
          .trim()
          .split('\n').length,
        1,
      );
      await assertOut(offline, old.file, 'old CA dropped and the file rewritten');
      await assertIn(sshd, fresh.file, 'new CA, after the drop');
      await assertIn(offline, fresh.file, 'new CA, offline, after the drop');
    });

    test('a runner clones over the git server with an ephemeral key and its checkout certificate, and cannot push', async () => {
      await addProject(app, ownerKey, 'acme', 'web');
      const gitBase = path.join(base, 'git-server');
      fs.mkdirSync(gitBase, { mode: 0o755 });
      gitUser = await addUnixUser('ksgc', path.join(base, 'git-home'));
      const gitToken = tokenFile(gitBase, (await addServiceKey(app, ownerKey, 'acme', 'ssh_server')).key, gitUser);
      const dir = path.join(gitBase, 'bin');
      const setup = await sshSetup(
        ['--mode', 'git', '--url', app.url, '--token-file', gitToken, '--dir', dir, '--command-user', gitUser.name, '--git-user', gitUser.name, '--certificates-only', '--account', 'acme'],
        base,
      );
      assert.equal(setup.code, 0, setup.stderr);
      assert.equal(
        setup.stdout,
        `Match User ${gitUser.name}\n    TrustedUserCAKeys ${dir}/keysmith-ca.pub\n    AuthorizedPrincipalsCommand ${dir}/keysmith-authorized-principals %u %s %F\n    AuthorizedPrincipalsCommandUser ${gitUser.name}\n`,
      );
      const bare = path.join(gitUser.home, 'acme', 'web.git');
      await must('/usr/bin/git', ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
      const seedDir = fs.mkdtempSync(path.join(base, 'seed-'));
      const env = {
        PATH: process.env.PATH,
        HOME: seedDir,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_AUTHOR_NAME: 'S',
        GIT_AUTHOR_EMAIL: 's@example.com',
        GIT_COMMITTER_NAME: 'S',
        GIT_COMMITTER_EMAIL: 's@example.com',
      };
      await must('/usr/bin/git', ['init', '--quiet', '--initial-branch=main', seedDir], { env });
      fs.writeFileSync(path.join(seedDir, 'README'), 'acme/web\n');
      await must('/usr/bin/git', ['-C', seedDir, 'add', 'README'], { env });
      await must('/usr/bin/git', ['-C', seedDir, 'commit', '--quiet', '-m', 'first'], { env });
      await must('/usr/bin/git', ['-C', seedDir, 'push', '--quiet', bare, 'main'], { env });
      await must('/bin/chown', ['-R', `${gitUser.name}:${gitUser.name}`, path.join(gitUser.home, 'acme')]);
      gitSshd = await startSshd(gitBase, setup.stdout, { name: 'sshd-git' });

      // The job's own key pair, certified for this one project by the runner key; Keysmith never sees the private half.
      const runner = await addServiceKey(app, ownerKey, 'acme', 'runner');
      const job = await clientKey(gitBase, 'job_key');
      const issued = await app.request({ method: 'POST', url: '/v1/projects/gh/acme/web/checkout-certificate', headers: bearer(runner.key), payload: { public_key: job.publicLine } });
      assert.equal(issued.statusCode, 201, issued.body);
      const { serial, certificate, principals } = issued.json() as { serial: number; certificate: string; principals: string[] };
      assert.deepEqual(principals, ['deploy:gh/acme/web']);
      fs.writeFileSync(`${job.file}-cert.pub`, `${certificate}\n`);

      const work = path.join(gitBase, 'clone');
      fs.mkdirSync(work);
      const cloned = await git(job.file, ['clone', '--quiet', `ssh://${gitUser.name}@127.0.0.1:${gitSshd.port}/acme/web.git`, 'work'], work);
      assert.equal(cloned.code, 0, `${cloned.stderr}\n${gitSshd.log().slice(-3000)}`);
      assert.equal(fs.readFileSync(path.join(work, 'work', 'README'), 'utf8'), 'acme/web\n');

      const headBefore = await must('/usr/bin/git', ['--git-dir', bare, 'rev-parse', 'refs/heads/main']);
      const checkout = path.join(work, 'work');
      fs.writeFileSync(path.join(checkout, 'from-runner'), 'x\n');
      assert.equal((await git(job.file, ['add', 'from-runner'], checkout)).code, 0);
      assert.equal((await git(job.file, ['commit', '--quiet', '-m', 'runner'], checkout)).code, 0);
      const pushed = await git(job.file, ['push', '--quiet', 'origin', 'HEAD:main'], checkout);
      assert.notEqual(pushed.code, 0);
      assert.match(pushed.stderr, /^This runner certificate of gh\/acme\/web can clone and fetch but never push; push with your own SSH key or certificate\.$/m);
      assert.equal(await must('/usr/bin/git', ['--git-dir', bare, 'rev-parse', 'refs/heads/main']), headBefore, 'the refused push changed nothing');

      // A read_write member's own certificate pushes, with their role.
      const member = await certifiedKey();
      const memberPush = await git(member.file, ['push', '--quiet', 'origin', 'HEAD:main'], checkout);
      assert.equal(memberPush.code, 0, `${memberPush.stderr}\n${gitSshd.log().slice(-3000)}`);
      assert.equal(await must('/usr/bin/git', ['--git-dir', bare, 'rev-parse', 'refs/heads/main']), await must('/usr/bin/git', ['-C', checkout, 'rev-parse', 'HEAD']));

      const events = (await app.request({ method: 'GET', url: '/v1/audit-events?action=ssh.access&per_page=100', headers: bearer(ownerKey) })).json() as Array<{ details: Record<string, unknown> }>;
      const mine = events.filter((e) => e.details.key === `cert-${serial}`).map((e) => ({ access: e.details.access, allowed: e.details.allowed }));
      assert.deepEqual(mine.reverse(), [
        { access: 'read', allowed: true },
        { access: 'write', allowed: false },
      ]);
    });

    test('ssh-setup --certificates keeps the key lookup and adds the CA lines, which sshd accepts', async () => {
      const dir = path.join(base, 'both');
      const out = await sshSetup(setupArgs('both', '--certificates', '--account', 'acme', '--krl'), base);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(
        out.stdout,
        [
          'Match all',
          `AuthorizedKeysCommand ${dir}/keysmith-authorized-keys %u %f`,
          `AuthorizedKeysCommandUser ${lookupUser.name}`,
          `TrustedUserCAKeys ${dir}/keysmith-ca.pub`,
          `AuthorizedPrincipalsCommand ${dir}/keysmith-authorized-principals %u %s %F`,
          `AuthorizedPrincipalsCommandUser ${lookupUser.name}`,
          `RevokedKeys ${dir}/keysmith-ca.krl`,
          '',
        ].join('\n'),
      );
      assert.deepEqual(fs.readdirSync(dir).sort(), ['cache', 'keysmith-authorized-keys', 'keysmith-authorized-principals', 'keysmith-ca.krl', 'keysmith-ca.pub']);
      const config = path.join(base, 'both_sshd_config');
      fs.writeFileSync(config, `HostKey ${path.join(base, 'host_ed25519')}\nUsePAM no\n${out.stdout}`);
      const check = await run('/usr/sbin/sshd', ['-t', '-f', config]);
      assert.equal(check.code, 0, check.stderr);
    });

    test('ssh-setup --certificates with Keysmith unreachable says so and writes nothing', async () => {
      const dir = path.join(base, 'unreachable');
      const url = `http://127.0.0.1:${await freePort()}`;
      const out = await sshSetup(['--mode', 'login', '--url', url, '--token-file', token, '--dir', dir, '--command-user', lookupUser.name, '--certificates', '--account', 'acme'], base);
      assert.equal(out.code, 1);
      assert.equal(out.stdout, '');
      assert.match(
        out.stderr,
        /^keysmith: Cannot fetch the SSH CA of acme with the key in .* from Keysmith at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\); check --url and that Keysmith is running\. Nothing was written\.\n$/,
      );
      assert.ok(!fs.existsSync(dir), 'nothing was written');

      const other = await sshSetup(['--mode', 'login', '--url', app.url, '--token-file', token, '--dir', dir, '--command-user', lookupUser.name, '--certificates', '--account', 'nosuchaccount'], base);
      assert.equal(other.code, 1);
      assert.match(other.stderr, /^keysmith: Keysmith answered HTTP (403|404) \([a-z_]+: [^\n]+\) when asked for the SSH CA of nosuchaccount/);
      assert.ok(!fs.existsSync(dir), 'nothing was written');
      const usage = await sshSetup(['--mode', 'login', '--url', app.url, '--token-file', token, '--dir', dir, '--command-user', lookupUser.name, '--certificates'], base);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /--certificates needs --account <account>/);
    });
  });
} else {
  test('sshd certificate tests', { skip }, () => {});
}
