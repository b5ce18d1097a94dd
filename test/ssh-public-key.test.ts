// ssh-keygen is the oracle: every key it makes here must parse with its type, size and fingerprints,
// and no key we accept may be one ssh-keygen rejects or fingerprints differently.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createECDH, ECDH, generateKeyPairSync, randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect, promisify } from 'node:util';
import fc from 'fast-check';
import {
  ACCEPTED_KEY_TYPES,
  fingerprintMd5,
  fingerprintSha256,
  parseSshPublicKey,
  SshKeyError,
  type ParsedSshKey,
  type SshKeyErrorCode,
} from '../src/crypto/ssh-public-key.ts';
import { checkEcPoint, decodeCanonicalBase64, positiveMpintBits, type NistCurve } from '../src/crypto/ssh-wire.ts';

const run = promisify(execFile);
const SSH_KEYGEN = 'ssh-keygen';
const hasSshKeygen = spawnSync(SSH_KEYGEN, ['-?']).error === undefined;
const needsSshKeygen = hasSshKeygen ? {} : { skip: 'ssh-keygen is not installed' };
const SK_FIXTURE = new URL('./fixtures/ssh/sk-keys.txt', import.meta.url);

// --- helpers ------------------------------------------------------------------------------------

function sshString(value: string | Uint8Array): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : Buffer.from(value);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function blobOf(...fields: (string | Uint8Array)[]): Buffer {
  return Buffer.concat(fields.map(sshString));
}

function mpint(unsigned: Uint8Array): Buffer {
  let start = 0;
  while (start < unsigned.length - 1 && unsigned[start] === 0) start++;
  const bytes = Buffer.from(unsigned.subarray(start));
  return (bytes[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.alloc(1), bytes]) : bytes;
}

function lineOf(type: string, blob: Uint8Array, comment?: string): string {
  return `${type} ${Buffer.from(blob).toString('base64')}${comment === undefined ? '' : ` ${comment}`}`;
}

function rsaBlob(bits: number): Buffer {
  const jwk = generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ format: 'jwk' });
  return blobOf('ssh-rsa', mpint(Buffer.from(jwk.e!, 'base64url')), mpint(Buffer.from(jwk.n!, 'base64url')));
}

interface KeygenLine {
  bits: number;
  fingerprint: string;
  comment: string;
  label: string;
}

const KEYGEN_LINE = /^(\d+) ((?:SHA256|MD5):\S+) (.*) \(([A-Z0-9-]+)\)$/s;

async function keygenFingerprints(file: string, hash: 'sha256' | 'md5'): Promise<KeygenLine[]> {
  const { stdout } = await run(SSH_KEYGEN, ['-l', '-E', hash, '-f', file]);
  return stdout
    .split('\n')
    .map((l) => KEYGEN_LINE.exec(l))
    .filter((m) => m !== null)
    .map((m) => ({ bits: Number(m[1]), fingerprint: m[2]!, comment: m[3]!, label: m[4]! }));
}

/** ssh-keygen -l on one line, or null when ssh-keygen refuses it. */
async function keygenOne(dir: string, line: string): Promise<KeygenLine | null> {
  const file = join(dir, `one-${process.hrtime.bigint()}.pub`);
  await writeFile(file, `${line}\n`);
  try {
    const lines = await keygenFingerprints(file, 'sha256');
    return lines[0] ?? null;
  } catch {
    return null;
  } finally {
    await rm(file, { force: true });
  }
}

function refusal(input: string): SshKeyError {
  try {
    parseSshPublicKey(input);
  } catch (error) {
    if (error instanceof SshKeyError) return error;
    throw error;
  }
  assert.fail('expected the input to be refused');
}

const OUR_TYPE_NAMES = new Set<string>([...ACCEPTED_KEY_TYPES, 'ssh-dss']);

/** Refused with `code`, in one sentence, without any of the input in anything the error carries. */
function assertRefused(input: string, code: SshKeyErrorCode, secrets: string[] = []): SshKeyError {
  const error = refusal(input);
  assert.equal(error.code, code, `got ${error.code}: ${error.message}`);
  assert.match(error.message, /^[A-Z][^\n]*\.$/, 'one sentence');
  assert.doesNotMatch(error.message, /[.;]\s+[A-Z][a-z]+ /, 'no second sentence');
  const everything = inspect(error, { showHidden: true, depth: 10 }) + JSON.stringify(error);
  const trimmed = input.trim();
  if (trimmed.length > 0 && !OUR_TYPE_NAMES.has(trimmed)) assert.ok(!everything.includes(trimmed), 'echoes the input');
  for (const token of input.split(/\s+/)) {
    if (token.length >= 12 && !OUR_TYPE_NAMES.has(token)) {
      assert.ok(!everything.includes(token), `echoes part of the input: ${token.slice(0, 20)}…`);
    }
  }
  for (const secret of secrets) assert.ok(!everything.includes(secret), `echoes a secret line: ${secret.slice(0, 20)}…`);
  return error;
}

// --- keys made by ssh-keygen --------------------------------------------------------------------

interface Generated {
  name: string;
  type: string;
  bits: number;
  line: string;
  privateKey: string;
  file: string;
}

const GENERATE = [
  { name: 'ed25519', args: ['-t', 'ed25519'], type: 'ssh-ed25519', bits: 256 },
  { name: 'ecdsa256', args: ['-t', 'ecdsa', '-b', '256'], type: 'ecdsa-sha2-nistp256', bits: 256 },
  { name: 'ecdsa384', args: ['-t', 'ecdsa', '-b', '384'], type: 'ecdsa-sha2-nistp384', bits: 384 },
  { name: 'ecdsa521', args: ['-t', 'ecdsa', '-b', '521'], type: 'ecdsa-sha2-nistp521', bits: 521 },
  { name: 'rsa2048', args: ['-t', 'rsa', '-b', '2048'], type: 'ssh-rsa', bits: 2048 },
  { name: 'rsa3072', args: ['-t', 'rsa', '-b', '3072'], type: 'ssh-rsa', bits: 3072 },
  { name: 'rsa4096', args: ['-t', 'rsa', '-b', '4096'], type: 'ssh-rsa', bits: 4096 },
] as const;

let dir = '';
const keys = new Map<string, Generated>();
/** Lines refused for their type or size: from ssh-keygen when it still makes them, else crafted. */
let rsa1024Line = '';
let dssLine = '';
let dssFromKeygen = false;
const privateKeys: { label: string; text: string }[] = [];
let skLines: string[] = [];

async function keygen(name: string, args: readonly string[]): Promise<Generated | null> {
  const file = join(dir, name);
  try {
    await run(SSH_KEYGEN, ['-q', ...args, '-N', '', '-C', `${name}@keysmith-test`, '-f', file]);
  } catch {
    return null;
  }
  const [line, privateKey] = await Promise.all([readFile(`${file}.pub`, 'utf8'), readFile(file, 'utf8')]);
  return { name, type: '', bits: 0, line, privateKey, file };
}

/** Rewrites a copy of a private key in another format (-m PEM / PKCS8), as people find them on disk. */
async function reformatPrivate(source: string, format: 'PEM' | 'PKCS8'): Promise<string> {
  const copy = `${source}-${format}`;
  await copyFile(source, copy);
  await run(SSH_KEYGEN, ['-q', '-p', '-m', format, '-P', '', '-N', '', '-f', copy]);
  return readFile(copy, 'utf8');
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keysmith-ssh-'));
  const fixture = await readFile(SK_FIXTURE, 'utf8');
  skLines = fixture.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  if (!hasSshKeygen) return;

  const [made, rsa1024, dss] = await Promise.all([
    Promise.all(GENERATE.map((g) => keygen(g.name, g.args))),
    keygen('rsa1024', ['-t', 'rsa', '-b', '1024']),
    keygen('dsa', ['-t', 'dsa']),
  ]);
  GENERATE.forEach((g, i) => {
    const key = made[i];
    assert.ok(key, `ssh-keygen could not make a ${g.name} key`);
    keys.set(g.name, { ...key, type: g.type, bits: g.bits });
  });
  dssFromKeygen = dss !== null;
  rsa1024Line = rsa1024?.line ?? lineOf('ssh-rsa', rsaBlob(1024), 'crafted-rsa1024');
  dssLine =
    dss?.line ??
    lineOf('ssh-dss', blobOf('ssh-dss', mpint(randomBytes(128)), mpint(randomBytes(20)), mpint(randomBytes(128)), mpint(randomBytes(128))));

  const rsaSource = rsa1024 ?? keys.get('rsa2048')!;
  const ecdsaSource = keys.get('ecdsa256')!;
  const [rsaPem, pkcs8, ecPem] = await Promise.all([
    reformatPrivate(rsaSource.file, 'PEM'),
    reformatPrivate(rsaSource.file, 'PKCS8'),
    reformatPrivate(ecdsaSource.file, 'PEM'),
  ]);
  const dsaPem = dss
    ? await reformatPrivate(dss.file, 'PEM')
    : pkcs8.replaceAll('PRIVATE KEY', 'DSA PRIVATE KEY');
  const encrypted = generateKeyPairSync('ed25519').privateKey.export({
    format: 'pem',
    type: 'pkcs8',
    cipher: 'aes-256-cbc',
    passphrase: 'correct horse',
  }) as string;
  const ed = keys.get('ed25519')!;
  const putty = [
    'PuTTY-User-Key-File-3: ssh-ed25519',
    'Encryption: none',
    'Comment: ed25519@keysmith-test',
    'Public-Lines: 2',
    ed.line.split(' ')[1]!.slice(0, 64),
    ed.line.split(' ')[1]!.slice(64),
    'Private-Lines: 1',
    randomBytes(36).toString('base64'),
    `Private-MAC: ${randomBytes(32).toString('hex')}`,
  ].join('\n');
  privateKeys.push(
    { label: 'OPENSSH', text: ed.privateKey },
    { label: 'RSA (PEM)', text: rsaPem },
    { label: 'PKCS#8', text: pkcs8 },
    { label: 'EC (PEM)', text: ecPem },
    { label: 'DSA (PEM)', text: dsaPem },
    { label: 'encrypted PKCS#8', text: encrypted },
    { label: 'PuTTY', text: putty },
  );
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

// --- agreement with ssh-keygen ------------------------------------------------------------------

test('every key ssh-keygen makes parses with its type, size and fingerprints', needsSshKeygen, async () => {
  for (const key of keys.values()) {
    const [sha, md5] = await Promise.all([
      keygenFingerprints(`${key.file}.pub`, 'sha256'),
      keygenFingerprints(`${key.file}.pub`, 'md5'),
    ]);
    const parsed = parseSshPublicKey(key.line);
    assert.equal(parsed.type, key.type);
    assert.equal(parsed.bits, key.bits);
    assert.equal(parsed.bits, sha[0]!.bits, `${key.name}: size`);
    assert.equal(parsed.fingerprintSha256, sha[0]!.fingerprint, `${key.name}: SHA256`);
    assert.equal(`MD5:${parsed.fingerprintMd5}`, md5[0]!.fingerprint, `${key.name}: MD5`);
    assert.equal(parsed.comment, sha[0]!.comment);
    assert.equal(parsed.key, key.line.trim().split(' ').slice(0, 2).join(' '));
    assert.deepEqual(parsed.blob, Buffer.from(key.line.split(' ')[1]!, 'base64'));
  }
});

test('security-key fixtures agree with ssh-keygen and with the values recorded in the fixture', async (t) => {
  const fixture = await readFile(SK_FIXTURE, 'utf8');
  const parsed = skLines.map((l) => parseSshPublicKey(l));
  assert.deepEqual(parsed.map((k) => k.type).sort(), ['sk-ecdsa-sha2-nistp256@openssh.com', 'sk-ssh-ed25519@openssh.com']);
  for (const key of parsed) {
    assert.equal(key.bits, 256);
    assert.ok(fixture.includes(`256 ${key.fingerprintSha256} ${key.comment} (`), `recorded SHA256 for ${key.comment}`);
    assert.ok(fixture.includes(`256 MD5:${key.fingerprintMd5} ${key.comment} (`), `recorded MD5 for ${key.comment}`);
  }
  if (!hasSshKeygen) return t.skip('ssh-keygen is not installed');
  const path = join(dir, 'sk.pub');
  await writeFile(path, fixture);
  const [sha, md5] = await Promise.all([keygenFingerprints(path, 'sha256'), keygenFingerprints(path, 'md5')]);
  assert.equal(sha.length, parsed.length);
  for (const key of parsed) {
    const s = sha.find((l) => l.comment === key.comment);
    const m = md5.find((l) => l.comment === key.comment);
    assert.equal(s?.bits, key.bits);
    assert.equal(s?.fingerprint, key.fingerprintSha256);
    assert.equal(m?.fingerprint, `MD5:${key.fingerprintMd5}`);
    assert.equal(s?.label, key.type === 'sk-ssh-ed25519@openssh.com' ? 'ED25519-SK' : 'ECDSA-SK');
  }
});

test('ssh-keygen reads the keys we refuse as weak or of a refused type', needsSshKeygen, async () => {
  assert.equal((await keygenOne(dir, rsa1024Line))?.bits, 1024);
  // A crafted ssh-dss line stands in when this ssh-keygen was built without DSA; it could not read it.
  if (dssFromKeygen) assert.equal((await keygenOne(dir, dssLine))?.bits, 1024);
  const weak = assertRefused(rsa1024Line, 'key_too_weak');
  assert.match(weak.message, /1024 bits/);
  assert.match(weak.message, /2048/);
  const dss = assertRefused(dssLine, 'key_type_refused');
  assert.match(dss.message, /1024 bits/);
  assert.match(dss.message, /ssh-keygen -t ed25519/);
});

test('on-curve points OpenSSH refuses (x at or above order - 1, or tiny x) are refused like ssh-keygen does', needsSshKeygen, async () => {
  const { p, b } = CURVES.nistp256;
  const order = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
  for (const start of [order - 1n, 1n]) {
    const point = pointAtOrAfter(start, p, b);
    const line = lineOf('ecdsa-sha2-nistp256', blobOf('ecdsa-sha2-nistp256', 'nistp256', point), 'edge');
    assert.doesNotThrow(() => ECDH.convertKey(point, 'prime256v1'), 'the point is on the curve');
    assertRefused(line, 'key_malformed');
    assert.equal(await keygenOne(dir, line), null, 'ssh-keygen refuses it too');
  }
});

// --- accepted spellings -------------------------------------------------------------------------

test('surrounding whitespace, a trailing newline, tabs and comments with spaces are fine', needsSshKeygen, () => {
  const key = keys.get('ed25519')!;
  const [type, base64] = key.line.trim().split(' ') as [string, string];
  const canonical = `${type} ${base64}`;
  const cases: [string, string | null][] = [
    [`${canonical}\n`, null],
    [`${canonical}\r\n`, null],
    [`  ${canonical}  `, null],
    [`${type}\t${base64}\tlaptop key`, 'laptop key'],
    [`${canonical} José's  laptop`, "José's  laptop"],
  ];
  for (const [input, comment] of cases) {
    const parsed = parseSshPublicKey(input);
    assert.equal(parsed.key, canonical);
    assert.equal(parsed.comment, comment);
  }
});

test('fingerprint helpers match the parsed key and the documented formats', needsSshKeygen, () => {
  const parsed = parseSshPublicKey(keys.get('rsa2048')!.line);
  assert.equal(fingerprintSha256(parsed.blob), parsed.fingerprintSha256);
  assert.match(parsed.fingerprintSha256, /^SHA256:[A-Za-z0-9+/]{43}$/);
  assert.equal(fingerprintMd5(parsed.blob), parsed.fingerprintMd5);
  assert.match(parsed.fingerprintMd5, /^[0-9a-f]{2}(?::[0-9a-f]{2}){15}$/);
});

// --- refusals -----------------------------------------------------------------------------------

function parts(line: string): { type: string; base64: string; blob: Buffer } {
  const [type, base64] = line.trim().split(' ') as [string, string];
  return { type, base64, blob: Buffer.from(base64, 'base64') };
}

test('damaged blobs and base64 are malformed', needsSshKeygen, () => {
  for (const key of keys.values()) {
    const { type, base64, blob } = parts(key.line);
    const damaged = [
      lineOf(type, blob.subarray(0, blob.length - 5)), // truncated blob
      `${type} ${base64.slice(0, -3)}`, // truncated base64
      `${type} ${base64}=`, // extra padding
      `${type} ${base64.replace(/=+$/, '')}A`, // padding replaced
      `${type} ${base64.slice(0, 20)}\u0020${base64.slice(20)}`, // inner space
      `${type} ${base64.slice(0, 20)}\t${base64.slice(20)}`, // inner tab
      `${type} ${base64.replaceAll('+', '-').replaceAll('/', '_')}x`, // base64url
      lineOf(type, Buffer.concat([blob, Buffer.from([0])])), // trailing byte
      lineOf(type, Buffer.concat([blob, sshString('extra')])), // trailing field
    ];
    if (base64.endsWith('=')) damaged.push(`${type} ${base64.slice(0, -1)}`); // padding removed
    if (!base64.endsWith('=')) damaged.push(`${type} ${base64}==`);
    for (const line of damaged) assertRefused(line, 'key_malformed');
  }
});

test('a blob whose inner type differs from the line is malformed', needsSshKeygen, () => {
  const { base64 } = parts(keys.get('ed25519')!.line);
  const error = assertRefused(`ssh-rsa ${base64} laptop`, 'key_malformed');
  assert.match(error.message, /ssh-rsa/);
  assertRefused(`ecdsa-sha2-nistp384 ${parts(keys.get('ecdsa256')!.line).base64}`, 'key_malformed');
});

test('broken fields inside well-encoded blobs are malformed', () => {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const point = ecdh.getPublicKey();
  const offCurve = Buffer.from(point);
  offCurve[offCurve.length - 1]! ^= 1;
  const e = mpint(Buffer.from([1, 0, 1]));
  const n = mpint(randomBytes(256).fill(0xff, 0, 1).fill(0x01, 255));
  const cases = [
    lineOf('ssh-ed25519', blobOf('ssh-ed25519', randomBytes(31))),
    lineOf('ssh-ed25519', blobOf('ssh-ed25519', randomBytes(33))),
    lineOf('ecdsa-sha2-nistp256', blobOf('ecdsa-sha2-nistp256', 'nistp384', point)),
    lineOf('ecdsa-sha2-nistp256', blobOf('ecdsa-sha2-nistp256', 'nistp256', ecdh.getPublicKey(null, 'compressed'))),
    lineOf('ecdsa-sha2-nistp256', blobOf('ecdsa-sha2-nistp256', 'nistp256', offCurve)),
    lineOf('ecdsa-sha2-nistp256', blobOf('ecdsa-sha2-nistp256', 'nistp256', point.subarray(0, 64))),
    lineOf('ssh-rsa', blobOf('ssh-rsa', Buffer.concat([Buffer.alloc(1), e]), n)), // needless leading zero
    lineOf('ssh-rsa', blobOf('ssh-rsa', e, n.subarray(1))), // negative modulus
    lineOf('ssh-rsa', blobOf('ssh-rsa', Buffer.from([1]), n)), // e = 1
    lineOf('ssh-rsa', blobOf('ssh-rsa', Buffer.from([1, 0, 0]), n)), // even e
    lineOf('ssh-rsa', blobOf('ssh-rsa', e, Buffer.concat([n.subarray(0, -1), Buffer.from([2])]))), // even n
    lineOf('ssh-rsa', blobOf('ssh-rsa', n, e)), // e > n
    lineOf('ssh-rsa', blobOf('ssh-rsa', e, mpint(randomBytes(2049).fill(0x7f, 0, 1)))), // > 16384 bits
    lineOf('ssh-rsa', blobOf('ssh-rsa', e, Buffer.alloc(0))),
    lineOf('sk-ssh-ed25519@openssh.com', blobOf('sk-ssh-ed25519@openssh.com', randomBytes(32))), // no application
    lineOf('sk-ssh-ed25519@openssh.com', blobOf('sk-ssh-ed25519@openssh.com', randomBytes(32), '')),
    lineOf('sk-ssh-ed25519@openssh.com', blobOf('sk-ssh-ed25519@openssh.com', randomBytes(32), 'ssh:\u0000x')),
    lineOf('sk-ecdsa-sha2-nistp256@openssh.com', blobOf('sk-ecdsa-sha2-nistp256@openssh.com', 'nistp256', point)),
    'ssh-ed25519',
    'AAAAC3NzaC1lZDI1NTE5AAAAIP0Gftug/zMDZGhPVtXbBie4lF0hYJQOSBBsrr/3D5rw',
    'hello there world',
  ];
  for (const line of cases) assertRefused(line, 'key_malformed');
});

test('authorized_keys options before the type are refused with advice', needsSshKeygen, () => {
  const line = keys.get('ed25519')!.line.trim();
  for (const prefix of ['no-pty', 'command="echo hi there"', 'no-port-forwarding,no-agent-forwarding', 'from="10.0.0.0/8"', 'github.com']) {
    const error = assertRefused(`${prefix} ${line}`, 'key_malformed');
    assert.match(error.message, /options/);
  }
});

test('more than one key, or a key broken over lines, is refused', needsSshKeygen, () => {
  const a = keys.get('ed25519')!.line.trim();
  const b = keys.get('rsa2048')!.line.trim();
  assert.match(assertRefused(`${a}\n${b}`, 'key_malformed').message, /more than one key/);
  assert.match(assertRefused(`${a}\r\n${b}\n`, 'key_malformed').message, /more than one key/);
  assert.match(assertRefused(`${a.slice(0, 40)}\n${a.slice(40)}`, 'key_malformed').message, /single line/);
});

test('private keys are refused without echoing any of them', needsSshKeygen, () => {
  assert.equal(privateKeys.length, 7);
  for (const { label, text } of privateKeys) {
    const secrets = text.split('\n').filter((l) => l.length >= 8 && !l.startsWith('-----') && !l.includes(':'));
    assert.ok(secrets.length > 0, label);
    for (const input of [text, `\n  ${text}`, `${keys.get('ed25519')!.line}\n${text}`]) {
      const error = assertRefused(input, 'key_is_private', secrets);
      assert.match(error.message, /\.pub/, label);
    }
  }
  // An OpenSSH private key whose header line was lost on the way.
  const body = privateKeys[0]!.text.split('\n').filter((l) => !l.startsWith('-----')).join('');
  assertRefused(body, 'key_is_private', [body.slice(0, 40)]);
});

test('RFC 4716 (SSH2) and PEM public keys are refused with the conversion command', needsSshKeygen, async () => {
  const { stdout } = await run(SSH_KEYGEN, ['-e', '-f', `${keys.get('ed25519')!.file}.pub`]);
  assert.match(stdout, /BEGIN SSH2 PUBLIC KEY/);
  assert.match(assertRefused(stdout, 'key_malformed').message, /ssh-keygen -i -f key\.pub/);
  const pem = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }) as string;
  assert.match(assertRefused(pem, 'key_malformed').message, /ssh-keygen -i -m PKCS8/);
});

test('refused types name the accepted ones', () => {
  const foo = assertRefused(lineOf('ssh-foo', blobOf('ssh-foo', randomBytes(32)), 'me@host'), 'key_type_refused');
  for (const type of ACCEPTED_KEY_TYPES) assert.ok(foo.message.includes(type), type);
  assertRefused(lineOf('ssh-ed448', blobOf('ssh-ed448', randomBytes(57))), 'key_type_refused');
  assertRefused(
    lineOf('ssh-ed25519-cert-v01@openssh.com', blobOf('ssh-ed25519-cert-v01@openssh.com', randomBytes(64))),
    'key_type_refused',
  );
});

test('empty, binary, control-character and oversized input is malformed', () => {
  const binary = randomBytes(300);
  const cases = [
    '',
    '   \n\t ',
    binary.toString('latin1'),
    binary.toString('utf8'),
    `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP0Gftug/zMDZGhPVtXbBie4lF0hYJQOSBBsrr/3D5rw me\u0000you`,
    `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP0Gftug/zMDZGhPVtXbBie4lF0hYJQOSBBsrr/3D5rw evil\u202ecod.exe`,
    `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP0Gftug/zMDZGhPVtXbBie4lF0hYJQOSBBsrr/3D5rw \ud800`,
    'A'.repeat(1 << 20),
    `ssh-ed25519 ${'A'.repeat(1 << 20)}`,
  ];
  for (const input of cases) assertRefused(input, 'key_malformed');
  assert.equal(refusal(undefined as unknown as string).code, 'key_malformed');
});

// --- low-level pieces ---------------------------------------------------------------------------

test('canonical base64: round-trips bytes and accepts only what re-encodes identically', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), (bytes) => {
      const text = Buffer.from(bytes).toString('base64');
      assert.deepEqual(decodeCanonicalBase64(text), Buffer.from(bytes));
    }),
  );
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(...'AQgw/+=- \n_a'), maxLength: 24 }), (text) => {
      const bytes = decodeCanonicalBase64(text);
      if (bytes === undefined) return;
      assert.equal(bytes.toString('base64'), text);
      assert.match(text, /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)$/);
    }),
  );
});

test('mpints: only minimal positive encodings have a bit length', () => {
  assert.equal(positiveMpintBits(Buffer.from([0x01, 0x00, 0x01])), 17);
  assert.equal(positiveMpintBits(Buffer.from([0x00, 0x80])), 8);
  assert.equal(positiveMpintBits(Buffer.from([0x00, 0x7f])), -1);
  assert.equal(positiveMpintBits(Buffer.from([0x80])), -1);
  assert.equal(positiveMpintBits(Buffer.from([0x00])), -1);
  assert.equal(positiveMpintBits(Buffer.alloc(0)), -1);
});

const CURVES: Record<NistCurve, { openssl: string; bytes: number; p: bigint; b: bigint }> = {
  nistp256: {
    openssl: 'prime256v1',
    bytes: 32,
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  },
  nistp384: {
    openssl: 'secp384r1',
    bytes: 48,
    p: 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  },
  nistp521: {
    openssl: 'secp521r1',
    bytes: 66,
    p: 2n ** 521n - 1n,
    b: 0x51953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
  },
};

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  base %= modulus;
  for (; exponent > 0n; exponent >>= 1n) {
    if (exponent & 1n) result = (result * base) % modulus;
    base = (base * base) % modulus;
  }
  return result;
}

function toBytes(value: bigint, length: number): Buffer {
  return Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex');
}

/** The first curve point with x >= start (all three primes are 3 mod 4, so sqrt is one modPow). */
function pointAtOrAfter(start: bigint, p: bigint, b: bigint, bytes = 32): Buffer {
  for (let x = start; ; x++) {
    const rhs = (((x * x * x - 3n * x + b) % p) + p) % p;
    const y = modPow(rhs, (p + 1n) / 4n, p);
    if ((y * y) % p === rhs) return Buffer.concat([Buffer.from([4]), toBytes(x, bytes), toBytes(y, bytes)]);
  }
}

test('the BigInt on-curve check agrees with OpenSSL on random and nearly-right points', () => {
  fc.assert(
    fc.property(
      fc.constantFrom<NistCurve>('nistp256', 'nistp384', 'nistp521'),
      fc.uint8Array({ minLength: 66, maxLength: 66 }),
      fc.nat(),
      (name, seed, flip) => {
        const c = CURVES[name];
        const x = BigInt(`0x${Buffer.from(seed).toString('hex')}`) % c.p;
        const onCurve = pointAtOrAfter(x, c.p, c.b, c.bytes);
        const nearly = Buffer.from(onCurve);
        const at = 1 + (flip % (nearly.length - 1));
        nearly[at]! ^= 1 << flip % 8;
        for (const point of [onCurve, nearly]) {
          let openssl = true;
          try {
            ECDH.convertKey(point, c.openssl);
          } catch {
            openssl = false;
          }
          // OpenSSH's extra range checks only bite with negligible probability on random points.
          assert.equal(checkEcPoint(name, point) === undefined, openssl);
        }
      },
    ),
    { numRuns: 150 },
  );
});

// --- properties over hostile input --------------------------------------------------------------

function parseOrRefuse(input: string): ParsedSshKey | SshKeyError {
  try {
    return parseSshPublicKey(input);
  } catch (error) {
    if (error instanceof SshKeyError) return error;
    throw error;
  }
}

const BASE64_CHAR = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');
const ANY_CHAR = fc.oneof(
  { weight: 6, arbitrary: BASE64_CHAR },
  { weight: 1, arbitrary: fc.constantFrom(' ', '\t', '\n', '=', '-', '_', '\u0000', 'é', '"') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);

type Mutation =
  | { kind: 'replace'; at: number; char: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'truncate'; at: number }
  | { kind: 'duplicate'; from: number; length: number; at: number }
  | { kind: 'blob-byte'; at: number; value: number }
  | { kind: 'blob-cut'; at: number; length: number }
  | { kind: 'blob-insert'; at: number; bytes: Uint8Array };

const MUTATION: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), char: ANY_CHAR }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ unit: ANY_CHAR, minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), from: fc.nat(), length: fc.integer({ min: 1, max: 40 }), at: fc.nat() }),
  fc.record({ kind: fc.constant('blob-byte' as const), at: fc.nat(), value: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant('blob-cut' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('blob-insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);

/** Applies a mutation to `<type> <base64>`; blob-level ones re-encode canonically to get past base64. */
function mutate(keyPart: string, m: Mutation): string {
  const at = (n: number, length: number) => n % (length + 1);
  const s = keyPart;
  switch (m.kind) {
    case 'replace': {
      const i = at(m.at, s.length - 1);
      return s.slice(0, i) + m.char + s.slice(i + 1);
    }
    case 'delete': {
      const i = at(m.at, s.length);
      return s.slice(0, i) + s.slice(i + m.length);
    }
    case 'insert': {
      const i = at(m.at, s.length);
      return s.slice(0, i) + m.text + s.slice(i);
    }
    case 'truncate':
      return s.slice(0, at(m.at, s.length));
    case 'duplicate': {
      const from = at(m.from, s.length);
      const i = at(m.at, s.length);
      return s.slice(0, i) + s.slice(from, from + m.length) + s.slice(i);
    }
    default: {
      if (!/^[^ ]+ [^ ]+$/.test(s)) return s;
      const { type, blob } = parts(s);
      const i = at(m.at, blob.length);
      let changed: Buffer;
      if (m.kind === 'blob-byte') {
        changed = Buffer.from(blob);
        if (i < changed.length) changed[i] = m.value;
      } else if (m.kind === 'blob-cut') {
        changed = Buffer.concat([blob.subarray(0, i), blob.subarray(i + m.length)]);
      } else {
        changed = Buffer.concat([blob.subarray(0, i), m.bytes, blob.subarray(i)]);
      }
      return lineOf(type, changed);
    }
  }
}

function validKeyParts(): string[] {
  return [...[...keys.values()].map((k) => k.line), ...skLines].map((l) => l.trim().split(' ').slice(0, 2).join(' '));
}

test('random strings are refused with SshKeyError and nothing else', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.string({ unit: ANY_CHAR, maxLength: 300 }),
        fc
          .tuple(fc.constantFrom(...OUR_TYPE_NAMES, 'ssh-foo', 'no-pty'), fc.base64String({ maxLength: 200 }), fc.string())
          .map(([type, base64, comment]) => `${type} ${base64} ${comment}`),
      ),
      (input) => {
        parseOrRefuse(input);
      },
    ),
    { numRuns: 2000 },
  );
});

test('mutated key lines: only SshKeyError, and anything accepted is self-consistent', needsSshKeygen, () => {
  const valid = validKeyParts();
  fc.assert(
    fc.property(fc.constantFrom(...valid), fc.array(MUTATION, { minLength: 1, maxLength: 3 }), fc.string(), (line, mutations, comment) => {
      const input = `${mutations.reduce(mutate, line)} ${comment}`;
      const result = parseOrRefuse(input);
      if (result instanceof SshKeyError) return;
      const again = parseSshPublicKey(result.key);
      assert.equal(again.fingerprintSha256, result.fingerprintSha256);
      assert.equal(result.fingerprintSha256, fingerprintSha256(result.blob));
    }),
    { numRuns: 3000 },
  );
});

test('mutated key lines we accept, ssh-keygen accepts with the same size and fingerprint (batch)', needsSshKeygen, async (t) => {
  const valid = validKeyParts();
  const samples = fc.sample(fc.tuple(fc.constantFrom(...valid), fc.array(MUTATION, { minLength: 1, maxLength: 2 })), 3000);
  const accepted = new Map<string, ParsedSshKey>();
  const fileLines = valid.map((l, i) => `${l} valid${i}`);
  samples.forEach(([line, mutations], i) => {
    const tag = `m${i}`;
    const input = `${mutations.reduce(mutate, line)} ${tag}`;
    const result = parseOrRefuse(input);
    if (result instanceof SshKeyError) return;
    accepted.set(tag, result);
    fileLines.push(input);
  });
  assert.ok(accepted.size > 0, 'some mutants should still be valid keys');
  t.diagnostic(`${accepted.size} of ${samples.length} mutants accepted`);
  const path = join(dir, 'mutants.pub');
  await writeFile(path, `${fileLines.join('\n')}\n`);
  const seen = new Map((await keygenFingerprints(path, 'sha256')).map((l) => [l.comment.split(' ').at(-1)!, l]));
  for (const [tag, key] of accepted) {
    const oracle = seen.get(tag);
    assert.ok(oracle, `ssh-keygen refused ${key.key} which we accepted`);
    assert.equal(oracle.fingerprint, key.fingerprintSha256, key.key);
    assert.equal(oracle.bits, key.bits, key.key);
  }
});

test('mutated key lines we accept, ssh-keygen accepts with the same size and fingerprint (shrinking)', needsSshKeygen, async () => {
  const valid = validKeyParts();
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...valid), fc.array(MUTATION, { minLength: 1, maxLength: 3 }), async (line, mutations) => {
      const input = `${mutations.reduce(mutate, line)} mutant`;
      const result = parseOrRefuse(input);
      if (result instanceof SshKeyError) return;
      const oracle = await keygenOne(dir, input);
      assert.ok(oracle, 'ssh-keygen refused a key we accepted');
      assert.equal(oracle.fingerprint, result.fingerprintSha256);
      assert.equal(oracle.bits, result.bits);
    }),
    { numRuns: 200 },
  );
});
