// The low-level pieces: canonical base64, mpints, and the on-curve check (against OpenSSL).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ECDH } from 'node:crypto';
import fc from 'fast-check';
import { checkEcPoint, decodeCanonicalBase64, positiveMpintBits, type NistCurve } from '../../src/crypto/ssh-wire.ts';
import { CURVES, pointAtOrAfter } from './helpers.ts';

test('canonical base64: round-trips bytes and accepts only what re-encodes identically', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), (bytes) => {
      const text = Buffer.from(bytes).toString('base64');
      assert.deepEqual(decodeCanonicalBase64(text), Buffer.from(bytes));
    }),
  );
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(...'AQgw/+=- \n_a'), maxLength: 24 }), (text) => {
      const bytes = decodeCanonicalBase64(text);
      if (bytes === undefined) return;
      assert.equal(bytes.toString('base64'), text);
      assert.match(text, /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)$/);
    }),
  );
});

test('mpints: only minimal positive encodings have a bit length', () => {
  assert.equal(positiveMpintBits(Buffer.from([0x01, 0x00, 0x01])), 17);
  assert.equal(positiveMpintBits(Buffer.from([0x00, 0x80])), 8);
  assert.equal(positiveMpintBits(Buffer.from([0x00, 0x7f])), -1);
  assert.equal(positiveMpintBits(Buffer.from([0x80])), -1);
  assert.equal(positiveMpintBits(Buffer.from([0x00])), -1);
  assert.equal(positiveMpintBits(Buffer.alloc(0)), -1);
});

test('the BigInt on-curve check agrees with OpenSSL on random and nearly-right points', () => {
  fc.assert(
    fc.property(fc.constantFrom<NistCurve>('nistp256', 'nistp384', 'nistp521'), fc.uint8Array({ minLength: 66, maxLength: 66 }), fc.nat(), (name, seed, flip) => {
      const c = CURVES[name];
      const x = BigInt(`0x${Buffer.from(seed).toString('hex')}`) % c.p;
      const onCurve = pointAtOrAfter(x, c.p, c.b, c.bytes);
      const nearly = Buffer.from(onCurve);
      const at = 1 + (flip % (nearly.length - 1));
      nearly[at]! ^= 1 << (flip % 8);
      for (const point of [onCurve, nearly]) {
        let openssl = true;
        try {
          ECDH.convertKey(point, c.openssl);
        } catch {
          openssl = false;
        }
        // OpenSSH's extra range checks only bite with negligible probability on random points.
        assert.equal(checkEcPoint(name, point) === undefined, openssl);
      }
    }),
    { numRuns: 150 },
  );
});
