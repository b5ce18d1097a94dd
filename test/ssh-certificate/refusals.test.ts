// Bad input: fields sshd would refuse, or that would grant more than asked, are refused before
// anything is signed, each with one sentence and code validation_failed; damaged, forged or SHA-1
// certificates are refused by the parser with key_malformed, and nothing echoes key material.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile, readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { CERT_FOREVER, MAX_PRINCIPALS, SshCertificateError, signSshCertificate, type SshCertificateFields } from '../../src/crypto/ssh-certificate.ts';
import { parseSshCertificate } from '../../src/crypto/ssh-certificate-parse.ts';
import { sshSigningKey } from '../../src/crypto/ssh-signature.ts';
import { caNamed, keygenList, needsSshKeygen, run, SSH_KEYGEN, subjectNamed, subjects, tempFile, useKeys } from './helpers.ts';

useKeys();

const base: SshCertificateFields = { kind: 'user', serial: 5n, keyId: 'user:alice', principals: ['alice'], validAfter: 1_790_000_000n, validBefore: 1_790_003_600n };

function refusal(run: () => unknown, code: 'validation_failed' | 'key_malformed'): SshCertificateError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof SshCertificateError, `an SshCertificateError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, /^[A-Z][^\n]*[.]$/, 'one sentence');
    assert.doesNotMatch(error.message, /[.;]\s+[A-Z][a-z]+ /, 'no second sentence');
    return error;
  }
  assert.fail('expected a refusal');
}

function refuseFields(change: Partial<SshCertificateFields> | Record<string, unknown>, pattern: RegExp): void {
  const subject = subjects[0]!;
  const error = refusal(() => signSshCertificate(subject.key, caNamed('ed25519').privateKey, { ...base, ...change } as SshCertificateFields), 'validation_failed');
  assert.match(error.message, pattern);
  assert.ok(!error.message.includes(subject.key.key.split(' ')[1]!.slice(0, 20)), 'no key material');
}

test('principal lists: none (valid for every user), too many, empty, duplicated, spaced or oversized', () => {
  refuseFields({ principals: [] }, /at least one principal.*every user/);
  refuseFields({ principals: Array.from({ length: MAX_PRINCIPALS + 1 }, (_, i) => `p${i}`) }, /at most 256 principals.*257/);
  refuseFields({ principals: [''] }, /must not be empty/);
  refuseFields({ principals: ['alice', 'alice'] }, /only once/);
  for (const bad of ['al ice', 'a,b', 'a\nb', 'a\tb', 'a\u0000b', 'a\u0085b']) refuseFields({ principals: [bad] }, /spaces, commas or control characters|control characters/);
  refuseFields({ principals: ['x'.repeat(256)] }, /longer than 255 bytes/);
  refuseFields({ principals: ['é'.repeat(128)] }, /longer than 255 bytes/);
  refuseFields({ principals: ['\ud800'] }, /not valid Unicode/);
  refuseFields({ principals: 'alice' as unknown as string[] }, /list of names/);
});

test('key ids: empty, oversized or multi-line', () => {
  refuseFields({ keyId: '' }, /must not be empty/);
  refuseFields({ keyId: 'k'.repeat(1025) }, /longer than 1024 bytes/);
  refuseFields({ keyId: 'user:alice\nuser:root' }, /control characters/);
  refuseFields({ keyId: 7 as unknown as string }, /must be text/);
});

test('validity: the start must come before the end, and both fit uint64', () => {
  refuseFields({ validAfter: 10n, validBefore: 10n }, /valid after must be earlier than valid before/);
  refuseFields({ validAfter: 11n, validBefore: 10n }, /valid after must be earlier than valid before/);
  refuseFields({ validAfter: 0n, validBefore: CERT_FOREVER + 1n }, /between 0 and 2\^64-1/);
  refuseFields({ validAfter: -1 }, /between 0 and 2\^64-1/);
  refuseFields({ validAfter: 1.5 }, /whole number/);
  refuseFields({ validBefore: '2030' as unknown as number }, /number or a bigint/);
});

test('serials: within uint64, and numbers only where exact', () => {
  refuseFields({ serial: -1n }, /between 0 and 2\^64-1/);
  refuseFields({ serial: 2n ** 64n }, /between 0 and 2\^64-1/);
  refuseFields({ serial: 2 ** 60 }, /whole number.*bigint/);
  refuseFields({ kind: 'robot' }, /user or host/);
});

test('options: unknown names, flags with values, values missing, bad source-address, user options on a host certificate', () => {
  refuseFields({ criticalOptions: new Map([['no-pty', null]]) }, /Unknown critical option no-pty/);
  refuseFields({ extensions: new Map([['permit-everything', null]]) }, /Unknown extension permit-everything/);
  refuseFields({ extensions: new Map([['permit-pty', 'yes']]) }, /flag and takes no value/);
  refuseFields({ criticalOptions: new Map([['verify-required', '']]) }, /flag and takes no value/);
  refuseFields({ criticalOptions: new Map([['force-command', null]]) }, /needs a value/);
  refuseFields({ criticalOptions: new Map([['force-command', 'echo\nrm -rf /']]) }, /control characters/);
  refuseFields({ criticalOptions: new Map([['source-address', '10.1.2.3/8']]) }, /bits set past its \/8 prefix/);
  refuseFields({ criticalOptions: new Map([['source-address', '']]) }, /needs a value/);
  for (const bad of ['example.com', '10.0.0.0/33', '2001:db8::/129', 'fe80::1%eth0', '10.0.0.0/8/8', '10.0.0.1,', '*']) {
    refuseFields({ criticalOptions: new Map([['source-address', bad]]) }, /source-address must be a comma-separated list/);
  }
  refuseFields({ criticalOptions: new Map([['bad name@x', 'v']]) }, /printable ASCII characters without spaces/);
  refuseFields({ criticalOptions: { 'force-command': 'x' } as unknown as Map<string, string> }, /must be a Map/);
  refuseFields({ kind: 'host', extensions: new Map([['permit-pty', null]]) }, /for user certificates/);
  refuseFields({ extensions: new Map(Array.from({ length: 65 }, (_, i) => [`e${i}@x`, null])) }, /at most 64 extensions/);
});

test('a CA key of another kind is a programming error, not a certificate', () => {
  const subject = subjects[0]!;
  assert.throws(() => signSshCertificate(subject.key, generateKeyPairSync('x25519').privateKey, base), TypeError);
  assert.throws(() => signSshCertificate(subject.key, generateKeyPairSync('ed25519').publicKey, base), TypeError);
});

test('the limits are where OpenSSH reads: 256 principals of 255 bytes and a 1024-byte key id', needsSshKeygen, async () => {
  const principals = Array.from({ length: MAX_PRINCIPALS }, (_, i) => `${String(i).padStart(3, '0')}${'p'.repeat(252)}`);
  const cert = signSshCertificate(subjectNamed('ed25519').key, caNamed('ed25519').privateKey, { ...base, principals, keyId: 'k'.repeat(1024) });
  const listing = await keygenList(cert.certificate);
  assert.equal(listing.split('\n').filter((l) => /^ {16}\d{3}p{252}$/.test(l)).length, 256);
  assert.ok(listing.includes(`Key ID: "${'k'.repeat(1024)}"`));
  assert.equal(parseSshCertificate(cert.certificate).principals.length, 256);
});

// --- the parser ---------------------------------------------------------------------------------

function resign(blob: Buffer, change: (signed: Buffer) => Buffer): string {
  const ca = caNamed('ed25519');
  const signatureLength = 4 + blob.readUInt32BE(blob.length - (4 + 4 + 11 + 4 + 64));
  const signed = change(Buffer.from(blob.subarray(0, blob.length - signatureLength)));
  const sig = sshSigningKey(ca.privateKey).sign(signed);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(sig.length);
  return `ssh-ed25519-cert-v01@openssh.com ${Buffer.concat([signed, length, sig]).toString('base64')}`;
}

test('the parser refuses damaged, forged, reordered and non-certificate input, without quoting it', needsSshKeygen, () => {
  const subject = subjectNamed('ed25519');
  const ca = caNamed('ed25519');
  const cert = signSshCertificate(subject.key, ca.privateKey, {
    ...base,
    extensions: new Map([
      ['ab@k', null],
      ['ac@k', null],
    ]),
  });
  const [type, base64] = cert.certificate.split(' ') as [string, string];
  const forged = Buffer.from(cert.blob);
  forged[forged.indexOf('user:alice') + 5] = 'r'.charCodeAt(0);
  const cases: [string, RegExp][] = [
    [subject.key.key, /not an OpenSSH certificate/],
    [`${type} ${base64.slice(0, -8)}`, /base64 is damaged|cut short/],
    [`${type} ${cert.blob.subarray(0, cert.blob.length - 10).toString('base64')}`, /cut short/],
    [`${type} ${Buffer.concat([cert.blob, Buffer.alloc(3)]).toString('base64')}`, /extra bytes/],
    [`${type} ${forged.toString('base64')}`, /signature does not verify/],
    [`ecdsa-sha2-nistp256-cert-v01@openssh.com ${base64}`, /does not match its type/],
    [resign(cert.blob, (b) => Buffer.from(b.toString('latin1').replace('ab@k', 'ad@k'), 'latin1')), /not sorted by name, or repeat one/],
    [resign(cert.blob, (b) => Buffer.from(b.toString('latin1').replace('ab@k', 'ac@k'), 'latin1')), /not sorted by name, or repeat one/],
    [resign(cert.blob, (b) => Buffer.from(b.toString('latin1').replace('user:alice', 'user:al\0ce'), 'latin1')), /NUL byte/],
    [resign(cert.blob, (b) => Buffer.from(b.toString('latin1').replace('user:alice', 'user:al\xffce'), 'latin1')), /not valid UTF-8/],
    ['x'.repeat(300_000), /far too long/],
  ];
  for (const [input, pattern] of cases) {
    const error = refusal(() => parseSshCertificate(input), 'key_malformed');
    assert.match(error.message, pattern, input.slice(0, 60));
    assert.ok(!error.message.includes(base64.slice(40, 60)), 'does not quote the input');
  }
  // The re-signing helper itself makes certificates the parser accepts.
  assert.equal(parseSshCertificate(resign(cert.blob, (b) => b)).keyId, 'user:alice');
});

test('a certificate signed with SHA-1 RSA (ssh-rsa), which OpenSSH refuses, is refused', needsSshKeygen, async () => {
  const subject = subjectNamed('ed25519');
  const copy = tempFile('');
  await writeFile(`${copy}.pub`, `${subject.key.key}\n`);
  await run(SSH_KEYGEN, ['-q', '-s', caNamed('rsa').file, '-t', 'ssh-rsa', '-I', 'k', '-n', 'a', `${copy}.pub`]);
  const line = (await readFile(`${copy}-cert.pub`, 'utf8')).trim();
  assert.match(await keygenList(line), /\(using ssh-rsa\)/, 'ssh-keygen made a SHA-1 signature');
  assert.match(refusal(() => parseSshCertificate(line), 'key_malformed').message, /SHA-1 RSA/);
});
