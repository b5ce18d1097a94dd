// Shared by the proof-of-possession tests: ssh-keygen keys on disk, `ssh-keygen -Y sign` and `-Y verify`
// (OpenSSH as the oracle), armor for hand-built signatures, and security-key (sk-) signatures built
// here from software keys, since no hardware authenticator is at hand.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const hasSshKeygen = spawnSync('ssh-keygen', ['-?']).error === undefined;

/** For a test file that needs ssh-keygen: skips loudly without it, except under CI=true, where its absence fails the run. */
export function needSshKeygen(what: string): { skip?: string } {
  if (!hasSshKeygen && process.env.CI === 'true') throw new Error(`ssh-keygen is not installed and CI=true: ${what} need it as their oracle.`);
  if (!hasSshKeygen) console.warn(`\n*** ssh-keygen is not installed: ${what} are SKIPPED ***\n`);
  return hasSshKeygen ? {} : { skip: 'ssh-keygen is not installed' };
}

export function sshString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

export interface KeyOnDisk {
  /** The private key file, for ssh-keygen -Y sign -f. */
  file: string;
  /** `<type> <base64> <comment>` as in the .pub file. */
  publicLine: string;
}

export function tempDir(prefix = 'keysmith-sshsig-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** `ssh-keygen -t <type> [-b bits]` into `dir`. */
export function keygen(dir: string, name: string, args: string[]): KeyOnDisk {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', ...args, '-N', '', '-C', `${name}@keysmith`, '-f', file], { stdio: 'ignore' });
  return { file, publicLine: fs.readFileSync(`${file}.pub`, 'utf8').trim() };
}

/** `ssh-keygen -Y sign -n <namespace> -f <key>` over `message` on stdin: the armored signature. */
export function keygenSign(key: KeyOnDisk, message: string | Buffer, namespace = 'keysmith'): string {
  return execFileSync('ssh-keygen', ['-Y', 'sign', '-n', namespace, '-f', key.file], { input: message, stdio: ['pipe', 'pipe', 'ignore'] }).toString('utf8');
}

/** `ssh-keygen -Y verify`: does OpenSSH accept `armored` as `publicLine`'s signature of `message` in `namespace`? */
export function keygenVerifies(dir: string, publicLine: string, armored: string, message: string | Buffer, namespace = 'keysmith'): boolean {
  const signers = path.join(dir, `allowed-${process.hrtime.bigint()}`);
  const sigFile = `${signers}.sig`;
  fs.writeFileSync(signers, `tester namespaces="${namespace}" ${publicLine}\n`);
  fs.writeFileSync(sigFile, armored);
  const r = spawnSync('ssh-keygen', ['-Y', 'verify', '-f', signers, '-I', 'tester', '-n', namespace, '-s', sigFile], { input: message });
  return r.status === 0;
}

/** Armor as ssh-keygen writes it: base64 wrapped at 70 columns. */
export function armor(blob: Buffer): string {
  const b64 = blob.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 70) lines.push(b64.slice(i, i + 70));
  return `-----BEGIN SSH SIGNATURE-----\n${lines.join('\n')}\n-----END SSH SIGNATURE-----\n`;
}

export function dearmor(text: string): Buffer {
  return Buffer.from(text.replace(/-----[A-Z ]+-----/g, '').replace(/\s/g, ''), 'base64');
}

/** An SSHSIG blob from its fields (hand-built signatures, for what ssh-keygen never writes). */
export function sshsigBlob(fields: { publicKey: Buffer; namespace?: string; reserved?: Buffer; hash?: string; signature: Buffer; version?: number }): Buffer {
  const version = Buffer.alloc(4);
  version.writeUInt32BE(fields.version ?? 1);
  return Buffer.concat([
    Buffer.from('SSHSIG'),
    version,
    sshString(fields.publicKey),
    sshString(fields.namespace ?? 'keysmith'),
    sshString(fields.reserved ?? Buffer.alloc(0)),
    sshString(fields.hash ?? 'sha512'),
    sshString(fields.signature),
  ]);
}

/** What an SSHSIG signature covers. */
export function signedData(message: Buffer | string, namespace = 'keysmith', hash = 'sha512'): Buffer {
  const digest = createHash(hash).update(message).digest();
  return Buffer.concat([Buffer.from('SSHSIG'), sshString(namespace), sshString(Buffer.alloc(0)), sshString(hash), sshString(digest)]);
}

export interface SkKey {
  publicLine: string;
  blob: Buffer;
  /** An armored signature of `message` in the sk layout (PROTOCOL.u2f), with the given flags and counter. */
  sign(message: Buffer | string, options?: { flags?: number; counter?: number; namespace?: string }): string;
}

function mpint(unsigned: Buffer): Buffer {
  let i = 0;
  while (i < unsigned.length - 1 && unsigned[i] === 0) i++;
  const trimmed = unsigned.subarray(i);
  return sshString((trimmed[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/**
 * A security-key key made from a software key: what a FIDO authenticator would hold. The authenticator
 * signs sha256(application) || flags || uint32 counter || sha256(signed data); the SSH signature is
 * string type, string signature, byte flags, uint32 counter.
 */
export function skKey(kind: 'ed25519' | 'ecdsa', application = 'ssh:'): SkKey {
  const type = kind === 'ed25519' ? 'sk-ssh-ed25519@openssh.com' : 'sk-ecdsa-sha2-nistp256@openssh.com';
  const pair = kind === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = pair.publicKey.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x!, 'base64url');
  const blob =
    kind === 'ed25519'
      ? Buffer.concat([sshString(type), sshString(x), sshString(application)])
      : Buffer.concat([sshString(type), sshString('nistp256'), sshString(Buffer.concat([Buffer.from([4]), x, Buffer.from(jwk.y!, 'base64url')])), sshString(application)]);
  const privateKey: KeyObject = pair.privateKey;
  return {
    publicLine: `${type} ${blob.toString('base64')}`,
    blob,
    sign(message, { flags = 0x01, counter = 7, namespace = 'keysmith' } = {}) {
      const data = signedData(message, namespace);
      const tail = Buffer.alloc(5);
      tail[0] = flags;
      tail.writeUInt32BE(counter, 1);
      const authenticatorSigned = Buffer.concat([createHash('sha256').update(application).digest(), tail, createHash('sha256').update(data).digest()]);
      let sig: Buffer;
      if (kind === 'ed25519') sig = sign(null, authenticatorSigned, privateKey);
      else {
        const rs = sign('sha256', authenticatorSigned, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        sig = Buffer.concat([mpint(rs.subarray(0, 32)), mpint(rs.subarray(32))]);
      }
      const wire = Buffer.concat([sshString(type), sshString(sig), tail]);
      return armor(sshsigBlob({ publicKey: blob, namespace, signature: wire }));
    },
  };
}

/** An ed25519 key made with node:crypto (no ssh-keygen needed) that signs as ssh-keygen -Y sign -n keysmith does. */
export function softwareKey(): { line: string; signSshsig(message: string, namespace?: string): string } {
  const pair = generateKeyPairSync('ed25519');
  const blob = Buffer.concat([sshString('ssh-ed25519'), sshString(Buffer.from(pair.publicKey.export({ format: 'jwk' }).x!, 'base64url'))]);
  return {
    line: `ssh-ed25519 ${blob.toString('base64')} software@keysmith`,
    signSshsig(message, namespace = 'keysmith') {
      const wire = Buffer.concat([sshString('ssh-ed25519'), sshString(sign(null, signedData(message, namespace), pair.privateKey))]);
      return armor(sshsigBlob({ publicKey: blob, namespace, signature: wire }));
    },
  };
}
