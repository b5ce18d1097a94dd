import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BASE62 } from '../src/crypto/random.ts';
import { mintToken, parseToken } from '../src/crypto/token.ts';
import { sha256Hex } from '../src/crypto/random.ts';

test('a minted token has the prefix, 30 random and 6 checksum base62 characters, and parses back', () => {
  for (const kind of ['user', 'service'] as const) {
    const { token, hash, start } = mintToken(kind);
    assert.match(token, kind === 'user' ? /^ksu_[0-9A-Za-z]{36}$/ : /^kss_[0-9A-Za-z]{36}$/);
    assert.equal(start, token.slice(0, 8));
    assert.equal(hash, sha256Hex(token));
    assert.deepEqual(parseToken(token), { ok: true, kind, hash });
  }
});

test('tokens do not repeat', () => {
  const seen = new Set(Array.from({ length: 2000 }, () => mintToken('user').token));
  assert.equal(seen.size, 2000);
});

test('any single-character change is caught by the checksum or the shape check', () => {
  const { token } = mintToken('service');
  fc.assert(
    fc.property(fc.integer({ min: 4, max: token.length - 1 }), fc.constantFrom(...BASE62), (index, char) => {
      fc.pre(token[index] !== char);
      const changed = token.slice(0, index) + char + token.slice(index + 1);
      const parsed = parseToken(changed);
      assert.equal(parsed.ok, false);
      if (!parsed.ok) assert.equal(parsed.reason, 'bad_checksum');
    }),
    { numRuns: 2000 },
  );
});

test('shapes that are not Keysmith tokens are refused as such', () => {
  for (const bad of ['', 'ksu_', 'ghp_' + 'a'.repeat(36), 'ksx_' + 'a'.repeat(36), mintToken('user').token + 'x', mintToken('user').token.slice(0, -1), 'ksu_' + '!'.repeat(36)]) {
    assert.deepEqual(parseToken(bad), { ok: false, reason: 'not_a_keysmith_token' }, bad);
  }
});
