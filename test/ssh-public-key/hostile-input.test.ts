// Properties over hostile input (fast-check): only SshKeyError comes out, and anything accepted agrees
// with ssh-keygen on size and fingerprint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { fingerprintSha256, parseSshPublicKey, SshKeyError, type ParsedSshKey } from '../../src/crypto/ssh-public-key.ts';
import { needsSshKeygen, lineOf, keygenFingerprints, keygenOne, OUR_TYPE_NAMES, dir, keys, skLines, parts, useGeneratedKeys } from './helpers.ts';

useGeneratedKeys();

function parseOrRefuse(input: string): ParsedSshKey | SshKeyError {
  try {
    return parseSshPublicKey(input);
  } catch (error) {
    if (error instanceof SshKeyError) return error;
    throw error;
  }
}

const BASE64_CHAR = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');
const ANY_CHAR = fc.oneof(
  { weight: 6, arbitrary: BASE64_CHAR },
  { weight: 1, arbitrary: fc.constantFrom(' ', '\t', '\n', '=', '-', '_', '\u0000', 'é', '"') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);

type Mutation =
  | { kind: 'replace'; at: number; char: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'truncate'; at: number }
  | { kind: 'duplicate'; from: number; length: number; at: number }
  | { kind: 'blob-byte'; at: number; value: number }
  | { kind: 'blob-cut'; at: number; length: number }
  | { kind: 'blob-insert'; at: number; bytes: Uint8Array };

const MUTATION: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), char: ANY_CHAR }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ unit: ANY_CHAR, minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), from: fc.nat(), length: fc.integer({ min: 1, max: 40 }), at: fc.nat() }),
  fc.record({ kind: fc.constant('blob-byte' as const), at: fc.nat(), value: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant('blob-cut' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('blob-insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);

/** Applies a mutation to `<type> <base64>`; blob-level ones re-encode canonically to get past base64. */
function mutate(keyPart: string, m: Mutation): string {
  const at = (n: number, length: number) => n % (length + 1);
  const s = keyPart;
  switch (m.kind) {
    case 'replace': {
      const i = at(m.at, s.length - 1);
      return s.slice(0, i) + m.char + s.slice(i + 1);
    }
    case 'delete': {
      const i = at(m.at, s.length);
      return s.slice(0, i) + s.slice(i + m.length);
    }
    case 'insert': {
      const i = at(m.at, s.length);
      return s.slice(0, i) + m.text + s.slice(i);
    }
    case 'truncate':
      return s.slice(0, at(m.at, s.length));
    case 'duplicate': {
      const from = at(m.from, s.length);
      const i = at(m.at, s.length);
      return s.slice(0, i) + s.slice(from, from + m.length) + s.slice(i);
    }
    default: {
      if (!/^[^ ]+ [^ ]+$/.test(s)) return s;
      const { type, blob } = parts(s);
      const i = at(m.at, blob.length);
      let changed: Buffer;
      if (m.kind === 'blob-byte') {
        changed = Buffer.from(blob);
        if (i < changed.length) changed[i] = m.value;
      } else if (m.kind === 'blob-cut') {
        changed = Buffer.concat([blob.subarray(0, i), blob.subarray(i + m.length)]);
      } else {
        changed = Buffer.concat([blob.subarray(0, i), m.bytes, blob.subarray(i)]);
      }
      return lineOf(type, changed);
    }
  }
}

function validKeyParts(): string[] {
  return [...[...keys.values()].map((k) => k.line), ...skLines].map((l) => l.trim().split(' ').slice(0, 2).join(' '));
}

test('random strings are refused with SshKeyError and nothing else', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.string({ unit: ANY_CHAR, maxLength: 300 }),
        fc.tuple(fc.constantFrom(...OUR_TYPE_NAMES, 'ssh-foo', 'no-pty'), fc.base64String({ maxLength: 200 }), fc.string()).map(([type, base64, comment]) => `${type} ${base64} ${comment}`),
      ),
      (input) => {
        parseOrRefuse(input);
      },
    ),
    { numRuns: 2000 },
  );
});

test('mutated key lines: only SshKeyError, and anything accepted is self-consistent', needsSshKeygen, () => {
  const valid = validKeyParts();
  fc.assert(
    fc.property(fc.constantFrom(...valid), fc.array(MUTATION, { minLength: 1, maxLength: 3 }), fc.string(), (line, mutations, comment) => {
      const input = `${mutations.reduce(mutate, line)} ${comment}`;
      const result = parseOrRefuse(input);
      if (result instanceof SshKeyError) return;
      const again = parseSshPublicKey(result.key);
      assert.equal(again.fingerprintSha256, result.fingerprintSha256);
      assert.equal(result.fingerprintSha256, fingerprintSha256(result.blob));
    }),
    { numRuns: 3000 },
  );
});

test('mutated key lines we accept, ssh-keygen accepts with the same size and fingerprint (batch)', needsSshKeygen, async (t) => {
  const valid = validKeyParts();
  const samples = fc.sample(fc.tuple(fc.constantFrom(...valid), fc.array(MUTATION, { minLength: 1, maxLength: 2 })), 3000);
  const accepted = new Map<string, ParsedSshKey>();
  const fileLines = valid.map((l, i) => `${l} valid${i}`);
  samples.forEach(([line, mutations], i) => {
    const tag = `m${i}`;
    const input = `${mutations.reduce(mutate, line)} ${tag}`;
    const result = parseOrRefuse(input);
    if (result instanceof SshKeyError) return;
    accepted.set(tag, result);
    fileLines.push(input);
  });
  assert.ok(accepted.size > 0, 'some mutants should still be valid keys');
  t.diagnostic(`${accepted.size} of ${samples.length} mutants accepted`);
  const path = join(dir, 'mutants.pub');
  await writeFile(path, `${fileLines.join('\n')}\n`);
  const seen = new Map((await keygenFingerprints(path, 'sha256')).map((l) => [l.comment.split(' ').at(-1)!, l]));
  for (const [tag, key] of accepted) {
    const oracle = seen.get(tag);
    assert.ok(oracle, `ssh-keygen refused ${key.key} which we accepted`);
    assert.equal(oracle.fingerprint, key.fingerprintSha256, key.key);
    assert.equal(oracle.bits, key.bits, key.key);
  }
});

test('mutated key lines we accept, ssh-keygen accepts with the same size and fingerprint (shrinking)', needsSshKeygen, async () => {
  const valid = validKeyParts();
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...valid), fc.array(MUTATION, { minLength: 1, maxLength: 3 }), async (line, mutations) => {
      const input = `${mutations.reduce(mutate, line)} mutant`;
      const result = parseOrRefuse(input);
      if (result instanceof SshKeyError) return;
      const oracle = await keygenOne(dir, input);
      assert.ok(oracle, 'ssh-keygen refused a key we accepted');
      assert.equal(oracle.fingerprint, result.fingerprintSha256);
      assert.equal(oracle.bits, result.bits);
    }),
    { numRuns: 200 },
  );
});
