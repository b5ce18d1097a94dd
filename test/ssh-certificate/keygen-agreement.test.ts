// OpenSSH is the oracle: ssh-keygen -L prints every field of the certificates we sign as we meant it,
// for every subject key type and CA type, and ssh-keygen -s signing the same input yields the same
// listing (only nonce and signature differ, which -L does not print) and reads back through our parser.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CERT_FOREVER, DEFAULT_USER_EXTENSIONS, signSshCertificate, type SshCertificateFields } from '../../src/crypto/ssh-certificate.ts';
import { parseSshCertificate } from '../../src/crypto/ssh-certificate-parse.ts';
import { cas, caNamed, expectedListing, keygenList, keygenSign, needsSshKeygen, subjectNamed, subjects, useKeys } from './helpers.ts';

useKeys();

const NOW = 1_790_000_000n;

// Contract §10's two shapes: a person's certificate, and a runner's for one job.
const userFields = (login: string) => ({
  kind: 'user' as const,
  serial: 42n,
  keyId: `user:${login}`,
  principals: [login],
  validAfter: NOW - 60n,
  validBefore: NOW + 8n * 3600n,
  extensions: DEFAULT_USER_EXTENSIONS,
});
const runnerFields = {
  kind: 'user' as const,
  serial: 43n,
  keyId: 'runner:17:gh/acme/api',
  principals: ['deploy:gh/acme/api'],
  validAfter: NOW - 60n,
  validBefore: NOW + 600n,
};

test('ssh-keygen -L prints every field of our certificates, for every subject key type and CA', needsSshKeygen, async () => {
  assert.equal(subjects.length, 7, 'five ssh-keygen types and two sk- fixtures');
  for (const subject of subjects) {
    for (const ca of cas) {
      for (const fields of [userFields('alice'), runnerFields]) {
        const cert = signSshCertificate(subject.key, ca.privateKey, fields);
        assert.equal(await keygenList(cert.certificate), expectedListing(subject, ca, fields), `${subject.name} signed by ${ca.name}`);
        assert.equal(cert.caFingerprintSha256, ca.publicKey.fingerprintSha256);
        assert.equal(cert.keyFingerprintSha256, subject.key.fingerprintSha256);
        assert.equal(cert.signatureAlgorithm, ca.algorithm);
      }
    }
  }
});

test('options, host certificates and the edges of serial and validity print as meant', needsSshKeygen, async () => {
  const subject = subjectNamed('ed25519');
  const ca = caNamed('ed25519');
  const cases: (SshCertificateFields & { serial: bigint; validAfter: bigint; validBefore: bigint })[] = [
    {
      kind: 'user',
      serial: 2n ** 64n - 1n,
      keyId: 'key "id" with spaces',
      principals: ['alice', 'bob', 'deploy:gh/acme/api'],
      validAfter: 0n,
      validBefore: CERT_FOREVER,
      criticalOptions: new Map([
        ['source-address', '192.0.2.0/24,2001:db8::/32,10.1.2.3'],
        ['force-command', 'keysmith-git-shell "cert-42"'],
        ['verify-required', null],
        ['zz-limit@keysmith.dev', 'value'],
      ]),
      extensions: new Map<string, string | null>([...DEFAULT_USER_EXTENSIONS, ['no-touch-required', null], ['login@keysmith.dev', 'alice'], ['flag@keysmith.dev', null]]),
    },
    { kind: 'user', serial: 0n, keyId: 'k', principals: ['a'], validAfter: 0n, validBefore: NOW },
    { kind: 'user', serial: 1n, keyId: 'k', principals: ['a'], validAfter: NOW, validBefore: CERT_FOREVER },
    {
      kind: 'host',
      serial: 7n,
      keyId: 'host:git.example.com',
      principals: ['git.example.com', '192.0.2.7'],
      validAfter: NOW,
      validBefore: NOW + 1n,
      extensions: new Map([['note@keysmith.dev', 'x']]),
    },
  ];
  for (const fields of cases) {
    const ours = signSshCertificate(subject.key, ca.privateKey, fields);
    const listing = await keygenList(ours.certificate);
    assert.equal(listing, expectedListing(subject, ca, fields), fields.keyId);
    assert.equal(await keygenList(await keygenSign(subject, ca, fields)), listing, `ssh-keygen -s agrees: ${fields.keyId}`);
  }
});

test('ssh-keygen -s signs the same input into the same listing, and our parser reads its certificate exactly', needsSshKeygen, async () => {
  for (const ca of cas) {
    for (const subject of subjects) {
      const fields = { ...userFields('carol'), serial: 9_007_199_254_740_993n };
      const theirs = await keygenSign(subject, ca, fields);
      const ours = signSshCertificate(subject.key, ca.privateKey, fields);
      assert.equal(await keygenList(theirs), await keygenList(ours.certificate), `${subject.name} by ${ca.name}`);

      const parsed = parseSshCertificate(theirs);
      assert.equal(parsed.certType, ours.certType);
      assert.equal(parsed.kind, 'user');
      assert.equal(parsed.key.key, subject.key.key);
      assert.equal(parsed.serial, fields.serial);
      assert.equal(parsed.keyId, fields.keyId);
      assert.deepEqual(parsed.principals, fields.principals);
      assert.equal(parsed.validAfter, fields.validAfter);
      assert.equal(parsed.validBefore, fields.validBefore);
      assert.deepEqual([...parsed.criticalOptions], []);
      assert.deepEqual([...parsed.extensions], [...DEFAULT_USER_EXTENSIONS].sort());
      assert.equal(parsed.signatureKey.key, ca.publicKey.key);
      assert.equal(parsed.signatureAlgorithm, ca.algorithm);
      assert.equal(parsed.nonce.length, 32);
      // ssh-keygen -s copies the key's comment onto the certificate line.
      assert.equal(parsed.comment, subject.key.comment);
    }
  }
});

test('the extension values and the whole blob but nonce and signature equal ssh-keygen -s byte for byte', needsSshKeygen, async () => {
  const subject = subjectNamed('ecdsa384');
  const ca = caNamed('ed25519');
  const fields = {
    ...userFields('dave'),
    criticalOptions: new Map([
      ['force-command', 'echo hi'],
      ['source-address', '10.0.0.0/8'],
    ]),
    extensions: new Map<string, string | null>([...DEFAULT_USER_EXTENSIONS, ['a@keysmith.dev', 'v']]),
  };
  const theirs = parseSshCertificate(await keygenSign(subject, ca, fields)).blob;
  const ours = signSshCertificate(subject.key, ca.privateKey, fields).blob;
  // type string, then the 32-byte nonce (4 + 32 bytes) differ; the signature is the final string.
  const typeLength = 4 + ours.readUInt32BE(0);
  const signatureStart = (blob: Buffer) => blob.length - (4 + 4 + 'ssh-ed25519'.length + 4 + 64);
  assert.deepEqual(ours.subarray(0, typeLength), theirs.subarray(0, typeLength));
  assert.deepEqual(ours.subarray(typeLength + 36, signatureStart(ours)), theirs.subarray(typeLength + 36, signatureStart(theirs)));
});

test('our certificates read back through our own parser with every field', () => {
  for (const subject of subjects) {
    for (const ca of cas) {
      const fields = { ...userFields('erin'), comment: 'erin@laptop', criticalOptions: new Map([['force-command', 'true']]) };
      const cert = signSshCertificate(subject.key, ca.privateKey, fields);
      const parsed = parseSshCertificate(cert.certificate);
      assert.deepEqual(
        { key: parsed.key.key, serial: parsed.serial, keyId: parsed.keyId, principals: parsed.principals, validAfter: parsed.validAfter, validBefore: parsed.validBefore },
        { key: subject.key.key, serial: 42n, keyId: 'user:erin', principals: ['erin'], validAfter: fields.validAfter, validBefore: fields.validBefore },
      );
      assert.deepEqual([...parsed.criticalOptions], [['force-command', 'true']]);
      assert.deepEqual(new Set(parsed.extensions.keys()), new Set(DEFAULT_USER_EXTENSIONS.keys()));
      assert.equal(parsed.signatureKey.fingerprintSha256, ca.publicKey.fingerprintSha256);
      assert.equal(parsed.comment, 'erin@laptop');
      assert.deepEqual(parsed.blob, cert.blob);
    }
  }
});
