// Login mode with the real thing: OpenSSH's sshd, configured with `keysmith ssh-setup --mode login`'s
// own output, asks a listening Keysmith who may log in; the real ssh client logs in as Unix users
// whose names are Keysmith logins. On SQLite and on PostgreSQL.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { keysmith } from '../cli-helpers.ts';
import { addServiceKey, addUser, seed } from '../factories.ts';
import { bearer, createTestApp, forEachDatabase, type TestApp } from '../harness.ts';
import { addUnixUser, clientKey, removeUnixUser, rootOwnedDir, ssh, sshdUnavailable, startSshd, tokenFile, type Sshd, type UnixUser } from './sshd.ts';

const skip = sshdUnavailable('sshd login-mode tests');
const REFUSED = /Permission denied \(publickey\)/;

interface Member {
  unix: UnixUser;
  apiKey: string;
  keyFile: string;
  keyId: number;
}

if (!skip) {
  forEachDatabase('sshd in login mode asks Keysmith', (kind) => {
    let app: TestApp;
    let appClosed = false;
    let base: string;
    let sshd: Sshd;
    let ownerKey: string;
    const users: UnixUser[] = [];
    const members = new Map<string, Member>();

    /** A Unix user, the Keysmith user of the same login (a read_only member of acme), and their key in Keysmith. */
    async function member(label: string): Promise<Member> {
      const unix = await addUnixUser('ks', path.join(base, 'home', label));
      users.push(unix);
      const user = await addUser(app, unix.name, { account: 'acme', role: 'read_only', by: ownerKey });
      const key = await clientKey(base, `${label}_key`);
      const added = await app.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bearer(user.key), payload: { title: label, key: key.publicLine } });
      assert.equal(added.statusCode, 201, added.body);
      const m = { unix, apiKey: user.key, keyFile: key.file, keyId: (added.json() as { id: number }).id };
      members.set(label, m);
      return m;
    }

    before(async () => {
      app = await createTestApp(kind, { listen: true });
      const alice = await seed(app);
      ownerKey = alice.key;
      base = rootOwnedDir();
      fs.mkdirSync(path.join(base, 'home'), { mode: 0o755 });
      const lookupUser = await addUnixUser('kslk', path.join(base, 'home', 'lookup'), '/usr/sbin/nologin');
      users.push(lookupUser);
      const token = tokenFile(base, (await addServiceKey(app, alice.key, 'acme', 'ssh_server')).key, lookupUser);
      const setup = keysmith(['ssh-setup', '--mode', 'login', '--url', app.url, '--token-file', token, '--dir', path.join(base, 'bin'), '--command-user', lookupUser.name], {}, base);
      assert.equal(setup.code, 0, setup.stderr);
      sshd = await startSshd(base, setup.stdout);
      await member('bob');
      await member('carol');
      await member('dave');
    });

    after(async () => {
      await sshd?.stop();
      for (const user of users) await removeUnixUser(user);
      if (!appClosed) await app?.close();
      if (base) fs.rmSync(base, { recursive: true, force: true });
    });

    test('a member logs in as their own login with their Keysmith key, and the key shows last_used_at', async () => {
      const bob = members.get('bob')!;
      const keyOf = async () => (await app.request({ method: 'GET', url: `/v1/user/ssh-keys/${bob.keyId}`, headers: bearer(bob.apiKey) })).json() as { last_used_at: string | null };
      assert.equal((await keyOf()).last_used_at, null, 'never used yet');
      const login = await ssh(sshd, bob.keyFile, bob.unix.name, ['id', '-un']);
      assert.equal(login.code, 0, `${login.stderr}\n${sshd.log()}`);
      assert.equal(login.stdout, `${bob.unix.name}\n`);
      assert.match(String((await keyOf()).last_used_at), /^\d{4}-\d\d-\d\dT/);
    });

    test('an unknown key is refused, and a member key does not open another member login', async () => {
      const stranger = await clientKey(base, 'stranger_key');
      const unknown = await ssh(sshd, stranger.file, members.get('bob')!.unix.name);
      assert.equal(unknown.code, 255);
      assert.match(unknown.stderr, REFUSED);
      const wrongLogin = await ssh(sshd, members.get('bob')!.keyFile, members.get('carol')!.unix.name);
      assert.equal(wrongLogin.code, 255);
      assert.match(wrongLogin.stderr, REFUSED);
    });

    test('a member removed from the account is refused on the next attempt', async () => {
      const carol = members.get('carol')!;
      assert.equal((await ssh(sshd, carol.keyFile, carol.unix.name)).code, 0, 'carol logs in while a member');
      const removed = await app.request({ method: 'DELETE', url: `/v1/accounts/acme/members/${carol.unix.name}`, headers: bearer(ownerKey) });
      assert.equal(removed.statusCode, 204, removed.body);
      const next = await ssh(sshd, carol.keyFile, carol.unix.name);
      assert.equal(next.code, 255);
      assert.match(next.stderr, REFUSED);
    });

    test('a deleted key is refused on the next attempt', async () => {
      const dave = members.get('dave')!;
      assert.equal((await ssh(sshd, dave.keyFile, dave.unix.name)).code, 0, 'dave logs in with the key');
      const deleted = await app.request({ method: 'DELETE', url: `/v1/user/ssh-keys/${dave.keyId}`, headers: bearer(dave.apiKey) });
      assert.equal(deleted.statusCode, 204, deleted.body);
      const next = await ssh(sshd, dave.keyFile, dave.unix.name);
      assert.equal(next.code, 255);
      assert.match(next.stderr, REFUSED);
    });

    test('Keysmith stopped: nobody logs in, and sshd logs the helper line saying why', async () => {
      const bob = members.get('bob')!;
      assert.equal((await ssh(sshd, bob.keyFile, bob.unix.name)).code, 0, 'bob logs in while Keysmith runs');
      await app.close();
      appClosed = true;
      const next = await ssh(sshd, bob.keyFile, bob.unix.name);
      assert.equal(next.code, 255);
      assert.match(next.stderr, REFUSED);
      assert.match(sshd.log(), /keysmith-authorized-keys: cannot connect to Keysmith at http:\/\/127\.0\.0\.1:\d+ \(curl exit 7\); no key offered/);
    });
  });
} else {
  test('sshd login-mode tests', { skip }, () => {});
}
