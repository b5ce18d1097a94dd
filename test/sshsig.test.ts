// OpenSSH's detached signatures (src/crypto/sshsig.ts) with ssh-keygen as the oracle: what
// `ssh-keygen -Y sign` writes we accept, and on every good and tampered case `ssh-keygen -Y verify`
// and we agree. Security-key (sk-) signatures cannot be made without hardware, so those are built here
// from software keys in the authenticator's layout, and ssh-keygen -Y verify judges them too.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { parseSshPublicKey } from '../src/crypto/ssh-public-key.ts';
import { parseSshSig, SshSigError, verifySshSig } from '../src/crypto/sshsig.ts';
import { armor, dearmor, keygen, keygenSign, keygenVerifies, needSshKeygen, signedData, skKey, sshsigBlob, sshString, tempDir, type KeyOnDisk } from './sshsig-helpers.ts';

const needsSshKeygen = needSshKeygen('the SSH signature (sshsig) tests');
const MESSAGE = 'keysmith-ssh-key-verification:Qm9vdHN0cmFwcGluZyBpcyBmdW4gYW5kIHRoaXMgaXM';

function checkFor(publicLine: string, message: string | Buffer = MESSAGE) {
  return { key: parseSshPublicKey(publicLine), namespace: 'keysmith', messageHash: (h: 'sha256' | 'sha512') => createHash(h).update(message).digest() };
}

function refusedWith(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SshSigError, `expected an SshSigError, got ${String(err)}`);
    assert.equal(err.code, 'signature_invalid');
    assert.match(err.message, pattern);
    assert.ok(err.message.endsWith('.'), err.message);
    return true;
  });
}

const TYPES = [
  { name: 'ed25519', args: ['-t', 'ed25519'] },
  { name: 'ecdsa256', args: ['-t', 'ecdsa', '-b', '256'] },
  { name: 'ecdsa384', args: ['-t', 'ecdsa', '-b', '384'] },
  { name: 'ecdsa521', args: ['-t', 'ecdsa', '-b', '521'] },
  { name: 'rsa2048', args: ['-t', 'rsa', '-b', '2048'] },
];

let dir = '';
const keys = new Map<string, KeyOnDisk>();
let other: KeyOnDisk;
before(() => {
  dir = tempDir();
  if (!needsSshKeygen.skip) {
    for (const t of TYPES) keys.set(t.name, keygen(dir, t.name, t.args));
    other = keygen(dir, 'other', ['-t', 'ed25519']);
  }
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('sshsig against ssh-keygen -Y', needsSshKeygen, () => {
  for (const t of TYPES) {
    test(`${t.name}: ssh-keygen's signature is accepted, and ssh-keygen and we agree on each tampered case`, () => {
      const key = keys.get(t.name)!;
      const good = keygenSign(key, MESSAGE);
      assert.ok(keygenVerifies(dir, key.publicLine, good, MESSAGE), 'ssh-keygen accepts its own signature');
      const result = verifySshSig(good, checkFor(key.publicLine));
      assert.equal(result.algorithm, t.name === 'rsa2048' ? 'rsa-sha2-512' : key.publicLine.split(' ')[0]);
      assert.equal(parseSshSig(good).hashAlgorithm, 'sha512');

      // Tampered message: one character more, and the newline echo would add.
      for (const message of [`${MESSAGE}x`, `${MESSAGE}\n`]) {
        assert.equal(keygenVerifies(dir, key.publicLine, good, message), false);
        refusedWith(() => verifySshSig(good, checkFor(key.publicLine, message)), /does not match the challenge/);
      }
      // Another namespace.
      const otherNs = keygenSign(key, MESSAGE, 'file');
      assert.equal(keygenVerifies(dir, key.publicLine, otherNs, MESSAGE), false);
      refusedWith(() => verifySshSig(otherNs, checkFor(key.publicLine)), /another namespace; sign with -n keysmith/);
      // Another key.
      const byOther = keygenSign(other, MESSAGE);
      assert.equal(keygenVerifies(dir, key.publicLine, byOther, MESSAGE), false);
      refusedWith(() => verifySshSig(byOther, checkFor(key.publicLine)), /made with another key \(SHA256:[A-Za-z0-9+/]{43}\), not this one \(SHA256:/);
      // A flipped byte inside the signature (the blob's last bytes are the signature's own).
      const blob = dearmor(good);
      for (const back of [1, 8, 20]) {
        const flipped = Buffer.from(blob);
        flipped[flipped.length - back]! ^= 0x01;
        const text = armor(flipped);
        assert.equal(keygenVerifies(dir, key.publicLine, text, MESSAGE), false, `ssh-keygen refuses byte -${back} flipped`);
        assert.throws(() => verifySshSig(text, checkFor(key.publicLine)), SshSigError);
      }
      // Truncated armor: the END line, or the last base64 line and the END line, gone.
      const lines = good.trim().split('\n');
      const noEnd = `${lines.slice(0, -1).join('\n')}\n`;
      const short = `${lines.slice(0, -2).join('\n')}\n${lines.at(-1)}\n`;
      assert.equal(keygenVerifies(dir, key.publicLine, noEnd, MESSAGE), false);
      assert.equal(keygenVerifies(dir, key.publicLine, short, MESSAGE), false);
      refusedWith(() => verifySshSig(noEnd, checkFor(key.publicLine)), /cut short: its -----END SSH SIGNATURE----- line is missing/);
      assert.throws(() => verifySshSig(short, checkFor(key.publicLine)), SshSigError);
    });
  }

  test('a sha256 message hash (ssh-keygen -Y sign -O hashalg=sha256) is accepted too', () => {
    const key = keys.get('ed25519')!;
    const sig = fs.readFileSync(
      (() => {
        const msg = `${dir}/msg`;
        fs.writeFileSync(msg, MESSAGE);
        // Signing a file writes <file>.sig beside it.
        const r = spawnSign(['-Y', 'sign', '-n', 'keysmith', '-O', 'hashalg=sha256', '-f', key.file, msg]);
        assert.equal(r, 0);
        return `${msg}.sig`;
      })(),
      'utf8',
    );
    assert.equal(parseSshSig(sig).hashAlgorithm, 'sha256');
    assert.equal(verifySshSig(sig, checkFor(key.publicLine)).algorithm, 'ssh-ed25519');
  });

  for (const kind of ['ed25519', 'ecdsa'] as const) {
    test(`sk-${kind} (built here in the authenticator's layout): ssh-keygen and we accept it, and refuse it tampered`, () => {
      const sk = skKey(kind);
      const good = sk.sign(MESSAGE);
      assert.ok(keygenVerifies(dir, sk.publicLine, good, MESSAGE), 'ssh-keygen accepts the hand-built sk signature');
      const result = verifySshSig(good, checkFor(sk.publicLine));
      assert.deepEqual(result, { algorithm: sk.publicLine.split(' ')[0], flags: 1, counter: 7 });
      assert.equal(keygenVerifies(dir, sk.publicLine, good, `${MESSAGE}x`), false);
      refusedWith(() => verifySshSig(good, checkFor(sk.publicLine, `${MESSAGE}x`)), /does not match the challenge/);
      const flipped = dearmor(good);
      flipped[flipped.length - 10]! ^= 0x40;
      assert.equal(keygenVerifies(dir, sk.publicLine, armor(flipped), MESSAGE), false);
      assert.throws(() => verifySshSig(armor(flipped), checkFor(sk.publicLine)), SshSigError);
      // A changed counter is signed too.
      const counter = dearmor(good);
      counter[counter.length - 1]! ^= 0x01;
      assert.equal(keygenVerifies(dir, sk.publicLine, armor(counter), MESSAGE), false);
      assert.throws(() => verifySshSig(armor(counter), checkFor(sk.publicLine)), SshSigError);
      // No touch (user presence flag clear): ssh-keygen -Y verify accepts it, we do not. sshd refuses such
      // a signature at login unless authorized_keys says no-touch-required, which Keysmith never writes,
      // so a key that signs untouched could not log in through Keysmith anyway.
      const untouched = sk.sign(MESSAGE, { flags: 0 });
      assert.equal(keygenVerifies(dir, sk.publicLine, untouched, MESSAGE), true, 'ssh-keygen -Y verify does not ask for user presence');
      refusedWith(() => verifySshSig(untouched, checkFor(sk.publicLine)), /without being touched/);
    });
  }
});

describe('sshsig refuses damaged and hostile input with a precise sentence', () => {
  const ed = generateKeyPairSync('ed25519');
  const raw = Buffer.from(ed.publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const blob = Buffer.concat([sshString('ssh-ed25519'), sshString(raw)]);
  const line = `ssh-ed25519 ${blob.toString('base64')}`;
  const sigOf = (data: Buffer) => Buffer.concat([sshString('ssh-ed25519'), sshString(sign(null, data, ed.privateKey))]);
  const good = sshsigBlob({ publicKey: blob, signature: sigOf(signedData(MESSAGE)) });

  test('a hand-built signature of the right shape is accepted (the baseline for the refusals below)', () => {
    assert.equal(verifySshSig(armor(good), checkFor(line)).algorithm, 'ssh-ed25519');
    // \r\n line ends and surrounding whitespace are how a paste arrives from some terminals.
    assert.equal(verifySshSig(`\n  ${armor(good).replace(/\n/g, '\r\n')}  \n`, checkFor(line)).algorithm, 'ssh-ed25519');
  });

  const cases: [string, () => string, RegExp][] = [
    ['empty', () => '   ', /is empty/],
    ['not a string', () => 42 as unknown as string, /is empty/],
    ['far too long', () => 'A'.repeat(20_000), /longer than 16 KiB/],
    ['a public key instead', () => line, /must start with the line -----BEGIN SSH SIGNATURE-----/],
    ['text before the armor', () => `Signing data on standard input\n${armor(good)}`, /Something comes before/],
    ['text after the armor', () => `${armor(good)}Write signature to stdout\n`, /Something comes after/],
    ['no END line', () => armor(good).replace(/-----END SSH SIGNATURE-----\n$/, ''), /line is missing/],
    ['a blank line inside', () => armor(good).replace('\n', '\n\n'), /broken by blank lines/],
    ['bad base64', () => armor(good).replace(/\n[A-Za-z0-9+/]/, '\n*'), /base64 is damaged/],
    ['non-canonical base64 padding bits', () => armor(good).replace(/[A-Za-z0-9+/](=*)\n-----END/, (_m, pad: string) => `${'B'}${pad}\n-----END`), /base64 is damaged|does not match/],
    ['wrong magic', () => armor(Buffer.concat([Buffer.from('SSHSIH'), good.subarray(6)])), /does not start with SSHSIG/],
    ['version 2', () => armor(sshsigBlob({ publicKey: blob, signature: sigOf(signedData(MESSAGE)), version: 2 })), /format version 2, and only version 1 exists/],
    ['cut short', () => armor(good.subarray(0, good.length - 3)), /cut short or damaged/],
    ['a length past the end', () => armor(Buffer.concat([good.subarray(0, 10), Buffer.from([0xff, 0xff, 0xff, 0xff])])), /cut short or damaged/],
    ['only the magic', () => armor(Buffer.from('SSHSIG')), /does not start with SSHSIG/],
    ['trailing bytes', () => armor(Buffer.concat([good, Buffer.from([0])])), /extra bytes after its last field/],
    ['sha1 message hash', () => armor(sshsigBlob({ publicKey: blob, hash: 'sha1', signature: sigOf(signedData(MESSAGE, 'keysmith', 'sha1')) })), /other than sha256 or sha512/],
    ['__proto__ as the hash name', () => armor(sshsigBlob({ publicKey: blob, hash: '__proto__', signature: sigOf(signedData(MESSAGE)) })), /other than sha256 or sha512/],
    ['a reserved field', () => armor(sshsigBlob({ publicKey: blob, reserved: Buffer.from('x'), signature: sigOf(signedData(MESSAGE)) })), /reserved field/],
    ['a namespace with a NUL after keysmith', () => armor(sshsigBlob({ publicKey: blob, namespace: 'keysmith\0', signature: sigOf(signedData(MESSAGE, 'keysmith\0')) })), /another namespace/],
    ['an ed25519 signature of 63 bytes', () => armor(sshsigBlob({ publicKey: blob, signature: Buffer.concat([sshString('ssh-ed25519'), sshString(Buffer.alloc(63))]) })), /does not match/],
    [
      'another algorithm name for an ed25519 key',
      () => armor(sshsigBlob({ publicKey: blob, signature: Buffer.concat([sshString('rsa-sha2-512'), sshString(sign(null, signedData(MESSAGE), ed.privateKey))]) })),
      /does not match/,
    ],
  ];
  for (const [name, input, pattern] of cases) {
    test(name, () => refusedWith(() => verifySshSig(input(), checkFor(line)), pattern));
  }

  test('SHA-1 RSA (ssh-rsa) signatures are refused by name, even when the signature itself is right', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = rsa.publicKey.export({ format: 'jwk' });
    const mp = (b64: string) => {
      const b = Buffer.from(b64, 'base64url');
      return sshString((b[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), b]) : b);
    };
    const rsaBlob = Buffer.concat([sshString('ssh-rsa'), mp(jwk.e!), mp(jwk.n!)]);
    const data = signedData(MESSAGE);
    const sha1 = armor(sshsigBlob({ publicKey: rsaBlob, signature: Buffer.concat([sshString('ssh-rsa'), sshString(sign('sha1', data, rsa.privateKey))]) }));
    refusedWith(() => verifySshSig(sha1, checkFor(`ssh-rsa ${rsaBlob.toString('base64')}`)), /SHA-1 RSA signatures \(ssh-rsa\) are refused/);
    const sha256 = armor(sshsigBlob({ publicKey: rsaBlob, signature: Buffer.concat([sshString('rsa-sha2-256'), sshString(sign('sha256', data, rsa.privateKey))]) }));
    assert.equal(verifySshSig(sha256, checkFor(`ssh-rsa ${rsaBlob.toString('base64')}`)).algorithm, 'rsa-sha2-256');
  });

  test('no message quoted back: the refusal of a pasted private key names nothing of it', () => {
    const secret = ed.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    assert.throws(
      () => verifySshSig(secret, checkFor(line)),
      (err: Error) => err instanceof SshSigError && !err.message.includes(secret.split('\n')[1]!.slice(0, 20)),
    );
  });
});

function spawnSign(args: string[]): number | null {
  return spawnSync('ssh-keygen', args, { stdio: 'ignore' }).status;
}
