// Reads the SSH private keys people paste for deployments (one key per host) and derives the public
// half. Strict in the same way as ssh-public-key.ts: canonical base64, an exact container, and the
// private numbers must produce the public key (checked with node:crypto or exact arithmetic), so a
// damaged paste is refused here instead of failing later on a deployment host. Every refusal is one
// SshPrivateKeyError with a sentence a person can act on; messages never quote the input, which is
// a secret.
import { CodedError } from './coded-error.ts';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { ErrorCode } from '../errors.ts';
import {
  ecPublicFromScalar,
  ed25519PublicFromSeed,
  encodeOpenSshPrivateKey,
  isSingleDerSequence,
  OPENSSH_LABEL,
  paddingIsValid,
  readOpenSshContainer,
  rsaIsConsistent,
  SSH_CURVE,
  sshMpint,
  sshString,
  toBigInt,
} from './openssh-format.ts';
import { parseSshPublicKey, SshKeyError, type ParsedSshKey } from './ssh-public-key.ts';
import { decodeCanonicalBase64, positiveMpintBits, WireReader } from './ssh-wire.ts';

// Each code is also an AppError code, so services can rethrow without a mapping table.
const SSH_PRIVATE_KEY_ERROR_CODES = ['key_passphrase_protected', 'key_is_public', 'key_malformed', 'key_type_refused', 'key_too_weak'] as const satisfies readonly ErrorCode[];

export type SshPrivateKeyErrorCode = (typeof SSH_PRIVATE_KEY_ERROR_CODES)[number];

/** The only error parseSshPrivateKey throws. Carries a code and a sentence, never the input. */
export class SshPrivateKeyError extends CodedError<SshPrivateKeyErrorCode> {}

export interface ParsedSshPrivateKey {
  /** `<type> <base64>`, canonical, without a comment. */
  publicKey: string;
  type: string;
  bits: number;
  fingerprintSha256: string;
  /** Bare colon-hex, as fingerprintMd5 in ssh-public-key.ts. */
  fingerprintMd5: string;
  /** The text to store: one key block, trimmed lines, LF endings, final newline. */
  privateKey: string;
}

// A 16384-bit RSA key (the most OpenSSH reads) is about 12.5 KiB in any of the accepted formats.
const MAX_INPUT_LENGTH = 16 * 1024;

// --- messages -----------------------------------------------------------------------------------
// None may quote a 20-character run of a key file (the tests check), so they never spell out an
// armor line: they describe it.

const LOOKS_LIKE = 'a private key is the file without .pub, such as ~/.ssh/id_ed25519: lines of text between a BEGIN line and an END line that both say PRIVATE KEY';
const COPY_AGAIN = 'copy the whole file again, for example from the output of cat ~/.ssh/id_ed25519';

function fail(code: SshPrivateKeyErrorCode, message: string): never {
  throw new SshPrivateKeyError(code, message);
}

function malformed(message: string): never {
  fail('key_malformed', message);
}

function damaged(): never {
  malformed(`The private key is damaged: its contents do not check out; ${COPY_AGAIN}.`);
}

function refuseDsa(): never {
  fail('key_type_refused', 'DSA keys are refused because they are limited to 1024 bits and OpenSSH has disabled them; generate an ed25519 key with ssh-keygen -t ed25519 and use that instead.');
}

function refuseType(): never {
  fail('key_type_refused', 'This key type is not supported; use an ed25519, ECDSA (nistp256, nistp384 or nistp521) or RSA (at least 2048 bits) key, such as one made with ssh-keygen -t ed25519.');
}

function passphrase(): never {
  fail(
    'key_passphrase_protected',
    'This private key is protected by a passphrase, and Keysmith needs it without one to use it unattended; make a copy (cp your_key copy_of_key), remove the passphrase from the copy with ssh-keygen -p -N "" -f copy_of_key, and paste the copy.',
  );
}

function isPublic(): never {
  fail(
    'key_is_public',
    'This is the public half of a key pair; paste the private key instead, which is the file of the same name without .pub (for example ~/.ssh/id_ed25519, not ~/.ssh/id_ed25519.pub).',
  );
}

// --- OpenSSH format -----------------------------------------------------------------------------

function need(field: Buffer | undefined): Buffer {
  return field ?? damaged();
}

function needMpint(field: Buffer | undefined): Buffer {
  const value = need(field);
  return positiveMpintBits(value) < 0 ? damaged() : value;
}

function refuseByTypeName(typeName: string): never {
  if (typeName === 'ssh-dss') refuseDsa();
  if (typeName.startsWith('sk-')) {
    fail('key_type_refused', 'Security-key (sk-) keys need their hardware token at every use, so they cannot be used unattended; generate an ed25519 key with ssh-keygen -t ed25519 for this instead.');
  }
  refuseType();
}

/** The public blob rebuilt from the private section, after checking the private numbers produce it. */
function readOpenSshKey(r: WireReader, typeName: string): Buffer {
  if (typeName === 'ssh-ed25519') {
    const pub = need(r.string());
    const secret = need(r.string());
    if (pub.length !== 32 || secret.length !== 64 || !secret.subarray(32).equals(pub)) damaged();
    if (!ed25519PublicFromSeed(secret.subarray(0, 32)).equals(pub)) damaged();
    return Buffer.concat([sshString(typeName), sshString(pub)]);
  }
  if (typeName.startsWith('ecdsa-sha2-')) {
    const curve = need(r.string());
    const point = need(r.string());
    const d = needMpint(r.string());
    if (!ecPublicFromScalar(curve.toString('latin1'), d)?.equals(point)) damaged();
    return Buffer.concat([sshString(typeName), sshString(curve), sshString(point)]);
  }
  const [n, e, d, qi, p, q] = Array.from({ length: 6 }, () => needMpint(r.string())) as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
  const numbers = { n: toBigInt(n), e: toBigInt(e), d: toBigInt(d), p: toBigInt(p), q: toBigInt(q), qi: toBigInt(qi) };
  if (!rsaIsConsistent(numbers)) damaged();
  return Buffer.concat([sshString(typeName), sshString(e), sshString(n)]);
}

const ECDSA_TYPES = new Set(['ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521']);

function fromOpenSsh(bytes: Buffer): Buffer {
  const container = readOpenSshContainer(bytes);
  if (container === 'encrypted') passphrase();
  if (container === 'key_count') malformed('This OpenSSH key file holds more than one key; paste a file with a single key.');
  if (typeof container === 'string') damaged();
  const { publicBlob, privateSection: r } = container;
  const outerType = need(new WireReader(publicBlob).string()).toString('latin1');
  const typeName = need(r.string()).toString('latin1');
  if (typeName !== outerType) damaged();
  if (typeName !== 'ssh-ed25519' && typeName !== 'ssh-rsa' && !ECDSA_TYPES.has(typeName)) refuseByTypeName(typeName);
  const rebuilt = readOpenSshKey(r, typeName);
  need(r.string()); // the comment: free text, and the one part OpenSSH does not check either
  if (!paddingIsValid(r.rest()) || !rebuilt.equals(publicBlob)) damaged();
  return publicBlob;
}

// --- PEM formats (through node:crypto) ----------------------------------------------------------

const jwkBytes = (value: string | undefined): Buffer => (value === undefined ? damaged() : Buffer.from(value, 'base64url'));

/** Public blob of a PKCS#1, SEC1 or PKCS#8 key, and a replacement text when ssh cannot read the original. */
function fromDer(der: Buffer, type: 'pkcs1' | 'sec1' | 'pkcs8'): { publicBlob: Buffer; replacement?: string } {
  if (!isSingleDerSequence(der)) damaged();
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: der, format: 'der', type });
  } catch {
    return damaged();
  }
  const kind = key.asymmetricKeyType;
  if (kind === 'dsa') refuseDsa();
  if (kind !== 'rsa' && kind !== 'ec' && kind !== 'ed25519') refuseType();
  const jwk = key.export({ format: 'jwk' });
  if (kind === 'rsa') {
    // Multi-prime keys fail here too (n is not p·q), and OpenSSH could not store them anyway.
    const big = (value: string | undefined): bigint => toBigInt(jwkBytes(value));
    const { n, e, d, p, q, qi, dp, dq } = jwk;
    if (!rsaIsConsistent({ n: big(n), e: big(e), d: big(d), p: big(p), q: big(q), qi: big(qi), dp: big(dp), dq: big(dq) })) damaged();
    return { publicBlob: Buffer.concat([sshString('ssh-rsa'), sshMpint(jwkBytes(e)), sshMpint(jwkBytes(n))]) };
  }
  if (kind === 'ec') {
    const curve = SSH_CURVE.get(key.asymmetricKeyDetails?.namedCurve ?? '') ?? refuseType();
    const point = Buffer.concat([Buffer.of(4), jwkBytes(jwk.x), jwkBytes(jwk.y)]);
    if (!ecPublicFromScalar(curve, jwkBytes(jwk.d))?.equals(point)) damaged();
    return { publicBlob: Buffer.concat([sshString(`ecdsa-sha2-${curve}`), sshString(curve), sshString(point)]) };
  }
  const seed = jwkBytes(jwk.d);
  const pub = ed25519PublicFromSeed(seed);
  const publicBlob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  // OpenSSH (9.2 at least) cannot load Ed25519 from PKCS#8, so we store the same key as ssh-keygen
  // would have written it.
  const fields = Buffer.concat([sshString('ssh-ed25519'), sshString(pub), sshString(Buffer.concat([seed, pub]))]);
  return { publicBlob, replacement: encodeOpenSshPrivateKey(publicBlob, fields, '') };
}

// --- the text around the key --------------------------------------------------------------------

const BEGIN = /^-----BEGIN ([A-Z0-9 ]{1,40})-----$/;
const END = /^-----END ([A-Z0-9 ]{1,40})-----$/;
const SSH2_BEGIN = /^---- BEGIN SSH2 (PUBLIC|ENCRYPTED PRIVATE) KEY ----$/;
// A public key line (possibly with authorized_keys options or a known_hosts host before it).
// The bounded type name keeps the scan linear on a 16 KiB paste.
const KEY_ON_LINE = /(?:^|[ \t])(?:ssh|ecdsa|sk)-[^ \t\r\n]{0,60}[ \t]+AAAA/m;
const NOT_PRINTABLE_ASCII = /[^\t\n\r\x20-\x7e]/;
const DER_TYPE = new Map<string, 'pkcs1' | 'sec1' | 'pkcs8'>([
  ['RSA PRIVATE KEY', 'pkcs1'],
  ['EC PRIVATE KEY', 'sec1'],
  ['PRIVATE KEY', 'pkcs8'],
]);

interface Block {
  label: string;
  body: string[];
}

/** The one key block, or a refusal that says what else the text is. */
function findKeyBlock(text: string): Block {
  if (/^\s*PuTTY-User-Key-File-/.test(text)) {
    malformed(
      'This is a PuTTY key (.ppk), which Keysmith does not read; convert it with puttygen key.ppk -O private-openssh -o key and paste the file key (if it has a passphrase, remove it from that file with ssh-keygen -p -N "" -f key).',
    );
  }
  if (!text.includes('PRIVATE KEY') && KEY_ON_LINE.test(text)) isPublic();
  if (NOT_PRINTABLE_ASCII.test(text)) {
    malformed(`This contains control characters, binary data or non-ASCII text, which a private key file never does; ${LOOKS_LIKE}.`);
  }
  const lines = text
    .split(/\r\n|\r|\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const blocks: Block[] = [];
  let stray = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const label = BEGIN.exec(line)?.[1];
    const ssh2 = SSH2_BEGIN.exec(line)?.[1];
    if (ssh2 === 'PUBLIC') isPublic();
    if (ssh2 !== undefined) {
      malformed('This is an SSH.com (SSH2) private key; convert it to OpenSSH format with ssh-keygen -i -f key > key_openssh and paste that file.');
    }
    if (label === undefined) {
      stray++;
      continue;
    }
    let end = i + 1;
    while (end < lines.length && !END.test(lines[end]!)) end++;
    if (end === lines.length) malformed('The key is cut short: its END line is missing; paste the whole file, through its END line.');
    if (END.exec(lines[end]!)?.[1] !== label) damaged();
    blocks.push({ label, body: lines.slice(i + 1, end) });
    i = end;
  }
  if (blocks.length === 0) {
    if (lines[0]?.startsWith('b3BlbnNzaC1rZXktdjE')) {
      malformed('The key is missing its BEGIN and END lines; paste the whole file, from its BEGIN line through its END line.');
    }
    malformed(`This does not look like an SSH private key; ${LOOKS_LIKE}.`);
  }
  const keys = blocks.filter((b) => b.label !== 'EC PARAMETERS'); // openssl ecparam -genkey writes one first
  if (keys.length === 0) malformed(`This does not look like an SSH private key; ${LOOKS_LIKE}.`);
  if (keys.every((b) => b.label.endsWith('PUBLIC KEY'))) isPublic();
  if (keys.length !== 1) malformed('This contains more than one key; paste one private key at a time.');
  if (stray > 0) malformed('There is text before or after the key; paste only the key, from its BEGIN line through its END line.');
  return keys[0]!;
}

/** The derived public key through the public-key parser, so both apply the same rules. */
function checkPublic(publicBlob: Buffer): ParsedSshKey {
  const typeName = need(new WireReader(publicBlob).string()).toString('latin1');
  try {
    return parseSshPublicKey(`${typeName} ${publicBlob.toString('base64')}`);
  } catch (err) {
    // Its too-weak sentence fits a private key as well; the others speak of .pub files.
    if (err instanceof SshKeyError && err.code === 'key_too_weak') fail('key_too_weak', err.message);
    if (err instanceof SshKeyError && err.code === 'key_type_refused') refuseType();
    return damaged();
  }
}

// --- entry point --------------------------------------------------------------------------------

/**
 * Parses one pasted private key (OpenSSH, PKCS#1, SEC1 or PKCS#8 text, unencrypted) and derives its
 * public key. Throws SshPrivateKeyError, and nothing else, for anything else.
 */
export function parseSshPrivateKey(text: string): ParsedSshPrivateKey {
  if (typeof text !== 'string') malformed(`The key must be text; ${LOOKS_LIKE}.`);
  // Checked before any scanning, so that a huge paste costs nothing.
  if (text.length > MAX_INPUT_LENGTH) {
    malformed(`This is longer than ${MAX_INPUT_LENGTH / 1024} KiB, far more than one SSH private key; ${LOOKS_LIKE}.`);
  }
  if (text.trim() === '') malformed(`The key is empty; ${LOOKS_LIKE}.`);
  const { label, body } = findKeyBlock(text);

  if (label === 'ENCRYPTED PRIVATE KEY') passphrase();
  if (label === 'DSA PRIVATE KEY') refuseDsa();
  const headerCount = body.findIndex((line) => !line.includes(':'));
  const headers = headerCount < 0 ? body : body.slice(0, headerCount);
  if (headers.some((h) => /^Proc-Type:\s*4,ENCRYPTED$/i.test(h))) passphrase();
  const derType = DER_TYPE.get(label);
  if (label !== OPENSSH_LABEL && derType === undefined) {
    malformed(`This is not an SSH private key (its BEGIN line names something else); ${LOOKS_LIKE}.`);
  }
  if (headers.length > 0) damaged();
  const bytes = decodeCanonicalBase64(body.join('')) ?? damaged();

  let publicBlob: Buffer;
  let privateKey = `-----BEGIN ${label}-----\n${body.join('\n')}\n-----END ${label}-----\n`;
  if (derType === undefined) {
    publicBlob = fromOpenSsh(bytes);
  } else {
    const converted = fromDer(bytes, derType);
    publicBlob = converted.publicBlob;
    privateKey = converted.replacement ?? privateKey;
  }

  const parsed = checkPublic(publicBlob);
  return {
    publicKey: parsed.key,
    type: parsed.type,
    bits: parsed.bits,
    fingerprintSha256: parsed.fingerprintSha256,
    fingerprintMd5: parsed.fingerprintMd5,
    privateKey,
  };
}
