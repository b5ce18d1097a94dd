import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { EnvelopeError, masterKeyFrom, open, rewrap, seal, sealedWith, type EnvelopeErrorCode, type KeyRing } from '../src/crypto/envelope.ts';

const oldKey = masterKeyFrom(randomBytes(32));
const newKey = masterKeyFrom(randomBytes(32));
const oldRing: KeyRing = { current: oldKey, previous: [] };
const rotatingRing: KeyRing = { current: newKey, previous: [oldKey] };
const newOnlyRing: KeyRing = { current: newKey, previous: [] };
const AAD = 'deploy_keys:42:private_key';
const SECRET = 'THE-RECOGNISABLE-SECRET-0123456789';

function rejects(fn: () => unknown, code: EnvelopeErrorCode): void {
  assert.throws(fn, (err: unknown) => err instanceof EnvelopeError && err.code === code);
}

test('masterKeyFrom: id is the first 16 hex characters of SHA-256 of the key', () => {
  const key = randomBytes(32);
  assert.equal(masterKeyFrom(key).id, hash('sha256', key, 'hex').slice(0, 16));
  assert.throws(() => masterKeyFrom(randomBytes(16)), RangeError);
});

test('seal/open round trip, for strings and buffers, empty included', () => {
  assert.equal(open(oldRing, seal(oldRing, SECRET, AAD), AAD).toString('utf8'), SECRET);
  const bytes = randomBytes(1000);
  assert.deepEqual(open(oldRing, seal(oldRing, bytes, AAD), AAD), bytes);
  assert.equal(open(oldRing, seal(oldRing, '', AAD), AAD).length, 0);
});

test('the sealed form is versioned, names its master key, and is compact ASCII', () => {
  const sealed = seal(oldRing, SECRET, AAD);
  assert.match(sealed, /^v1\.[0-9a-f]{16}\.[A-Za-z0-9_-]{80}\.[A-Za-z0-9_-]+$/);
  assert.equal(sealedWith(sealed), oldKey.id);
});

test('the sealed string never contains the plaintext, and two seals of it differ', () => {
  const a = seal(oldRing, SECRET, AAD);
  const b = seal(oldRing, SECRET, AAD);
  assert.notEqual(a, b);
  for (const sealed of [a, b]) {
    assert.ok(!sealed.includes(SECRET));
    for (const encoding of ['base64', 'base64url', 'hex'] as const) {
      assert.ok(!sealed.includes(Buffer.from(SECRET).toString(encoding).slice(4, 24)));
    }
  }
  // Different data keys and nonces: neither the wrapped key nor the ciphertext repeats.
  assert.notEqual(a.split('.')[2], b.split('.')[2]);
  assert.notEqual(a.split('.')[3], b.split('.')[3]);
});

test('every single-bit flip anywhere in the sealed string is refused', () => {
  const sealed = seal(oldRing, SECRET, AAD);
  let flips = 0;
  for (let i = 0; i < sealed.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const flipped = sealed.slice(0, i) + String.fromCharCode(sealed.charCodeAt(i) ^ (1 << bit)) + sealed.slice(i + 1);
      assert.throws(() => open(oldRing, flipped, AAD), EnvelopeError, `bit ${bit} of character ${i}`);
      flips++;
    }
  }
  assert.equal(flips, sealed.length * 8);
});

test('a flip inside the ciphertext or the wrapped key reads as tampered', () => {
  const sealed = seal(oldRing, SECRET, AAD);
  const [v, id, wrapped, data] = sealed.split('.') as [string, string, string, string];
  const flip = (s: string, at: number): string => {
    const bytes = Buffer.from(s, 'base64url');
    bytes[at]! ^= 1;
    return bytes.toString('base64url');
  };
  rejects(() => open(oldRing, [v, id, flip(wrapped, 20), data].join('.'), AAD), 'tampered');
  rejects(() => open(oldRing, [v, id, wrapped, flip(data, 20)].join('.'), AAD), 'tampered');
  rejects(() => open(oldRing, [v, id, wrapped, flip(data, 0)].join('.'), AAD), 'tampered');
});

test('a different aad (the record moved to another row) is tampered', () => {
  const sealed = seal(oldRing, SECRET, AAD);
  rejects(() => open(oldRing, sealed, 'deploy_keys:43:private_key'), 'tampered');
  rejects(() => open(oldRing, sealed, ''), 'tampered');
});

test('swapping the data part between records is tampered', () => {
  const a = seal(oldRing, 'one', AAD).split('.');
  const b = seal(oldRing, 'two', AAD).split('.');
  rejects(() => open(oldRing, [...a.slice(0, 3), b[3]].join('.'), AAD), 'tampered');
});

test('relabelling a record with another configured key id is tampered, not unknown', () => {
  const sealed = seal(rotatingRing, SECRET, AAD).replace(newKey.id, oldKey.id);
  rejects(() => open(rotatingRing, sealed, AAD), 'tampered');
});

test('an unknown master key is unknown_master_key, and the message names only its id', () => {
  const sealed = seal(newOnlyRing, SECRET, AAD);
  assert.throws(
    () => open(oldRing, sealed, AAD),
    (err: unknown) => {
      assert.ok(err instanceof EnvelopeError);
      assert.equal(err.code, 'unknown_master_key');
      assert.ok(err.message.includes(newKey.id));
      assert.ok(!err.message.includes(SECRET));
      for (const key of [oldKey, newKey]) {
        for (const encoding of ['hex', 'base64', 'base64url'] as const) assert.ok(!err.message.includes(key.key.toString(encoding).slice(0, 12)));
      }
      return true;
    },
  );
});

test('malformed inputs', () => {
  const sealed = seal(oldRing, SECRET, AAD);
  for (const bad of ['', 'v1', 'v2' + sealed.slice(2), sealed + '.', sealed.replace(/\.[^.]*$/, '.AAAA'), sealed + '=', sealed.toUpperCase()]) {
    rejects(() => open(oldRing, bad, AAD), 'malformed');
  }
  rejects(() => sealedWith('nonsense'), 'malformed');
});

test('rewrap moves a record to the current key without touching its data part', () => {
  const sealed = seal(oldRing, SECRET, AAD);
  const rewrapped = rewrap(rotatingRing, sealed, AAD);
  assert.equal(sealedWith(rewrapped), newKey.id);
  assert.equal(rewrapped.split('.')[3], sealed.split('.')[3]);
  assert.notEqual(rewrapped.split('.')[2], sealed.split('.')[2]);
  assert.equal(open(newOnlyRing, rewrapped, AAD).toString(), SECRET);
  rejects(() => open(oldRing, rewrapped, AAD), 'unknown_master_key');
  rejects(() => open(newOnlyRing, sealed, AAD), 'unknown_master_key');
  // Already under current: unchanged.
  assert.equal(rewrap(rotatingRing, rewrapped, AAD), rewrapped);
});

test('rewrap refuses a damaged record or a wrong aad instead of carrying it forward', () => {
  const sealed = seal(oldRing, SECRET, AAD);
  rejects(() => rewrap(rotatingRing, sealed, 'other'), 'tampered');
  const parts = sealed.split('.');
  const data = Buffer.from(parts[3]!, 'base64url');
  data[data.length - 1]! ^= 1;
  rejects(() => rewrap(rotatingRing, [...parts.slice(0, 3), data.toString('base64url')].join('.'), AAD), 'tampered');
  rejects(() => rewrap(newOnlyRing, sealed, AAD), 'unknown_master_key');
});

test('aad or plaintext strings that UTF-8 cannot represent are refused rather than conflated', () => {
  assert.throws(() => seal(oldRing, SECRET, 'row\ud800'), TypeError);
  assert.throws(() => seal(oldRing, '\udc00', AAD), TypeError);
});

test('property: open(seal(x, aad), aad) = x; a different aad fails', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ maxLength: 40 }), fc.boolean(), (plaintext, aad, other, useOld) => {
      const sealed = seal(useOld ? oldRing : rotatingRing, Buffer.from(plaintext), aad);
      assert.deepEqual(open(rotatingRing, sealed, aad), Buffer.from(plaintext));
      if (other !== aad) rejects(() => open(rotatingRing, sealed, other), 'tampered');
    }),
    { numRuns: 300 },
  );
});
