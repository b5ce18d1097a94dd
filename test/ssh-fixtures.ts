// Real SSH keys for tests and benchmarks: ed25519 public-key lines made with node:crypto (fast, for
// hundreds or thousands of keys), and any type ssh-keygen can generate (the oracle's own output).
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function sshString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** A fresh `ssh-ed25519 AAAA… comment` line. */
export function ed25519Line(comment = 'test@keysmith'): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const blob = Buffer.concat([sshString('ssh-ed25519'), sshString(raw)]);
  return `ssh-ed25519 ${blob.toString('base64')} ${comment}`;
}

export interface GeneratedKey {
  publicLine: string;
  privateKey: string;
  publicFile: string;
}

/** ssh-keygen's own key pair: `ssh-keygen -t <type> [-b <bits>]`. */
export function sshKeygen(type: string, bits?: number, comment = 'keygen@keysmith'): GeneratedKey {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-keys-'));
  const file = path.join(dir, 'id');
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-C', comment, '-f', file], { stdio: 'ignore' });
  return { publicLine: fs.readFileSync(`${file}.pub`, 'utf8').trim(), privateKey: fs.readFileSync(file, 'utf8'), publicFile: `${file}.pub` };
}

/** `ssh-keygen -l -E <hash> -f <file>`: [bits, fingerprint, type] of the first key in the file. */
export function keygenFingerprint(publicFile: string, hash: 'sha256' | 'md5'): { bits: number; fingerprint: string } {
  const out = execFileSync('ssh-keygen', ['-l', '-E', hash, '-f', publicFile], { encoding: 'utf8' });
  const [bits, fingerprint] = out.trim().split(/\s+/);
  return { bits: Number(bits), fingerprint: fingerprint! };
}
