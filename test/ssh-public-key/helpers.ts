// Shared by test/ssh-public-key/*.test.ts: wire-format builders, ssh-keygen as the oracle, and the keys
// it makes once per test file (useGeneratedKeys).
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect, promisify } from 'node:util';
import { ACCEPTED_KEY_TYPES, parseSshPublicKey, SshKeyError, type SshKeyErrorCode } from '../../src/crypto/ssh-public-key.ts';
import { type NistCurve } from '../../src/crypto/ssh-wire.ts';

export const run = promisify(execFile);
export const SSH_KEYGEN = 'ssh-keygen';
export const hasSshKeygen = spawnSync(SSH_KEYGEN, ['-?']).error === undefined;
export const needsSshKeygen = hasSshKeygen ? {} : { skip: 'ssh-keygen is not installed' };
export const SK_FIXTURE = new URL('../fixtures/ssh/sk-keys.txt', import.meta.url);

// --- helpers ------------------------------------------------------------------------------------

export function sshString(value: string | Uint8Array): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : Buffer.from(value);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

export function blobOf(...fields: (string | Uint8Array)[]): Buffer {
  return Buffer.concat(fields.map(sshString));
}

export function mpint(unsigned: Uint8Array): Buffer {
  let start = 0;
  while (start < unsigned.length - 1 && unsigned[start] === 0) start++;
  const bytes = Buffer.from(unsigned.subarray(start));
  return (bytes[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.alloc(1), bytes]) : bytes;
}

export function lineOf(type: string, blob: Uint8Array, comment?: string): string {
  return `${type} ${Buffer.from(blob).toString('base64')}${comment === undefined ? '' : ` ${comment}`}`;
}

export function rsaBlob(bits: number): Buffer {
  const jwk = generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ format: 'jwk' });
  return blobOf('ssh-rsa', mpint(Buffer.from(jwk.e!, 'base64url')), mpint(Buffer.from(jwk.n!, 'base64url')));
}

export interface KeygenLine {
  bits: number;
  fingerprint: string;
  comment: string;
  label: string;
}

export const KEYGEN_LINE = /^(\d+) ((?:SHA256|MD5):\S+) (.*) \(([A-Z0-9-]+)\)$/s;

export async function keygenFingerprints(file: string, hash: 'sha256' | 'md5'): Promise<KeygenLine[]> {
  const { stdout } = await run(SSH_KEYGEN, ['-l', '-E', hash, '-f', file]);
  return stdout
    .split('\n')
    .map((l) => KEYGEN_LINE.exec(l))
    .filter((m) => m !== null)
    .map((m) => ({ bits: Number(m[1]), fingerprint: m[2]!, comment: m[3]!, label: m[4]! }));
}

/** ssh-keygen -l on one line, or null when ssh-keygen refuses it. */
export async function keygenOne(dir: string, line: string): Promise<KeygenLine | null> {
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

export function refusal(input: string): SshKeyError {
  try {
    parseSshPublicKey(input);
  } catch (error) {
    if (error instanceof SshKeyError) return error;
    throw error;
  }
  assert.fail('expected the input to be refused');
}

export const OUR_TYPE_NAMES = new Set<string>([...ACCEPTED_KEY_TYPES, 'ssh-dss']);

/** Refused with `code`, in one sentence, without any of the input in anything the error carries. */
export function assertRefused(input: string, code: SshKeyErrorCode, secrets: string[] = []): SshKeyError {
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

export interface Generated {
  name: string;
  type: string;
  bits: number;
  line: string;
  privateKey: string;
  file: string;
}

export const GENERATE = [
  { name: 'ed25519', args: ['-t', 'ed25519'], type: 'ssh-ed25519', bits: 256 },
  { name: 'ecdsa256', args: ['-t', 'ecdsa', '-b', '256'], type: 'ecdsa-sha2-nistp256', bits: 256 },
  { name: 'ecdsa384', args: ['-t', 'ecdsa', '-b', '384'], type: 'ecdsa-sha2-nistp384', bits: 384 },
  { name: 'ecdsa521', args: ['-t', 'ecdsa', '-b', '521'], type: 'ecdsa-sha2-nistp521', bits: 521 },
  { name: 'rsa2048', args: ['-t', 'rsa', '-b', '2048'], type: 'ssh-rsa', bits: 2048 },
  { name: 'rsa3072', args: ['-t', 'rsa', '-b', '3072'], type: 'ssh-rsa', bits: 3072 },
  { name: 'rsa4096', args: ['-t', 'rsa', '-b', '4096'], type: 'ssh-rsa', bits: 4096 },
] as const;

export let dir = '';
export const keys = new Map<string, Generated>();
/** Lines refused for their type or size: from ssh-keygen when it still makes them, else crafted. */
export let rsa1024Line = '';
export let dssLine = '';
export let dssFromKeygen = false;
export const privateKeys: { label: string; text: string }[] = [];
export let skLines: string[] = [];

export async function keygen(name: string, args: readonly string[]): Promise<Generated | null> {
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
export async function reformatPrivate(source: string, format: 'PEM' | 'PKCS8'): Promise<string> {
  const copy = `${source}-${format}`;
  await copyFile(source, copy);
  await run(SSH_KEYGEN, ['-q', '-p', '-m', format, '-P', '', '-N', '', '-f', copy]);
  return readFile(copy, 'utf8');
}

/** Makes the keys above with ssh-keygen before the file's tests, and removes them after. */
export function useGeneratedKeys(): void {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keysmith-ssh-'));
    const fixture = await readFile(SK_FIXTURE, 'utf8');
    skLines = fixture.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    if (!hasSshKeygen) return;

    const [made, rsa1024, dss] = await Promise.all([Promise.all(GENERATE.map((g) => keygen(g.name, g.args))), keygen('rsa1024', ['-t', 'rsa', '-b', '1024']), keygen('dsa', ['-t', 'dsa'])]);
    GENERATE.forEach((g, i) => {
      const key = made[i];
      assert.ok(key, `ssh-keygen could not make a ${g.name} key`);
      keys.set(g.name, { ...key, type: g.type, bits: g.bits });
    });
    dssFromKeygen = dss !== null;
    rsa1024Line = rsa1024?.line ?? lineOf('ssh-rsa', rsaBlob(1024), 'crafted-rsa1024');
    dssLine = dss?.line ?? lineOf('ssh-dss', blobOf('ssh-dss', mpint(randomBytes(128)), mpint(randomBytes(20)), mpint(randomBytes(128)), mpint(randomBytes(128))));

    const rsaSource = rsa1024 ?? keys.get('rsa2048')!;
    const ecdsaSource = keys.get('ecdsa256')!;
    const [rsaPem, pkcs8, ecPem] = await Promise.all([reformatPrivate(rsaSource.file, 'PEM'), reformatPrivate(rsaSource.file, 'PKCS8'), reformatPrivate(ecdsaSource.file, 'PEM')]);
    const dsaPem = dss ? await reformatPrivate(dss.file, 'PEM') : pkcs8.replaceAll('PRIVATE KEY', 'DSA PRIVATE KEY');
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
}

export function parts(line: string): { type: string; base64: string; blob: Buffer } {
  const [type, base64] = line.trim().split(' ') as [string, string];
  return { type, base64, blob: Buffer.from(base64, 'base64') };
}

export const CURVES: Record<NistCurve, { openssl: string; bytes: number; p: bigint; b: bigint }> = {
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

export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  base %= modulus;
  for (; exponent > 0n; exponent >>= 1n) {
    if (exponent & 1n) result = (result * base) % modulus;
    base = (base * base) % modulus;
  }
  return result;
}

export function toBytes(value: bigint, length: number): Buffer {
  return Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex');
}

/** The first curve point with x >= start (all three primes are 3 mod 4, so sqrt is one modPow). */
export function pointAtOrAfter(start: bigint, p: bigint, b: bigint, bytes = 32): Buffer {
  for (let x = start; ; x++) {
    const rhs = (((x * x * x - 3n * x + b) % p) + p) % p;
    const y = modPow(rhs, (p + 1n) / 4n, p);
    if ((y * y) % p === rhs) return Buffer.concat([Buffer.from([4]), toBytes(x, bytes), toBytes(y, bytes)]);
  }
}
