// ssh-keygen is the oracle: for every key it writes (OpenSSH, PEM and PKCS#8 formats) we must derive
// the public key it wrote to the .pub file and fingerprint it as `ssh-keygen -l` does. Everything
// else is refused with an SshPrivateKeyError whose message quotes nothing of the input.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { armor } from '../src/crypto/openssh-format.ts';
import { parseSshPrivateKey, SshPrivateKeyError, type SshPrivateKeyErrorCode } from '../src/crypto/ssh-private-key.ts';
import { WireReader } from '../src/crypto/ssh-wire.ts';

const run = promisify(execFile);
const hasSshKeygen = spawnSync('ssh-keygen', ['-?']).error === undefined;
const needsSshKeygen = hasSshKeygen ? {} : { skip: 'ssh-keygen is not installed' };

interface Fixture {
  file: string;
  privateKey: string;
  /** The .pub line without its comment. */
  publicKey: string;
}

let dir = '';
let counter = 0;
const keys = new Map<string, Fixture>();

async function keygen(...args: string[]): Promise<string> {
  return (await run('ssh-keygen', args)).stdout;
}

async function generate(name: string, type: string, bits: number | undefined, format: string | undefined, passphrase = ''): Promise<void> {
  const file = join(dir, `${counter++}`);
  const args = ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), ...(format ? ['-m', format] : [])];
  await keygen(...args, '-N', passphrase, '-C', 'fixture@keysmith', '-f', file);
  const publicLine = (await readFile(`${file}.pub`, 'utf8')).trim();
  keys.set(name, { file, privateKey: await readFile(file, 'utf8'), publicKey: publicLine.split(' ').slice(0, 2).join(' ') });
}

const TYPES: [string, string, number | undefined][] = [
  ['ed25519', 'ed25519', undefined],
  ['ecdsa256', 'ecdsa', 256],
  ['ecdsa384', 'ecdsa', 384],
  ['ecdsa521', 'ecdsa', 521],
  ['rsa2048', 'rsa', 2048],
];
const FORMATS = ['OpenSSH', 'PEM', 'PKCS8'] as const;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keysmith-private-'));
  if (!hasSshKeygen) return;
  const jobs: Promise<void>[] = [];
  for (const [name, type, bits] of TYPES) {
    for (const format of FORMATS) {
      // ssh-keygen 9.2 writes ed25519 only in its own format, whatever -m says.
      if (name === 'ed25519' && format !== 'OpenSSH') continue;
      jobs.push(generate(`${name}-${format}`, type, bits, format === 'OpenSSH' ? undefined : format));
    }
  }
  for (const format of FORMATS) jobs.push(generate(`secret-rsa-${format}`, 'rsa', 2048, format === 'OpenSSH' ? undefined : format, 'secret'));
  for (const format of FORMATS) jobs.push(generate(`secret-ecdsa-${format}`, 'ecdsa', 256, format === 'OpenSSH' ? undefined : format, 'secret'));
  jobs.push(generate('secret-ed25519', 'ed25519', undefined, undefined, 'secret'));
  jobs.push(generate('dsa-OpenSSH', 'dsa', undefined, undefined));
  jobs.push(generate('dsa-PEM', 'dsa', undefined, 'PEM'));
  jobs.push(generate('dsa-PKCS8', 'dsa', undefined, 'PKCS8'));
  jobs.push(generate('rsa1024', 'rsa', 1024, undefined));
  await Promise.all(jobs);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function key(name: string): Fixture {
  const fixture = keys.get(name);
  assert.ok(fixture, `fixture ${name}`);
  return fixture;
}

/** No 20-character run of the input may appear in the message. */
function assertNoLeak(message: string, input: string): void {
  for (let i = 0; i + 20 <= message.length; i++) {
    const run = message.slice(i, i + 20);
    assert.ok(!input.includes(run), `message quotes the input: ${JSON.stringify(run)}`);
  }
}

function refused(input: string, code: SshPrivateKeyErrorCode, mentions?: RegExp): SshPrivateKeyError {
  let caught: unknown;
  try {
    parseSshPrivateKey(input);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof SshPrivateKeyError, `expected SshPrivateKeyError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, /^[A-Z].*[.)]$/);
  if (mentions) assert.match(caught.message, mentions);
  assertNoLeak(caught.message, input);
  return caught;
}

function bodyOf(text: string): Buffer {
  const lines = text.trim().split('\n');
  return Buffer.from(lines.slice(1, -1).join(''), 'base64');
}

async function fingerprints(file: string): Promise<[string, string, number]> {
  const sha = (await keygen('-l', '-E', 'sha256', '-f', file)).split(' ');
  const md5 = (await keygen('-l', '-E', 'md5', '-f', file)).split(' ');
  return [sha[1]!, md5[1]!.replace(/^MD5:/, ''), Number(sha[0])];
}

// --- accepted keys ------------------------------------------------------------------------------

test('every ssh-keygen key, in each format, gives the .pub key and ssh-keygen -l fingerprints', needsSshKeygen, async () => {
  let checked = 0;
  for (const [name] of TYPES) {
    for (const format of FORMATS) {
      const fixture = keys.get(`${name}-${format}`);
      if (!fixture) continue;
      const parsed = parseSshPrivateKey(fixture.privateKey);
      assert.equal(parsed.publicKey, fixture.publicKey, `${name}-${format}`);
      const [sha, md5, bits] = await fingerprints(`${fixture.file}.pub`);
      assert.deepEqual([parsed.fingerprintSha256, parsed.fingerprintMd5, parsed.bits], [sha, md5, bits], `${name}-${format}`);
      assert.equal(parsed.type, fixture.publicKey.split(' ')[0]);
      assert.equal(parsed.privateKey, fixture.privateKey);
      checked++;
    }
  }
  assert.equal(checked, 13);
});

test('pasted text is normalised: CRLF, indentation, trailing spaces and blank lines', needsSshKeygen, () => {
  for (const name of ['ed25519-OpenSSH', 'rsa2048-PEM', 'ecdsa384-PKCS8']) {
    const { privateKey, publicKey } = key(name);
    const messy = `\r\n  ${privateKey.trim().split('\n').join('   \r\n    ')}\r\n\r\n`;
    const parsed = parseSshPrivateKey(messy);
    assert.equal(parsed.publicKey, publicKey);
    assert.equal(parsed.privateKey, privateKey);
    assert.ok(parsed.privateKey.endsWith('-----\n') && !parsed.privateKey.includes('\r'));
  }
});

test('Ed25519 PKCS#8 (which ssh 9.2 cannot load) is stored converted to OpenSSH format', needsSshKeygen, async () => {
  const pair = generateKeyPairSync('ed25519');
  const pem = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const parsed = parseSshPrivateKey(pem);
  assert.match(parsed.privateKey, /^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
  const file = join(dir, 'converted');
  await writeFile(file, parsed.privateKey, { mode: 0o600 });
  assert.equal((await keygen('-y', '-f', file)).trim(), parsed.publicKey);
  assert.deepEqual(parseSshPrivateKey(parsed.privateKey).publicKey, parsed.publicKey);
  const x = Buffer.from(pair.publicKey.export({ format: 'jwk' }).x!, 'base64url');
  assert.ok(Buffer.from(parsed.publicKey.split(' ')[1]!, 'base64').subarray(-32).equals(x));
});

test('an EC PARAMETERS block before a SEC1 key (openssl ecparam -genkey) is accepted and dropped', needsSshKeygen, () => {
  const { privateKey, publicKey } = key('ecdsa256-PEM');
  const parsed = parseSshPrivateKey(`-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n${privateKey}`);
  assert.equal(parsed.publicKey, publicKey);
  assert.equal(parsed.privateKey, privateKey);
});

// --- refusals -----------------------------------------------------------------------------------

test('passphrase-protected keys in every format say how to make a copy without one', needsSshKeygen, async () => {
  for (const name of ['secret-ed25519', ...FORMATS.flatMap((f) => [`secret-rsa-${f}`, `secret-ecdsa-${f}`])]) {
    refused(key(name).privateKey, 'key_passphrase_protected', /ssh-keygen -p -N "" -f copy_of_key/);
  }
  // The advice works: the copy it describes is accepted.
  for (const name of ['secret-ed25519', 'secret-rsa-PEM', 'secret-ecdsa-PKCS8']) {
    const copy = join(dir, `copy-${name}`);
    await copyFile(key(name).file, copy);
    await keygen('-p', '-P', 'secret', '-N', '', '-f', copy);
    assert.equal(parseSshPrivateKey(await readFile(copy, 'utf8')).publicKey, key(name).publicKey);
  }
});

test('public keys in any form are recognised as the public half', needsSshKeygen, async () => {
  for (const name of ['ed25519-OpenSSH', 'rsa2048-PEM', 'ecdsa521-PKCS8']) {
    const pubFile = `${key(name).file}.pub`;
    const line = await readFile(pubFile, 'utf8');
    refused(line, 'key_is_public', /without \.pub/);
    refused(key(name).publicKey, 'key_is_public');
    refused(`no-pty,command="x" ${line}`, 'key_is_public');
    refused(await keygen('-e', '-f', pubFile), 'key_is_public'); // RFC 4716
    // ssh-keygen 9.2 cannot export ed25519 as PKCS#8.
    if (!name.startsWith('ed25519')) refused(await keygen('-e', '-m', 'PKCS8', '-f', pubFile), 'key_is_public');
  }
  refused(await keygen('-e', '-m', 'PEM', '-f', `${key('rsa2048-PEM').file}.pub`), 'key_is_public');
  const edPublic = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString();
  refused(edPublic, 'key_is_public');
});

test('DSA keys are refused in every format; RSA below 2048 bits is too weak', needsSshKeygen, () => {
  for (const format of FORMATS) refused(key(`dsa-${format}`).privateKey, 'key_type_refused', /DSA/);
  refused(key('rsa1024').privateKey, 'key_too_weak', /2048/);
});

test('other algorithms and curves are refused as key types', () => {
  const pkcs8 = (k: ReturnType<typeof generateKeyPairSync>['privateKey']): string => k.export({ format: 'pem', type: 'pkcs8' }).toString();
  refused(pkcs8(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey), 'key_type_refused');
  refused(pkcs8(generateKeyPairSync('ed448').privateKey), 'key_type_refused');
  refused(pkcs8(generateKeyPairSync('x25519').privateKey), 'key_type_refused');
  refused(pkcs8(generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey), 'key_type_refused');
});

test('PuTTY keys say how to convert them', () => {
  const ppk = 'PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: me@host\nPublic-Lines: 2\nAAAAC3NzaC1lZDI1NTE5AAAAIGf\nPrivate-Lines: 1\nAAAAIAbc\nPrivate-MAC: 00\n';
  refused(ppk, 'key_malformed', /puttygen key\.ppk -O private-openssh -o key/);
});

test('garbage, empty, oversized and binary input is malformed, with what a private key looks like', () => {
  const looksLike = /file without \.pub/;
  refused('', 'key_malformed', looksLike);
  refused(' \n\t ', 'key_malformed', looksLike);
  refused('hello world', 'key_malformed', looksLike);
  refused('x'.repeat(16 * 1024 + 1), 'key_malformed', looksLike);
  refused(randomBytes(600).toString('latin1'), 'key_malformed', looksLike);
  refused('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'key_malformed', looksLike);
  refused('-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n', 'key_malformed', looksLike);
  assert.throws(() => parseSshPrivateKey(42 as unknown as string), SshPrivateKeyError);
});

test('damaged OpenSSH keys: cut short, missing armor, bad base64, extra text, two keys', needsSshKeygen, () => {
  const text = key('ed25519-OpenSSH').privateKey;
  const lines = text.trim().split('\n');
  refused(lines.slice(0, -1).join('\n'), 'key_malformed', /END line/);
  refused([...lines.slice(0, 2), ...lines.slice(3)].join('\n'), 'key_malformed');
  refused(lines.slice(1, -1).join('\n'), 'key_malformed', /BEGIN and END/);
  refused(text.replace(/[A-Za-z0-9+/]=*\n-----END/, '\n-----END'), 'key_malformed');
  refused(text.replace('\n-----END', '*\n-----END'), 'key_malformed');
  refused(`comment line\n${text}`, 'key_malformed', /before or after/);
  refused(`${text}${key('ecdsa256-OpenSSH').privateKey}`, 'key_malformed', /more than one key/);
  refused(text.replace('-----END OPENSSH', '-----END RSA'), 'key_malformed');
});

/** The byte offsets of the private section of an OpenSSH key body, and of its comment text. */
function privateSectionLayout(body: Buffer): { start: number; commentStart: number; commentEnd: number } {
  const r = new WireReader(body.subarray(15));
  for (let i = 0; i < 3; i++) r.string();
  r.uint32();
  r.string();
  const section = r.string()!;
  const start = body.length - section.length;
  const p = new WireReader(section);
  p.uint32();
  p.uint32();
  const fields: Buffer[] = [];
  for (let f = p.string(); f !== undefined; f = p.string()) fields.push(f);
  // The last string read is the comment (the padding is too short to parse as one).
  const comment = fields.at(-1)!;
  const commentStart = start + comment.byteOffset - section.byteOffset;
  return { start, commentStart, commentEnd: commentStart + comment.length };
}

test('a flipped byte anywhere in an OpenSSH private section, except the comment, is malformed', needsSshKeygen, () => {
  for (const name of ['ed25519-OpenSSH', 'ecdsa256-OpenSSH', 'rsa2048-OpenSSH']) {
    const body = bodyOf(key(name).privateKey);
    const { start, commentStart, commentEnd } = privateSectionLayout(body);
    // The re-armored original parses, so each refusal below is the flip's doing.
    assert.equal(parseSshPrivateKey(armor('OPENSSH PRIVATE KEY', body, 70)).publicKey, key(name).publicKey);
    // The comment is the one part nothing checks (ssh-keygen does not either).
    const renamed = Buffer.from(body);
    renamed[commentStart]! ^= 0x01;
    assert.equal(parseSshPrivateKey(armor('OPENSSH PRIVATE KEY', renamed, 70)).publicKey, key(name).publicKey);
    let flips = 0;
    // RSA has ~1200 section bytes; every 7th keeps the test fast while touching every field.
    const step = name.startsWith('rsa') ? 7 : 1;
    for (let at = start; at < body.length; at += step) {
      if (at >= commentStart && at < commentEnd) continue;
      const damaged = Buffer.from(body);
      damaged[at]! ^= 0x01;
      refused(armor('OPENSSH PRIVATE KEY', damaged, 70), 'key_malformed');
      flips++;
    }
    assert.ok(flips > 50, name);
  }
});

test('PEM keys whose numbers do not belong together are malformed', needsSshKeygen, () => {
  const rsa = createPrivateKey(key('rsa2048-PEM').privateKey);
  for (const field of ['d', 'p', 'qi', 'dp'] as const) {
    const jwk = rsa.export({ format: 'jwk' });
    const value = Buffer.from(jwk[field]!, 'base64url');
    value[value.length - 1]! ^= 2;
    jwk[field] = value.toString('base64url');
    const broken = createPrivateKey({ key: jwk, format: 'jwk' }).export({ format: 'pem', type: 'pkcs1' }).toString();
    refused(broken, 'key_malformed');
  }
  const der = bodyOf(key('ecdsa256-PKCS8').privateKey);
  refused(armor('PRIVATE KEY', Buffer.concat([der, Buffer.of(0)])), 'key_malformed');
  refused(armor('RSA PRIVATE KEY', der), 'key_malformed');
});

// --- property -----------------------------------------------------------------------------------

test('property: a mutated private key is either the same key or an SshPrivateKeyError', needsSshKeygen, () => {
  const originals = ['ed25519-OpenSSH', 'ecdsa384-OpenSSH', 'rsa2048-PEM', 'ecdsa256-PKCS8'].map(key);
  const check = (input: string, publicKey: string): void => {
    try {
      assert.equal(parseSshPrivateKey(input).publicKey, publicKey);
    } catch (err) {
      if (!(err instanceof SshPrivateKeyError)) throw err;
      assertNoLeak(err.message, input);
    }
  };
  const textMutation = fc.tuple(fc.nat(), fc.nat({ max: 40 }), fc.string({ unit: 'binary-ascii', maxLength: 6 }));
  fc.assert(
    fc.property(fc.constantFrom(...originals), fc.array(textMutation, { minLength: 1, maxLength: 3 }), (original, mutations) => {
      let text = original.privateKey;
      for (const [at, remove, insert] of mutations) {
        const i = at % (text.length + 1);
        text = text.slice(0, i) + insert + text.slice(i + remove);
      }
      check(text, original.publicKey);
    }),
    { numRuns: 400 },
  );
  fc.assert(
    fc.property(fc.constantFrom(...originals), fc.nat(), fc.integer({ min: 1, max: 255 }), (original, at, xor) => {
      const body = bodyOf(original.privateKey);
      body[at % body.length]! ^= xor;
      const label = /-----BEGIN ([A-Z ]+)-----/.exec(original.privateKey)![1]!;
      check(armor(label, body, 70), original.publicKey);
    }),
    { numRuns: 400 },
  );
});
