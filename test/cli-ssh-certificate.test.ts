// `keysmith ssh-certificate` as a person runs it: a child process talking HTTP to a real listening
// Keysmith on SQLite and PostgreSQL, ssh-keygen -L as the oracle for the file it writes, and every
// refusal checked for its sentence, its exit code, an untouched directory and a token never shown.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { addUser, seed } from './factories.ts';
import { bearer, createTestApp, forEachDatabase, freePort, type TestApp } from './harness.ts';
import { BIN } from './cli-helpers.ts';
import { certificatePathFor, parseTtl } from '../src/cli/ssh-certificate.ts';
import { needsSshKeygen, run as runKeygen, SSH_KEYGEN } from './ssh-certificate/helpers.ts';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The command in a child process, without blocking this process, where the Keysmith under test answers. */
function keysmithAsync(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH!, HOME: os.tmpdir(), ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const status = (err as { code?: unknown } | null)?.code;
      resolve({ code: !err ? 0 : typeof status === 'number' ? status : null, stdout, stderr });
    }).stdin!.end();
  });
}

async function keyPair(dir: string, name = 'id_ed25519'): Promise<{ privateFile: string; publicFile: string; publicLine: string }> {
  const privateFile = path.join(dir, name);
  await runKeygen(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-C', 'laptop', '-f', privateFile]);
  return { privateFile, publicFile: `${privateFile}.pub`, publicLine: fs.readFileSync(`${privateFile}.pub`, 'utf8').trim() };
}

async function registerKey(app: TestApp, token: string, line: string): Promise<void> {
  const res = await app.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bearer(token), payload: { key: line } });
  assert.equal(res.statusCode, 201, res.body);
}

/** What ssh-keygen -L says about a certificate file, in UTC. */
async function keygenList(file: string): Promise<string> {
  const { stdout } = await runKeygen(SSH_KEYGEN, ['-L', '-f', file], { env: { ...process.env, TZ: 'UTC' } });
  return stdout;
}

function assertRefused(result: Run, dir: string, before: string[], token: string, pattern: RegExp, code = 1): void {
  assert.equal(result.code, code, `exit ${result.code}: ${result.stderr}${result.stdout}`);
  assert.match(result.stderr, pattern);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr.trim().split('\n')[0]!.startsWith('keysmith: '), true, result.stderr);
  assert.deepEqual(fs.readdirSync(dir).sort(), before, 'nothing is written when the command fails');
  assert.equal(result.stderr.includes(token), false, 'the token is never printed');
}

forEachDatabase('keysmith ssh-certificate', (kind) => {
  test('writes id_ed25519-cert.pub beside the key, 0644, that ssh-keygen reads with the principals, validity and key id', needsSshKeygen, async (t) => {
    const app = await createTestApp(kind, { listen: true });
    t.after(() => app.close());
    const alice = await seed(app);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-cert-cli-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const key = await keyPair(dir);
    await registerKey(app, alice.key, key.publicLine);

    const started = Date.now();
    const result = await keysmithAsync(['ssh-certificate', '--url', app.url, '--key', key.publicFile, '--ttl', '4h'], { KEYSMITH_TOKEN: alice.key, TZ: 'Asia/Kolkata' });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    const certFile = path.join(dir, 'id_ed25519-cert.pub');
    assert.equal(fs.statSync(certFile).mode & 0o777, 0o644);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['id_ed25519', 'id_ed25519-cert.pub', 'id_ed25519.pub'], 'no temporary file is left behind');

    const listed = await keygenList(certFile);
    assert.match(listed, /Type: ssh-ed25519-cert-v01@openssh\.com user certificate/);
    assert.match(listed, /Key ID: "user:alice"/);
    assert.match(listed, /Principals: \n\s+alice\n/);
    const validity = /Valid: from (\S+) to (\S+)/.exec(listed);
    assert.ok(validity, listed);
    const [from, to] = [Date.parse(`${validity[1]}Z`), Date.parse(`${validity[2]}Z`)];
    assert.equal(to - from, 4 * 3600_000 + 60_000, 'four hours from valid_after, which is 60 s in the past');

    // One line: the file, until when (local time with its offset, and UTC), the principals.
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines.length, 1, result.stdout);
    const iso = new Date(to).toISOString();
    assert.ok(lines[0]!.includes(certFile), lines[0]);
    assert.ok(lines[0]!.includes(iso), `${lines[0]} names ${iso}`);
    const local = new Date(to + 5.5 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
    assert.ok(lines[0]!.includes(`${local} +05:30`), `${lines[0]} names the local time ${local} +05:30`);
    assert.match(lines[0]!, /principals alice\.$/);
    assert.equal(result.stdout.includes(alice.key), false);
    assert.ok(to >= started + 4 * 3600_000 - 120_000);

    // Run again: the file is replaced by a newer certificate, a higher serial.
    const again = await keysmithAsync(['ssh-certificate', '--url', `${app.url}/`, '--key', key.publicFile, '--account', 'acme', '--ttl', '600'], { KEYSMITH_TOKEN: alice.key });
    assert.equal(again.code, 0, again.stderr);
    const relisted = await keygenList(certFile);
    const serial = (text: string) => Number(/Serial: (\d+)/.exec(text)![1]);
    assert.ok(serial(relisted) > serial(listed), `${serial(relisted)} after ${serial(listed)}`);
    const v2 = /Valid: from (\S+) to (\S+)/.exec(relisted)!;
    assert.equal(Date.parse(`${v2[2]}Z`) - Date.parse(`${v2[1]}Z`), 600_000 + 60_000);

    const own = await app.request({ method: 'GET', url: '/v1/user/ssh-certificates', headers: bearer(alice.key) });
    assert.deepEqual(
      (own.json() as { serial: number }[]).map((c) => c.serial),
      [serial(relisted), serial(listed)],
    );
  });

  test('refusals: a sentence on stderr, exit 1 (2 for usage), nothing written, the token never shown', needsSshKeygen, async (t) => {
    const app = await createTestApp(kind, { listen: true });
    t.after(() => app.close());
    const alice = await seed(app);
    const bob = await addUser(app, 'bob');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-cert-cli-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const key = await keyPair(dir);
    await registerKey(app, alice.key, key.publicLine);
    const unregistered = await keyPair(dir, 'id_other');
    fs.writeFileSync(path.join(dir, 'notes.pub'), 'remember the milk\n');
    fs.writeFileSync(path.join(dir, 'huge.pub'), `${key.publicLine} ${'x'.repeat(20_000)}\n`);
    const before = fs.readdirSync(dir).sort();
    const env = { KEYSMITH_TOKEN: alice.key };
    const args = (...extra: string[]) => ['ssh-certificate', '--url', app.url, ...extra];

    assertRefused(await keysmithAsync(args('--key', key.publicFile), {}), dir, before, alice.key, /KEYSMITH_TOKEN is not set/);
    assertRefused(await keysmithAsync(args('--key', path.join(dir, 'absent.pub')), env), dir, before, alice.key, /Cannot read .*absent\.pub: there is no such file/);
    assertRefused(await keysmithAsync(args('--key', dir), env), dir, before, alice.key, /it is a directory/);
    assertRefused(await keysmithAsync(args('--key', '/dev/zero'), env), dir, before, alice.key, /\/dev\/zero is not a regular file/);
    assertRefused(await keysmithAsync(args('--key', path.join(dir, 'huge.pub')), env), dir, before, alice.key, /too large to be an SSH public key/);
    assertRefused(await keysmithAsync(args('--key', path.join(dir, 'notes.pub')), env), dir, before, alice.key, /notes\.pub is not an SSH public key/);

    // The private half by mistake: refused without a byte of it on the screen.
    const privateText = fs.readFileSync(key.privateFile, 'utf8');
    const privateRun = await keysmithAsync(args('--key', key.privateFile), env);
    assertRefused(privateRun, dir, before, alice.key, /is not an SSH public key: .*private/i);
    const secretLine = privateText.split('\n')[1]!;
    assert.equal(privateRun.stderr.includes(secretLine.slice(0, 20)), false);

    // Keysmith's own refusals, with its sentence.
    assertRefused(await keysmithAsync(args('--key', unregistered.publicFile), env), dir, before, alice.key, /Keysmith refused \(4\d\d\): /);
    assertRefused(await keysmithAsync(args('--key', key.publicFile), { KEYSMITH_TOKEN: bob.key }), dir, before, bob.key, /Keysmith refused \(4\d\d\): /);
    const badToken = 'ksu_not_a_real_key_at_all_000000000000';
    assertRefused(await keysmithAsync(args('--key', key.publicFile), { KEYSMITH_TOKEN: badToken }), dir, before, badToken, /Keysmith refused \(401\): .*KEYSMITH_TOKEN/);
    assertRefused(await keysmithAsync(args('--key', key.publicFile, '--account', 'nosuch'), env), dir, before, alice.key, /Keysmith refused \(4\d\d\): /);
    assertRefused(await keysmithAsync(args('--key', key.publicFile, '--ttl', '30d'), env), dir, before, alice.key, /Keysmith refused \(400\): ttl_seconds must be/);

    // A token that cannot go into a header is refused before any request, without being echoed.
    const spaced = 'ksu_abc def';
    assertRefused(await keysmithAsync(args('--key', key.publicFile), { KEYSMITH_TOKEN: spaced }), dir, before, spaced, /KEYSMITH_TOKEN does not hold an API key/);

    // Keysmith down, or not Keysmith at all.
    const down = `http://127.0.0.1:${await freePort()}`;
    assertRefused(
      await keysmithAsync(['ssh-certificate', '--url', down, '--key', key.publicFile], env),
      dir,
      before,
      alice.key,
      /Cannot reach Keysmith at http:\/\/127\.0\.0\.1:\d+: nothing is listening there/,
    );
    assertRefused(await keysmithAsync(['ssh-certificate', '--url', `${app.url}/nothing-here`, '--key', key.publicFile], env), dir, before, alice.key, /answered 404|Keysmith refused \(404\)/);

    // A redirect is not followed, so the token does not go with it.
    let redirectedAuth: string | undefined;
    const redirector = http.createServer((req, res) => {
      redirectedAuth = req.headers.authorization;
      res.writeHead(301, { location: 'https://elsewhere.example/v1/user/ssh-certificates' }).end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => redirector.close(resolve)));
    const redirectUrl = `http://127.0.0.1:${(redirector.address() as { port: number }).port}`;
    assertRefused(
      await keysmithAsync(['ssh-certificate', '--url', redirectUrl, '--key', key.publicFile], env),
      dir,
      before,
      alice.key,
      /answered 301, a redirect to https:\/\/elsewhere\.example\/.*not followed/,
    );
    assert.equal(redirectedAuth, `Bearer ${alice.key}`, 'the request reached the redirecting server, and went no further');

    // Usage errors: exit 2.
    assertRefused(await keysmithAsync(['ssh-certificate', '--key', key.publicFile], env), dir, before, alice.key, /ssh-certificate needs --url/, 2);
    assertRefused(await keysmithAsync(args('--key', key.publicFile, '--ttl', 'soon'), env), dir, before, alice.key, /--ttl takes a duration/, 2);

    const own = await app.request({ method: 'GET', url: '/v1/user/ssh-certificates', headers: bearer(alice.key) });
    assert.deepEqual(own.json(), [], 'no certificate was issued by any refused run');
  });
});

test('--ttl durations and where the certificate goes', () => {
  assert.equal(parseTtl('4h'), 4 * 3600);
  assert.equal(parseTtl('90m'), 90 * 60);
  assert.equal(parseTtl('30s'), 30);
  assert.equal(parseTtl('1d'), 86_400);
  assert.equal(parseTtl('3600'), 3600);
  for (const bad of ['', '0', '0h', '-1', '1.5h', '1e3', '4 h', '4H', 'h', '4hours', '__proto__', 'constructor', '99999999']) assert.equal(parseTtl(bad), undefined, bad);
  assert.equal(certificatePathFor('/home/a/.ssh/id_ed25519.pub'), '/home/a/.ssh/id_ed25519-cert.pub');
  assert.equal(certificatePathFor('/home/a/.ssh/id_ecdsa'), '/home/a/.ssh/id_ecdsa-cert.pub');
  assert.equal(certificatePathFor('/keys/work.pub.pub'), '/keys/work.pub-cert.pub');
});
