// ssh-keygen is the oracle: every key it makes here must parse with its type, size and fingerprints,
// and the keys we refuse are ones ssh-keygen reads (so the refusal is ours, not a parse failure).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ECDH } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSshPublicKey } from '../../src/crypto/ssh-public-key.ts';
import {
  hasSshKeygen,
  needsSshKeygen,
  SK_FIXTURE,
  blobOf,
  lineOf,
  keygenFingerprints,
  keygenOne,
  assertRefused,
  dir,
  keys,
  rsa1024Line,
  dssLine,
  dssFromKeygen,
  skLines,
  CURVES,
  pointAtOrAfter,
  useGeneratedKeys,
} from './helpers.ts';

useGeneratedKeys();

test('every key ssh-keygen makes parses with its type, size and fingerprints', needsSshKeygen, async () => {
  for (const key of keys.values()) {
    const [sha, md5] = await Promise.all([keygenFingerprints(`${key.file}.pub`, 'sha256'), keygenFingerprints(`${key.file}.pub`, 'md5')]);
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
