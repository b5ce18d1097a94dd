// Every way a key line is refused: damaged, mislabelled, with options, several keys, private keys,
// other formats, refused types, and hostile input; each with its code and without echoing secrets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createECDH, generateKeyPairSync, randomBytes } from 'node:crypto';
import { ACCEPTED_KEY_TYPES } from '../../src/crypto/ssh-public-key.ts';
import { run, SSH_KEYGEN, needsSshKeygen, sshString, blobOf, mpint, lineOf, refusal, assertRefused, keys, privateKeys, parts, useGeneratedKeys } from './helpers.ts';

useGeneratedKeys();

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
  const body = privateKeys[0]!.text
    .split('\n')
    .filter((l) => !l.startsWith('-----'))
    .join('');
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
  assertRefused(lineOf('ssh-ed25519-cert-v01@openssh.com', blobOf('ssh-ed25519-cert-v01@openssh.com', randomBytes(64))), 'key_type_refused');
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
