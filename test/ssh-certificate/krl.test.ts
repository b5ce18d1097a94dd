// KRLs with OpenSSH as the oracle: ssh-keygen -Q says REVOKED for a certificate whose serial (or key
// id) we list and ok for the others; ssh-keygen -k building a KRL from the same revocations lists
// the same contents (-Q -l), and where its packing is the same as ours, the same bytes.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { signSshCertificate } from '../../src/crypto/ssh-certificate.ts';
import { SshCertificateError } from '../../src/crypto/ssh-certificate.ts';
import { encodeSshKrl, type KrlInput } from '../../src/crypto/ssh-krl.ts';
import { caNamed, cas, KEYGEN_ENV, needsSshKeygen, prng, run, SSH_KEYGEN, subjectNamed, subjects, tempFile, useKeys, type Ca } from './helpers.ts';

useKeys();

const U64_MAX = 2n ** 64n - 1n;

async function krlFile(input: KrlInput): Promise<string> {
  const file = tempFile('.krl');
  await writeFile(file, encodeSshKrl(input));
  return file;
}

function certificate(ca: Ca, serial: bigint, keyId = `user:s${serial}`): string {
  return signSshCertificate(subjectNamed('ed25519').key, ca.privateKey, { kind: 'user', serial, keyId, principals: ['alice'], validAfter: 0n, validBefore: 2_000_000_000n }).certificate;
}

/** `ssh-keygen -Q -f krl` on each certificate line: true when it says REVOKED. */
async function revoked(krl: string, lines: string[]): Promise<boolean[]> {
  const out: boolean[] = [];
  for (const line of lines) {
    const file = tempFile('-cert.pub');
    await writeFile(file, `${line}\n`);
    const result = await run(SSH_KEYGEN, ['-Q', '-f', krl, file]).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
    );
    assert.match(result.stdout, result.code === 0 ? /: ok\n$/ : /: REVOKED\n$/, `ssh-keygen -Q exit ${result.code}: ${result.stdout}`);
    out.push(result.code !== 0);
  }
  return out;
}

/** What ssh-keygen -Q -l prints for a KRL, without the line with its generation time. */
async function listing(krl: string): Promise<string> {
  const { stdout } = await run(SSH_KEYGEN, ['-Q', '-l', '-f', krl], { env: KEYGEN_ENV });
  return stdout
    .split('\n')
    .filter((l) => !l.startsWith('# Generated at'))
    .join('\n');
}

/** ssh-keygen -k -f ref.krl -s ca.pub -z <version> spec, for the same revocations. */
async function keygenKrl(ca: Ca, version: bigint, spec: string[]): Promise<string> {
  const specFile = tempFile('.spec');
  await writeFile(specFile, `${spec.join('\n')}\n`);
  const file = tempFile('.krl');
  await run(SSH_KEYGEN, ['-q', '-k', '-f', file, '-s', `${ca.file}.pub`, '-z', String(version), specFile]);
  return file;
}

test('ssh-keygen -Q reports a revoked serial as REVOKED and the others as ok, for every CA type', needsSshKeygen, async () => {
  for (const ca of cas) {
    const krl = await krlFile({ krlVersion: 1, generatedAt: 1_790_000_000, comment: 'keysmith acme', certificates: [{ ca: ca.publicKey, serials: [7n, 1000n, U64_MAX] }] });
    const serials = [7n, 8n, 6n, 1000n, 999n, U64_MAX, U64_MAX - 1n, 1n];
    assert.deepEqual(
      await revoked(
        krl,
        serials.map((s) => certificate(ca, s)),
      ),
      [true, false, false, true, false, true, false, false],
      ca.name,
    );
  }
});

test('a serial revoked under one CA leaves the same serial of another CA alone; rotation lists both CAs', needsSshKeygen, async () => {
  const [active, previous, other] = [caNamed('ed25519'), caNamed('ecdsa256'), caNamed('rsa')];
  const krl = await krlFile({
    krlVersion: 2,
    generatedAt: 1_790_000_000,
    certificates: [
      { ca: active.publicKey, serials: [3n, 4n] },
      { ca: previous.publicKey, serials: [3n, 4n] },
    ],
  });
  assert.deepEqual(await revoked(krl, [certificate(active, 3n), certificate(previous, 4n), certificate(other, 3n), certificate(active, 5n)]), [true, true, false, false]);
  assert.throws(
    () =>
      encodeSshKrl({
        krlVersion: 1,
        generatedAt: 0,
        certificates: [
          { ca: active.publicKey, serials: [1] },
          { ca: active.publicKey, serials: [2] },
        ],
      }),
    (e) => e instanceof SshCertificateError && /only one certificate section/.test(e.message),
  );
});

test('revoked key ids and plain keys (by SHA-256) are REVOKED too', needsSshKeygen, async () => {
  const ca = caNamed('ed25519');
  const plain = subjectNamed('ecdsa256');
  const krl = await krlFile({ krlVersion: 1, generatedAt: 1, certificates: [{ ca: ca.publicKey, keyIds: ['user:mallory'] }], revokedKeys: [plain.key] });
  assert.deepEqual(await revoked(krl, [certificate(ca, 11n, 'user:mallory'), certificate(ca, 11n, 'user:alice')]), [true, false]);
  const files = [plain.file, subjectNamed('ed25519').file];
  const results = await Promise.all(
    files.map((f) =>
      run(SSH_KEYGEN, ['-Q', '-f', krl, f]).then(
        () => 'ok',
        () => 'REVOKED',
      ),
    ),
  );
  assert.deepEqual(results, ['REVOKED', 'ok']);
});

test('ssh-keygen -k from a spec of the same revocations lists the same contents as ours', needsSshKeygen, async () => {
  const ca = caNamed('ed25519');
  const serials = [1n, 2n, 5n, 7n, 8n, 9n, 100n, 1000n, 1001n, 1002n, 1003n, 5000n, 5010n, 5020n, 70_000n, U64_MAX - 2n, U64_MAX];
  const ours = await krlFile({
    krlVersion: 9,
    generatedAt: 1_790_000_000,
    certificates: [{ ca: ca.publicKey, serials, keyIds: ['user:bob', 'runner:3:gh/acme/api'] }],
    revokedKeys: [subjectNamed('rsa2048').key],
  });
  const ref = await keygenKrl(ca, 9n, [...serials.map((s) => `serial: ${s}`), 'id: user:bob', 'id: runner:3:gh/acme/api', `hash: ${subjectNamed('rsa2048').key.fingerprintSha256}`]);
  const text = await listing(ours);
  assert.equal(text, await listing(ref));
  assert.match(text, /serial: 7-9\n/);
  assert.match(text, /id: user:bob\n/);
});

test('where ssh-keygen packs serials as we do (scattered lists, one run), the bytes are equal but for the date', needsSshKeygen, async () => {
  const ca = caNamed('ed25519');
  const cases: { serials: bigint[]; spec: string[] }[] = [
    { serials: [10n, 500n, 90_000n, U64_MAX], spec: ['serial: 10', 'serial: 500', 'serial: 90000', `serial: ${U64_MAX}`] },
    { serials: Array.from({ length: 200 }, (_, i) => 300n + BigInt(i)), spec: ['serial: 300-499'] },
    { serials: [], spec: ['id: user:x', 'id: user:a'] },
  ];
  for (const { serials, spec } of cases) {
    const keyIds = spec.filter((l) => l.startsWith('id: ')).map((l) => l.slice(4));
    const ours = encodeSshKrl({ krlVersion: 4, generatedAt: 0, certificates: [{ ca: ca.publicKey, serials, keyIds }] });
    const theirs = await readFile(await keygenKrl(ca, 4n, spec));
    const withoutDate = (b: Buffer) => Buffer.concat([b.subarray(0, 20), b.subarray(28)]);
    assert.deepEqual(withoutDate(ours), withoutDate(theirs), spec.join(', '));
  }
});

test('random serial sets: ours and ssh-keygen -k list the same, and -Q agrees on members and neighbours (seeded)', needsSshKeygen, async () => {
  const seed = BigInt(process.env.KEYSMITH_PROPERTY_SEED ?? '20261202');
  const r = prng(seed);
  const ca = caNamed('ed25519');
  for (let run = 0; run < 12; run++) {
    const set = new Set<bigint>();
    const base = r.pick([1n, 1000n, r.u64() % (U64_MAX - 100_000n)]) + 1n;
    for (let i = r.int(40) + 1; i > 0; i--) {
      const shape = r.int(3);
      const start = base + (r.u64() % r.pick([50n, 500n, 100_000n]));
      const length = shape === 0 ? 1n : shape === 1 ? BigInt(r.int(5) + 1) : BigInt(r.int(300) + 1);
      for (let k = 0n; k < length; k++) set.add(start + k);
    }
    if (r.chance(0.3)) set.add(U64_MAX);
    const serials = [...set].sort((a, b) => (a < b ? -1 : 1));
    const ours = await krlFile({ krlVersion: run, generatedAt: 0, certificates: [{ ca: ca.publicKey, serials }] });
    const ref = await keygenKrl(
      ca,
      BigInt(run),
      serials.map((s) => `serial: ${s}`),
    );
    assert.equal(await listing(ours), await listing(ref), `run ${run} of seed ${seed}`);
    const probes = [r.pick(serials), r.pick(serials), serials[0]! - 1n, r.pick(serials) + 1n].filter((s) => s > 0n && s <= U64_MAX);
    const expected = probes.map((s) => set.has(s));
    assert.deepEqual(
      await revoked(
        ours,
        probes.map((s) => certificate(ca, s)),
      ),
      expected,
      `run ${run}: ${probes.join(', ')}`,
    );
  }
});

test('an empty KRL revokes nothing; serial 0 and bad input are refused with a sentence', needsSshKeygen, async () => {
  const ca = caNamed('ed25519');
  const empty = await krlFile({ krlVersion: 0, generatedAt: 0, certificates: [{ ca: ca.publicKey, serials: [] }] });
  assert.deepEqual(await revoked(empty, [certificate(ca, 1n)]), [false]);
  assert.equal((await readFile(empty)).length, 8 + 4 + 8 + 8 + 8 + 4 + 4, 'header only');
  const refuse = (input: KrlInput, pattern: RegExp) =>
    assert.throws(
      () => encodeSshKrl(input),
      (e) => e instanceof SshCertificateError && e.code === 'validation_failed' && pattern.test(e.message) && /^[A-Z][^\n]*\.$/.test(e.message),
    );
  refuse({ krlVersion: 0, generatedAt: 0, certificates: [{ ca: ca.publicKey, serials: [0] }] }, /between 1 and 2\^64-1/);
  refuse({ krlVersion: 0, generatedAt: 0, certificates: [{ ca: ca.publicKey, serials: [2n ** 64n] }] }, /between 1 and 2\^64-1/);
  refuse({ krlVersion: -1, generatedAt: 0 }, /KRL version/);
  refuse({ krlVersion: 0, generatedAt: 0, comment: 'a\0b' }, /comment/);
  refuse({ krlVersion: 0, generatedAt: 0, certificates: [{ ca: ca.publicKey, keyIds: [''] }] }, /key id/);
  assert.ok(subjects.length > 0);
});
