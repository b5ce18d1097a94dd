// keysmith-authorized-principals, run by sh as sshd runs it (`<helper> %u %s %F`, an empty environment),
// without sshd:
// - against a real Keysmith (SQLite) it prints the certificate's principal line in login mode and the
//   forced-command line in git mode, and nothing (exit 0) for a revoked certificate or another user;
// - hostile %u, %s and %F are refused before any request reaches Keysmith;
// - it fails closed — no principal, one line on stderr, a non-zero exit — when Keysmith is down, answers
//   an error, or answers something of another shape than the two it sends (served here by a stand-in
//   HTTP server, since the real Keysmith never sends them).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { renderAuthorizedPrincipalsHelper } from '../../src/cli/ssh-setup.ts';
import { addServiceKey, seed } from '../factories.ts';
import { bearer, createTestApp, freePort, type TestApp } from '../harness.ts';
import { helpersUnavailable, run, type Run } from './sshd.ts';

const skip = helpersUnavailable('principals helper tests');
const FORCED = '/usr/local/libexec/keysmith/keysmith-git-serve';
const CA = `SHA256:${'A'.repeat(43)}`;

let dirs: string[] = [];

/** The helper as ssh-setup renders it, pointing at `url`, with `key` in its token file. */
function install(url: string, key: string, mode: 'login' | 'git' = 'login'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-principals-'));
  dirs.push(dir);
  const tokenFile = path.join(dir, 'token');
  fs.writeFileSync(tokenFile, `${key}\n`, { mode: 0o600 });
  const helper = path.join(dir, 'keysmith-authorized-principals');
  fs.writeFileSync(helper, renderAuthorizedPrincipalsHelper({ url, tokenFile, mode, forcedCommand: FORCED }), { mode: 0o755 });
  return helper;
}

const principals = (helper: string, args: string[]) => run(helper, args, { env: {}, cwd: path.dirname(helper) });

/** Refused: nothing on stdout, exactly one line on stderr matching `message`, a non-zero exit. */
function refused(result: Run, message: RegExp) {
  assert.equal(result.stdout, '', 'no principal is printed');
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /^keysmith-authorized-principals: [^\n]+\n$/, `one line on stderr: ${JSON.stringify(result.stderr)}`);
  assert.match(result.stderr, message);
}

const requestsTo = (app: TestApp, route: string) => app.logs.filter((line) => line.includes('"incoming request"') && line.includes(`"url":"${route}`)).length;

after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

describe('keysmith-authorized-principals against Keysmith', { skip }, () => {
  let app: TestApp;
  let ownerKey: string;
  let sshServer: string;
  let serial: number;
  let ca: string;

  before(async () => {
    app = await createTestApp('sqlite', { listen: true });
    const alice = await seed(app);
    ownerKey = alice.key;
    sshServer = (await addServiceKey(app, alice.key, 'acme', 'ssh_server')).key;
    const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-principals-key-'));
    dirs.push(keyDir);
    await run('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(keyDir, 'id')]);
    const publicKey = fs.readFileSync(path.join(keyDir, 'id.pub'), 'utf8').trim();
    const added = await app.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bearer(ownerKey), payload: { title: 'laptop', key: publicKey } });
    assert.equal(added.statusCode, 201, added.body);
    const issued = await app.request({ method: 'POST', url: '/v1/user/ssh-certificates', headers: bearer(ownerKey), payload: { public_key: publicKey, account: 'acme' } });
    assert.equal(issued.statusCode, 201, issued.body);
    serial = (issued.json() as { serial: number }).serial;
    const keys = await app.request({ method: 'GET', url: '/v1/accounts/acme/ssh-ca', headers: bearer(ownerKey) });
    ca = (keys.json() as { keys: Array<{ fingerprint_sha256: string }> }).keys[0]!.fingerprint_sha256;
  });
  after(async () => {
    await app.close();
  });

  test('login mode: the principal line of a good certificate; nothing, exit 0, for another user', async () => {
    const helper = install(app.url, sshServer);
    const good = await principals(helper, ['alice', String(serial), ca]);
    assert.deepEqual(good, { code: 0, stdout: 'alice\n', stderr: '' });
    const other = await principals(helper, ['bob', String(serial), ca]);
    assert.deepEqual(other, { code: 0, stdout: '', stderr: '' });
    const unknown = await principals(helper, ['alice', String(serial + 1000), ca]);
    assert.deepEqual(unknown, { code: 0, stdout: '', stderr: '' });
  });

  test('git mode: the forced command of this very certificate before its principal', async () => {
    const helper = install(app.url, sshServer, 'git');
    const good = await principals(helper, ['git', String(serial), ca]);
    assert.deepEqual(good, { code: 0, stdout: `restrict,command="${FORCED} cert-${serial}" alice\n`, stderr: '' });
  });

  test('hostile %u, %s and %F are refused before Keysmith is asked', async () => {
    const helper = install(app.url, sshServer);
    const before = requestsTo(app, '/v1/ssh/authorized-principals');
    const badSerial = /the certificate serial is not one Keysmith issues/;
    for (const hostile of ['', '0', '007', '-1', '1 2', '1;id', '$(id)', '`id`', '1\n2', '12345678901234567', 'ffff']) {
      refused(await principals(helper, ['alice', hostile, ca]), badSerial);
    }
    for (const [hostile, message] of [
      ['', /not a SHA256 one/],
      ['MD5:00:11:22', /not a SHA256 one/],
      [`sha256:${'A'.repeat(43)}`, /not a SHA256 one/],
      [`SHA256:${'A'.repeat(42)}`, /not 43 base64 characters/],
      [`SHA256:${'A'.repeat(44)}`, /not 43 base64 characters/],
      [`SHA256:${'A'.repeat(42)}$`, /other than base64/],
      [`SHA256:${'A'.repeat(40)}&x=`, /other than base64/],
      [`SHA256:${'A'.repeat(42)}\n`, /other than base64/],
    ] as const) {
      refused(await principals(helper, ['alice', String(serial), hostile]), message);
    }
    for (const hostile of ['', 'alice bob', 'alice&mode=git', 'al\nice', "al'ice", '$(id)']) {
      refused(await principals(helper, [hostile, String(serial), ca]), /the user name is empty or holds a character/);
    }
    refused(await principals(helper, ['alice', String(serial)]), /expected three arguments \(sshd's %u %s %F\), got 2/);
    refused(await principals(helper, ['alice', String(serial), ca, 'extra']), /expected three arguments/);
    assert.equal(requestsTo(app, '/v1/ssh/authorized-principals'), before, 'no hostile call reached Keysmith');

    // A name that is hostile only to a lookup table reaches Keysmith and matches nobody.
    assert.deepEqual(await principals(helper, ['__proto__', String(serial), ca]), { code: 0, stdout: '', stderr: '' });
    assert.deepEqual(await principals(helper, ['constructor', String(serial), ca]), { code: 0, stdout: '', stderr: '' });
  });

  test('a revoked certificate: nothing, exit 0', async () => {
    const helper = install(app.url, sshServer);
    const revoked = await app.request({ method: 'DELETE', url: `/v1/accounts/acme/ssh-certificates/${serial}`, headers: bearer(ownerKey) });
    assert.equal(revoked.statusCode, 204, revoked.body);
    assert.deepEqual(await principals(helper, ['alice', String(serial), ca]), { code: 0, stdout: '', stderr: '' });
  });

  test('fails closed: a key of another role, a token file without a service key, Keysmith down', async () => {
    const runner = (await addServiceKey(app, ownerKey, 'acme', 'runner')).key;
    refused(
      await principals(install(app.url, runner), ['alice', '1', CA]),
      /^keysmith-authorized-principals: Keysmith answered HTTP 403 \(role_required\) to the certificate check; no principal offered\n$/,
    );
    refused(await principals(install(app.url, 'ksu_notaservicekey'), ['alice', '1', CA]), /does not hold a Keysmith service key \(kss_\.\.\.\)/);
    const unreadable = install(app.url, sshServer);
    fs.rmSync(path.join(path.dirname(unreadable), 'token'));
    refused(await principals(unreadable, ['alice', '1', CA]), /cannot read the ssh_server key in .*\/token/);
    const down = `http://127.0.0.1:${await freePort()}`;
    refused(
      await principals(install(down, sshServer), ['alice', '1', CA]),
      /^keysmith-authorized-principals: cannot connect to Keysmith at http:\/\/127\.0\.0\.1:\d+ \(curl exit 7\); no principal offered\n$/,
    );
  });
});

describe('keysmith-authorized-principals refuses an answer of any other shape', { skip }, () => {
  // A stand-in for a Keysmith gone wrong (or a server that is not Keysmith): it answers `answer`.
  let answer: { status: number; body: string } = { status: 200, body: '' };
  let server: http.Server;
  let url: string;
  const key = 'kss_0123456789abcdefghijklmnopqrstuvwxyzABCD';

  before(async () => {
    server = http.createServer((_request, response) => {
      response.writeHead(answer.status, { 'content-type': 'text/plain' });
      response.end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const ask = async (mode: 'login' | 'git', body: string, status = 200) => {
    answer = { status, body };
    return principals(install(url, key, mode), ['git', '42', CA]);
  };

  test('login mode: exactly one bare principal line', async () => {
    assert.deepEqual(await ask('login', 'alice\n'), { code: 0, stdout: 'alice\n', stderr: '' }, 'the good shape passes');
    assert.deepEqual(await ask('login', ''), { code: 0, stdout: '', stderr: '' }, 'an empty body is no principal');
    const notOne = /is not one principal \(letters, digits and \._-, no spaces or options\); no principal offered/;
    for (const body of ['alice bob\n', 'command="/bin/sh" alice\n', 'restrict alice\n', '\n', 'al\tice\n', 'alice,bob\n', 'ali"ce\n']) refused(await ask('login', body), notOne);
    refused(await ask('login', 'alice\nbob\n'), /more than one line/);
    refused(await ask('login', 'alice\n\n'), /more than one line/);
    refused(await ask('login', 'alice'), /did not end in a newline/);
  });

  test('git mode: exactly restrict,command="<forced command> cert-<the serial asked>" <principal>', async () => {
    const good = `restrict,command="${FORCED} cert-42" deploy:gh/acme/web\n`;
    assert.deepEqual(await ask('git', good), { code: 0, stdout: good, stderr: '' }, 'the good shape passes');
    const wrongShape = new RegExp(`is not restrict,command="${FORCED} cert-42" <principal>; no principal offered`);
    for (const body of [
      'alice\n',
      `restrict,command="${FORCED} cert-43" alice\n`,
      `restrict,command="${FORCED} cert-4" alice\n`,
      `restrict,command="${FORCED} key-42" alice\n`,
      `restrict,command="/bin/sh cert-42" alice\n`,
      `command="${FORCED} cert-42" alice\n`,
      `restrict,pty,command="${FORCED} cert-42" alice\n`,
    ]) {
      refused(await ask('git', body), wrongShape);
    }
    const badPrincipal = /the principal in Keysmith's answer is empty or holds a character/;
    for (const body of [
      `restrict,command="${FORCED} cert-42" \n`,
      `restrict,command="${FORCED} cert-42"  alice\n`,
      `restrict,command="${FORCED} cert-42" alice bob\n`,
      `restrict,command="${FORCED} cert-42" al"ice\n`,
    ]) {
      refused(await ask('git', body), badPrincipal);
    }
  });

  test('an error status is refused with its code', async () => {
    refused(
      await ask('login', '{"error":{"code":"internal","message":"boom"}}', 500),
      /^keysmith-authorized-principals: Keysmith answered HTTP 500 \(internal\) to the certificate check; no principal offered\n$/,
    );
    refused(await ask('git', 'alice\n', 302), /Keysmith answered HTTP 302 to the certificate check/);
  });
});
