// What a pasted key line may look like and still be accepted, and the fingerprint helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fingerprintMd5, fingerprintSha256, parseSshPublicKey } from '../../src/crypto/ssh-public-key.ts';
import { needsSshKeygen, keys, useGeneratedKeys } from './helpers.ts';

useGeneratedKeys();

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
