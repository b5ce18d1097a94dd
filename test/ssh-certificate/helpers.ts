// Shared by test/ssh-certificate/*.test.ts: ssh-keygen as the oracle (-L to print a certificate, -s
// to sign the same input a second way, -k/-Q for KRLs), the subject and CA keys, a seeded PRNG.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { encodeOpenSshPrivateKey, sshString } from '../../src/crypto/openssh-format.ts';
import { CERT_FOREVER, type CertificateOptions, type SshCertificateFields } from '../../src/crypto/ssh-certificate.ts';
import { parseSshPublicKey, type ParsedSshKey } from '../../src/crypto/ssh-public-key.ts';
import { caPublicKey } from '../../src/crypto/ssh-certificate.ts';
import { hasSshKeygen, run, SK_FIXTURE, SSH_KEYGEN } from '../ssh-public-key/helpers.ts';

export { hasSshKeygen, run, SSH_KEYGEN };

// Skips loudly without ssh-keygen, except under CI=true, where its absence fails the run.
if (!hasSshKeygen && process.env.CI === 'true') throw new Error('ssh-keygen is not installed and CI=true: the certificate tests need it as their oracle.');
if (!hasSshKeygen) console.warn('\n*** ssh-keygen is not installed: the OpenSSH certificate tests are SKIPPED ***\n');
export const needsSshKeygen = hasSshKeygen ? {} : { skip: 'ssh-keygen is not installed' };

/** ssh-keygen prints local time; UTC keeps what it prints comparable. */
export const KEYGEN_ENV = { ...process.env, TZ: 'UTC' };

export const SUBJECT_TYPES = [
  { name: 'ed25519', args: ['-t', 'ed25519'], label: 'ED25519-CERT' },
  { name: 'ecdsa256', args: ['-t', 'ecdsa', '-b', '256'], label: 'ECDSA-CERT' },
  { name: 'ecdsa384', args: ['-t', 'ecdsa', '-b', '384'], label: 'ECDSA-CERT' },
  { name: 'ecdsa521', args: ['-t', 'ecdsa', '-b', '521'], label: 'ECDSA-CERT' },
  { name: 'rsa2048', args: ['-t', 'rsa', '-b', '2048'], label: 'RSA-CERT' },
] as const;

export interface Subject {
  name: string;
  key: ParsedSshKey;
  /** A .pub file holding the key, for ssh-keygen -s. */
  file: string;
}

export interface Ca {
  name: string;
  privateKey: KeyObject;
  publicKey: ParsedSshKey;
  /** A private key file ssh-keygen -s reads (OpenSSH format for ed25519, PKCS#8 for the others). */
  file: string;
  /** What ssh-keygen -L prints before the fingerprint, and the algorithm after "using". */
  label: string;
  algorithm: string;
}

export let dir = '';
export const subjects: Subject[] = [];
export const cas: Ca[] = [];

let counter = 0;
/** A fresh file name in the test directory. */
export const tempFile = (suffix: string): string => join(dir, `f${++counter}${suffix}`);

function openSshEd25519(privateKey: KeyObject): string {
  const jwk = privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d!, 'base64url');
  const pub = Buffer.from(jwk.x!, 'base64url');
  const publicBlob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  const fields = Buffer.concat([sshString('ssh-ed25519'), sshString(pub), sshString(Buffer.concat([seed, pub]))]);
  return encodeOpenSshPrivateKey(publicBlob, fields, 'ca');
}

async function makeCa(name: string, privateKey: KeyObject, label: string, algorithm: string): Promise<Ca> {
  const file = join(dir, `ca-${name}`);
  const text = privateKey.asymmetricKeyType === 'ed25519' ? openSshEd25519(privateKey) : (privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
  await writeFile(file, text, { mode: 0o600 });
  const publicKey = caPublicKey(privateKey);
  await writeFile(`${file}.pub`, `${publicKey.key}\n`);
  return { name, privateKey, publicKey, file, label, algorithm };
}

/** Subject keys made by ssh-keygen (plus the sk- fixtures) and CA keys made by node:crypto, per file. */
export function useKeys(): void {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keysmith-cert-'));
    if (hasSshKeygen) {
      await Promise.all(
        SUBJECT_TYPES.map(async (t) => {
          const file = join(dir, t.name);
          await run(SSH_KEYGEN, ['-q', ...t.args, '-N', '', '-C', `${t.name}@test`, '-f', file]);
          subjects.push({ name: t.name, key: parseSshPublicKey(await readFile(`${file}.pub`, 'utf8')), file: `${file}.pub` });
        }),
      );
    }
    const sk = (await readFile(SK_FIXTURE, 'utf8')).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    for (const [i, line] of sk.entries()) {
      const file = join(dir, `sk${i}.pub`);
      await writeFile(file, `${line}\n`);
      subjects.push({ name: `sk${i}`, key: parseSshPublicKey(line), file });
    }
    subjects.sort((a, b) => a.name.localeCompare(b.name));
    cas.push(
      await makeCa('ed25519', generateKeyPairSync('ed25519').privateKey, 'ED25519', 'ssh-ed25519'),
      await makeCa('rsa', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, 'RSA', 'rsa-sha2-512'),
      await makeCa('ecdsa256', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'ECDSA', 'ecdsa-sha2-nistp256'),
      await makeCa('ecdsa384', generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, 'ECDSA', 'ecdsa-sha2-nistp384'),
      await makeCa('ecdsa521', generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey, 'ECDSA', 'ecdsa-sha2-nistp521'),
    );
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
}

export const subjectNamed = (name: string): Subject => subjects.find((s) => s.name === name) ?? assert.fail(`no subject ${name}`);
export const caNamed = (name: string): Ca => cas.find((c) => c.name === name) ?? assert.fail(`no CA ${name}`);

// --- ssh-keygen -L ------------------------------------------------------------------------------

/** `ssh-keygen -L -f` on a certificate line, without its first line (the file name). */
export async function keygenList(certificate: string): Promise<string> {
  const file = tempFile('-cert.pub');
  await writeFile(file, `${certificate}\n`);
  const { stdout } = await run(SSH_KEYGEN, ['-L', '-f', file], { env: KEYGEN_ENV });
  return stdout.split('\n').slice(1).join('\n');
}

/** A time as ssh-keygen -L prints it in UTC. */
export function keygenTime(seconds: bigint): string {
  return new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
}

function validity(after: bigint, before: bigint): string {
  if (after === 0n && before === CERT_FOREVER) return 'forever';
  if (after === 0n) return `before ${keygenTime(before)}`;
  if (before === CERT_FOREVER) return `after ${keygenTime(after)}`;
  return `from ${keygenTime(after)} to ${keygenTime(before)}`;
}

function optionLines(options: CertificateOptions | undefined, critical: boolean): string[] {
  const names = [...(options ?? new Map()).keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  if (names.length === 0) return [' (none)'];
  const lines = [' '];
  for (const name of names) {
    const value = options!.get(name)!;
    const known = critical ? name === 'force-command' || name === 'source-address' : false;
    if (value === null) lines.push(`                ${name}${name.includes('@') ? ' UNKNOWN FLAG OPTION' : ''}`);
    else if (known) lines.push(`                ${name} ${value}`);
    else {
      const data = sshString(value);
      lines.push(`                ${name} UNKNOWN OPTION: ${data.toString('hex')} (len ${data.length})`);
    }
  }
  return lines;
}

/** What ssh-keygen -L should print for a certificate of these fields (after the file name line). */
export function expectedListing(subject: Subject, ca: Ca, fields: SshCertificateFields & { serial: bigint; validAfter: bigint; validBefore: bigint }): string {
  const certType = `${subject.key.type.replace('@openssh.com', '')}-cert-v01@openssh.com`;
  const label = SUBJECT_TYPES.find((t) => t.name === subject.name)?.label ?? (subject.key.type.startsWith('sk-ssh') ? 'ED25519-SK-CERT' : 'ECDSA-SK-CERT');
  const critical = optionLines(fields.criticalOptions, true);
  const extensions = optionLines(fields.extensions, false);
  return [
    `        Type: ${certType} ${fields.kind} certificate`,
    `        Public key: ${label} ${subject.key.fingerprintSha256}`,
    `        Signing CA: ${ca.label} ${ca.publicKey.fingerprintSha256} (using ${ca.algorithm})`,
    `        Key ID: "${fields.keyId}"`,
    `        Serial: ${fields.serial}`,
    `        Valid: ${validity(fields.validAfter, fields.validBefore)}`,
    `        Principals: ${fields.principals.length === 0 ? '(none)' : ''}`,
    ...fields.principals.map((p) => `                ${p}`),
    `        Critical Options:${critical[0]}`,
    ...critical.slice(1),
    `        Extensions:${extensions[0]}`,
    ...extensions.slice(1),
    '',
  ].join('\n');
}

// --- ssh-keygen -s ------------------------------------------------------------------------------

function keygenTimeArg(seconds: bigint, edge: 'always' | 'forever'): string {
  if (edge === 'always' && seconds === 0n) return 'always';
  if (edge === 'forever' && seconds === CERT_FOREVER) return 'forever';
  return `0x${seconds.toString(16)}`;
}

/** Signs the same input with `ssh-keygen -s`; returns its certificate line. */
export async function keygenSign(subject: Subject, ca: Ca, fields: SshCertificateFields & { serial: bigint; validAfter: bigint; validBefore: bigint }): Promise<string> {
  const copy = tempFile('');
  await writeFile(`${copy}.pub`, await readFile(subject.file));
  const args = ['-q', '-s', ca.file, '-I', fields.keyId, '-z', String(fields.serial), '-n', fields.principals.join(',')];
  args.push('-V', `${keygenTimeArg(fields.validAfter, 'always')}:${keygenTimeArg(fields.validBefore, 'forever')}`);
  if (fields.kind === 'host') args.push('-h');
  args.push('-O', 'clear');
  for (const [name, value] of fields.criticalOptions ?? []) {
    if (name === 'force-command' || name === 'source-address') args.push('-O', `${name}=${value}`);
    else if (name === 'verify-required') args.push('-O', name);
    else args.push('-O', value === null ? `critical:${name}` : `critical:${name}=${value}`);
  }
  for (const [name, value] of fields.extensions ?? []) {
    if (name.includes('@')) args.push('-O', value === null ? `extension:${name}` : `extension:${name}=${value}`);
    else args.push('-O', name);
  }
  await run(SSH_KEYGEN, [...args, `${copy}.pub`], { env: KEYGEN_ENV });
  return (await readFile(`${copy}-cert.pub`, 'utf8')).trim();
}

// --- a seeded PRNG ------------------------------------------------------------------------------

/** xorshift128+ over BigInt: the same seed gives the same inputs, so a failure repeats. */
export function prng(seed: bigint): { u64(): bigint; int(n: number): number; pick<T>(list: readonly T[]): T; chance(p: number): boolean } {
  const mask = (1n << 64n) - 1n;
  let s0 = (seed ^ 0x9e3779b97f4a7c15n) & mask || 1n;
  let s1 = (seed * 0xbf58476d1ce4e5b9n + 1n) & mask || 2n;
  const u64 = (): bigint => {
    let x = s0;
    const y = s1;
    s0 = y;
    x ^= (x << 23n) & mask;
    s1 = x ^ y ^ (x >> 17n) ^ (y >> 26n);
    return (s1 + y) & mask;
  };
  const int = (n: number): number => Number(u64() % BigInt(n));
  return { u64, int, pick: (list) => list[int(list.length)]!, chance: (p) => int(1_000_000) < p * 1_000_000 };
}
