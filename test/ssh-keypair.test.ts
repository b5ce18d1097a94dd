// ssh-keygen is the oracle: it must read the private keys we generate, derive exactly our public key
// from them, and fingerprint them as we do.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WireReader } from '../src/crypto/ssh-wire.ts';
import { generateKeyPair, type GeneratedKeyPair } from '../src/crypto/ssh-keypair.ts';
import { parseSshPublicKey } from '../src/crypto/ssh-public-key.ts';
import { parseSshPrivateKey } from '../src/crypto/ssh-private-key.ts';

const run = promisify(execFile);
const hasSshKeygen = spawnSync('ssh-keygen', ['-?']).error === undefined;
const needsSshKeygen = hasSshKeygen ? {} : { skip: 'ssh-keygen is not installed' };

let dir = '';
let files = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keysmith-keypair-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function keyFile(privateKey: string): Promise<string> {
  const file = join(dir, `id_${files++}`);
  await writeFile(file, privateKey, { mode: 0o600 });
  return file;
}

async function keygen(...args: string[]): Promise<string> {
  return (await run('ssh-keygen', args)).stdout;
}

function body(privateKey: string): Buffer {
  const lines = privateKey.trimEnd().split('\n');
  return Buffer.from(lines.slice(1, -1).join(''), 'base64');
}

async function checkWithSshKeygen(key: GeneratedKeyPair, comment: string): Promise<void> {
  const file = await keyFile(key.privateKey);
  assert.equal(await keygen('-y', '-f', file), `${key.publicKey} ${comment}\n`);
  const sha = (await keygen('-l', '-E', 'sha256', '-f', file)).trim().split(' ');
  assert.deepEqual([Number(sha[0]), sha[1]], [key.bits, key.fingerprintSha256]);
  const md5 = (await keygen('-l', '-E', 'md5', '-f', file)).trim().split(' ');
  assert.deepEqual([Number(md5[0]), md5[1]], [key.bits, `MD5:${key.fingerprintMd5}`]);
}

function checkOwnParsers(key: GeneratedKeyPair): void {
  const parsed = parseSshPublicKey(key.publicKey);
  assert.equal(parsed.key, key.publicKey);
  assert.equal(parsed.type, key.type);
  assert.equal(parsed.bits, key.bits);
  assert.equal(parsed.fingerprintSha256, key.fingerprintSha256);
  assert.equal(parsed.fingerprintMd5, key.fingerprintMd5);
  const fromPrivate = parseSshPrivateKey(key.privateKey);
  assert.equal(fromPrivate.publicKey, key.publicKey);
  assert.equal(fromPrivate.fingerprintSha256, key.fingerprintSha256);
  assert.equal(fromPrivate.privateKey, key.privateKey);
}

/** The container layout ssh-keygen writes: armor, 70 columns, "none", one key, check ints, padding. */
function checkLayout(key: GeneratedKeyPair, comment: string): number {
  const lines = key.privateKey.split('\n');
  assert.equal(lines[0], '-----BEGIN OPENSSH PRIVATE KEY-----');
  assert.equal(lines.at(-2), '-----END OPENSSH PRIVATE KEY-----');
  assert.equal(lines.at(-1), '');
  const bodyLines = lines.slice(1, -2);
  assert.ok(bodyLines.slice(0, -1).every((l) => l.length === 70));
  assert.ok(bodyLines.at(-1)!.length <= 70);

  const bytes = body(key.privateKey);
  assert.equal(bytes.subarray(0, 15).toString('latin1'), 'openssh-key-v1\0');
  const r = new WireReader(bytes.subarray(15));
  assert.equal(r.string()!.toString(), 'none');
  assert.equal(r.string()!.toString(), 'none');
  assert.equal(r.string()!.length, 0);
  assert.equal(r.uint32(), 1);
  const publicBlob = r.string()!;
  assert.equal(publicBlob.toString('base64'), key.publicKey.split(' ')[1]);
  const section = r.string()!;
  assert.ok(r.atEnd);
  assert.equal(section.length % 8, 0);
  const p = new WireReader(section);
  assert.equal(p.uint32(), p.uint32());
  assert.equal(p.string()!.toString(), key.type);
  const fieldCount = key.type === 'ssh-rsa' ? 6 : 2;
  const fields = Array.from({ length: fieldCount }, () => p.string()!);
  if (key.type === 'ssh-ed25519') {
    assert.equal(fields[0]!.length, 32);
    assert.equal(fields[1]!.length, 64);
    assert.deepEqual(fields[1]!.subarray(32), fields[0]);
  }
  assert.equal(p.string()!.toString(), comment);
  const padding = p.rest();
  assert.ok(padding.length < 8);
  assert.deepEqual(
    [...padding],
    Array.from({ length: padding.length }, (_, i) => i + 1),
  );
  return padding.length;
}

test('ed25519 (the default): ssh-keygen reads it, derives our public key and fingerprints', needsSshKeygen, async () => {
  const comment = 'deploy@keysmith';
  const key = await generateKeyPair(undefined, comment);
  assert.equal(key.type, 'ssh-ed25519');
  assert.equal(key.bits, 256);
  assert.match(key.publicKey, /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43}$/);
  checkLayout(key, comment);
  checkOwnParsers(key);
  await checkWithSshKeygen(key, comment);
});

test('ed25519: keys are fresh, and every padding length round-trips through ssh-keygen', needsSshKeygen, async () => {
  // The comment length moves the private section across all 8 padding lengths.
  const keys = await Promise.all(Array.from({ length: 8 }, (_, i) => generateKeyPair('ed25519', 'c'.repeat(i))));
  assert.equal(new Set(keys.map((k) => k.publicKey)).size, 8);
  const paddings = new Set<number>();
  for (const [i, key] of keys.entries()) {
    paddings.add(checkLayout(key, 'c'.repeat(i)));
    checkOwnParsers(key);
  }
  assert.deepEqual([...paddings].sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
  await Promise.all(
    keys.map(async (key, i) => {
      const file = await keyFile(key.privateKey);
      assert.equal(await keygen('-y', '-f', file), i === 0 ? `${key.publicKey}\n` : `${key.publicKey} ${'c'.repeat(i)}\n`);
    }),
  );
});

test('rsa: RSA-4096, e = 65537, read by ssh-keygen with the same public key and fingerprints', needsSshKeygen, async () => {
  const comment = 'rsa deploy key';
  const key = await generateKeyPair('rsa', comment);
  assert.equal(key.type, 'ssh-rsa');
  assert.equal(key.bits, 4096);
  // e = 65537 is the blob's second field: string "ssh-rsa", then mpint 01 00 01.
  assert.ok(key.publicKey.startsWith('ssh-rsa AAAAB3NzaC1yc2EAAAADAQAB'));
  checkLayout(key, comment);
  checkOwnParsers(key);
  await checkWithSshKeygen(key, comment);
});

test('rsa generation does not block the event loop', async () => {
  // Counted in turns of the event loop, not milliseconds, so a slow or loaded machine cannot fail it:
  // generation on the threadpool lets the loop turn while it runs; a blocking one would not turn once.
  let turns = 0;
  let pending = true;
  const turn = () => {
    if (!pending) return;
    turns++;
    setImmediate(turn);
  };
  setImmediate(turn);
  await generateKeyPair('rsa', 'x');
  pending = false;
  assert.ok(turns >= 1, 'the event loop turned while the RSA key was generated');
});

test('comments with control characters and unknown types are refused', async () => {
  await assert.rejects(generateKeyPair('ed25519', 'a\nb'), RangeError);
  await assert.rejects(generateKeyPair('dsa' as 'rsa', 'x'), TypeError);
});
