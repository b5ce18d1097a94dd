// Strict parser for the SSH public keys people paste as user keys and deploy keys.
//
// Strict means one key has exactly one accepted spelling: canonical base64, no trailing bytes,
// minimal mpints, an uncompressed on-curve point. Whatever we accept, `ssh-keygen -l` accepts too and
// fingerprints the same way (the tests use ssh-keygen as the oracle). Anything else is refused with
// an SshKeyError whose message is one sentence a person can act on. Messages never quote the input
// (it may be a private key pasted by mistake); at most they name a key type from our own list.
//
// Hand-written rather than sshpk: sshpk accepts damaged keys and cannot read sk- (FIDO) keys.
import { CodedError } from './coded-error.ts';
import { hash } from 'node:crypto';
import type { ErrorCode } from '../errors.ts';
import { checkEcPoint, curveBits, decodeCanonicalBase64, positiveMpintBits, WireReader, type NistCurve } from './ssh-wire.ts';

import { ACCEPTED_KEY_TYPES } from './ssh-key-types.ts';

export { ACCEPTED_KEY_TYPES };

export type SshKeyType = (typeof ACCEPTED_KEY_TYPES)[number];

export const MIN_RSA_BITS = 2048;
// OpenSSH refuses larger moduli (SSHBUF_MAX_BIGNUM), so such a key could never be used anyway.
const MAX_RSA_BITS = 16384;
// The largest accepted key (16384-bit RSA) is under 3 KiB as a line; the rest leaves room for a comment.
const MAX_INPUT_LENGTH = 16 * 1024;

// Each code is also an AppError code, so services can rethrow without a mapping table.
const SSH_KEY_ERROR_CODES = ['key_malformed', 'key_type_refused', 'key_too_weak', 'key_is_private'] as const satisfies readonly ErrorCode[];

export type SshKeyErrorCode = (typeof SSH_KEY_ERROR_CODES)[number];

/** The only error parseSshPublicKey throws. Carries a code and a sentence, never the input. */
export class SshKeyError extends CodedError<SshKeyErrorCode> {}

export interface ParsedSshKey {
  type: SshKeyType;
  /** The decoded key blob (RFC 4253 §6.6 wire format). */
  blob: Buffer;
  /** `<type> <base64>`: the canonical form to store and compare, without the comment. */
  key: string;
  comment: string | null;
  /** The size `ssh-keygen -l` prints first. */
  bits: number;
  /** As `ssh-keygen -l -E sha256` prints it, `SHA256:` prefix included. */
  fingerprintSha256: string;
  /** As `ssh-keygen -l -E md5` prints it but without its `MD5:` prefix (see fingerprintMd5). */
  fingerprintMd5: string;
}

// crypto.hash (one-shot, Node >= 20.12) rather than createHash: about 3x faster per key, and the two
// digests are the largest cost of a parse. Measured on 2 cores: 100,000 ed25519 lines parse and
// fingerprint in ~0.25 s in-process where `ssh-keygen -l -f` takes ~0.5 s; a mixed file (all seven
// types, RSA up to 4096 bits) ~0.5 s against ~15 s (ssh-keygen multiplies every ECDSA point by the
// group order; with cofactor-1 curves the on-curve check already implies what that proves).

/** `SHA256:` + unpadded base64 of SHA-256 of the blob, exactly as `ssh-keygen -l -E sha256` prints. */
export function fingerprintSha256(blob: Uint8Array): string {
  const digest = hash('sha256', blob, 'base64');
  // 32 bytes always encode to 43 characters plus one "=".
  return `SHA256:${digest.slice(0, 43)}`;
}

/**
 * Colon-separated lowercase hex of MD5 of the blob, e.g. `c9:0b:1c:…`, WITHOUT the `MD5:` prefix
 * that `ssh-keygen -l -E md5` adds: the product shows MD5 fingerprints the way CircleCI and GitHub's
 * older UI do, where the bare hex form is what people recognise and search for.
 */
export function fingerprintMd5(blob: Uint8Array): string {
  const hex = hash('md5', blob, 'hex');
  let out = hex.slice(0, 2);
  for (let i = 2; i < hex.length; i += 2) out += `:${hex.slice(i, i + 2)}`;
  return out;
}

// --- messages -----------------------------------------------------------------------------------

const PASTE_PUB = 'paste the public key from your .pub file (for example ~/.ssh/id_ed25519.pub)';
const COPY_AGAIN = 'copy the whole line from your .pub file again';
const ACCEPTED_LIST = `${ACCEPTED_KEY_TYPES.slice(0, -1).join(', ')} and ssh-rsa of at least ${MIN_RSA_BITS} bits`;

function fail(code: SshKeyErrorCode, message: string): never {
  throw new SshKeyError(code, message);
}

function malformed(message: string): never {
  fail('key_malformed', message);
}

// --- key types ----------------------------------------------------------------------------------

interface TypeSpec {
  name: SshKeyType;
  nameBytes: Buffer;
  algorithm: 'ed25519' | 'ecdsa' | 'rsa';
  curve: NistCurve | null;
  /** FIDO keys carry the relying-party "application" string after the key. */
  securityKey: boolean;
}

function spec(name: SshKeyType, algorithm: TypeSpec['algorithm'], curve: NistCurve | null = null): TypeSpec {
  return { name, nameBytes: Buffer.from(name, 'latin1'), algorithm, curve, securityKey: name.startsWith('sk-') };
}

const TYPES = new Map<string, TypeSpec>(
  [
    spec('ssh-ed25519', 'ed25519'),
    spec('ecdsa-sha2-nistp256', 'ecdsa', 'nistp256'),
    spec('ecdsa-sha2-nistp384', 'ecdsa', 'nistp384'),
    spec('ecdsa-sha2-nistp521', 'ecdsa', 'nistp521'),
    spec('sk-ssh-ed25519@openssh.com', 'ed25519'),
    spec('sk-ecdsa-sha2-nistp256@openssh.com', 'ecdsa', 'nistp256'),
    spec('ssh-rsa', 'rsa'),
  ].map((s) => [s.name, s]),
);

// --- whole-input screening ----------------------------------------------------------------------

// PEM/PKCS#8/OpenSSH/PGP/SSH.com private keys, PuTTY .ppk files, SSH1 private keys, and an OpenSSH
// private key pasted without its header ("openssh-key-v1\0" in base64). Bounded quantifiers keep the
// scan linear even on a megabyte of input.
const PRIVATE_KEY_MARKER = /BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY|PuTTY-User-Key-File-|SSH PRIVATE KEY FILE FORMAT|^\s*b3BlbnNzaC1rZXktdjE/;
const SSH2_PUBLIC_KEY_MARKER = /BEGIN SSH2 PUBLIC KEY/;
const PEM_PUBLIC_KEY_MARKER = /-----BEGIN (?:RSA )?PUBLIC KEY-----/;
// C0/C1 controls except tab, zero-width and bidi controls (they can disguise a comment), BOM, the
// replacement character (a sign of non-UTF-8 input decoded lossily) and unpaired surrogates.
const FORBIDDEN_CHARACTER = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffd]|[\ud800-\udfff]/u;
// What String#trim removes beyond ASCII whitespace (Unicode spaces and the BOM).
const LEADING_UNICODE_SPACE = /^[\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/u;
const TRAILING_UNICODE_SPACE = /[\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]$/u;
const KEY_ON_LINE = /(?:^|[ \t])(?:ssh|ecdsa|sk)-[^ \t]*[ \t]+AAAA/;
const LINE_FIELDS = /^([^ \t]+)[ \t]+([^ \t]+)(?:[ \t]+(.*))?$/s;

function screenInput(text: string): string {
  // Past this, not even a private key: refuse before scanning, so a huge paste costs nothing.
  if (text.length > 4 * MAX_INPUT_LENGTH) tooLong();
  if (PRIVATE_KEY_MARKER.test(text)) {
    fail('key_is_private', `This is a private key, which must never leave your computer; ${PASTE_PUB} instead.`);
  }
  if (SSH2_PUBLIC_KEY_MARKER.test(text)) {
    malformed('This is an RFC 4716 (SSH2) public key; convert it with ssh-keygen -i -f key.pub and paste the one-line key that prints.');
  }
  if (PEM_PUBLIC_KEY_MARKER.test(text)) {
    malformed('This is a PEM public key, not an OpenSSH one; convert it with ssh-keygen -i -m PKCS8 -f key.pem and paste the one-line key that prints.');
  }
  if (text.length > MAX_INPUT_LENGTH) tooLong();
  // ASCII whitespace only, as ssh-keygen: String#trim would also drop a BOM, no-break or ideographic
  // space, which ssh-keygen refuses.
  const line = text.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
  if (line === '') malformed(`The key is empty; ${PASTE_PUB}.`);
  if (LEADING_UNICODE_SPACE.test(line)) {
    malformed(
      `The key starts with an invisible character (a byte-order mark, no-break space or other non-ASCII space), which ssh-keygen refuses; ${PASTE_PUB} as plain text, starting with its type such as ssh-ed25519.`,
    );
  }
  if (line.includes('\n') || line.includes('\r')) {
    const keyLines = line.split(/\r\n|\r|\n/).filter((l) => KEY_ON_LINE.test(l)).length;
    if (keyLines > 1) malformed('This contains more than one key; add one key at a time.');
    malformed(`The key must be a single line; ${PASTE_PUB} without line breaks.`);
  }
  if (FORBIDDEN_CHARACTER.test(line)) {
    malformed(`This contains control characters or binary data; ${PASTE_PUB} as plain text.`);
  }
  return line;
}

function tooLong(): never {
  malformed(`This is longer than ${MAX_INPUT_LENGTH / 1024} KiB, far more than one SSH public key; ${PASTE_PUB}.`);
}

function refuseUnknownType(typeName: string, base64: string, line: string): never {
  if (typeName === 'ssh-dss') {
    fail(
      'key_type_refused',
      'DSA (ssh-dss) keys are refused because they are limited to 1024 bits and OpenSSH has disabled them; generate an ed25519 key with ssh-keygen -t ed25519 and add its .pub file.',
    );
  }
  if (typeName.endsWith('-cert-v01@openssh.com')) {
    fail('key_type_refused', 'SSH certificates are not accepted; paste the plain public key the certificate was issued for (for example ~/.ssh/id_ed25519.pub, not id_ed25519-cert.pub).');
  }
  // A key type further along means something (options, a known_hosts host name) came before it.
  if (KEY_ON_LINE.test(line.slice(typeName.length))) {
    malformed('Paste the key without authorized_keys options (such as no-pty or command="…") or anything else before its type, so that it starts with a type such as ssh-ed25519.');
  }
  // An SSH blob starts with the 4-byte length of a short name, which is "AAAA" in base64.
  if (base64.startsWith('AAAA') || /^(?:ssh|ecdsa|sk)-/.test(typeName)) {
    fail('key_type_refused', `This key type is not accepted; use one of ${ACCEPTED_LIST}.`);
  }
  malformed(`This does not look like an SSH public key; ${PASTE_PUB}, a line such as "ssh-ed25519 AAAA… you@host".`);
}

// --- blob fields --------------------------------------------------------------------------------

function need(field: Buffer | undefined): Buffer {
  return field ?? malformed(`The key data is cut short; ${COPY_AGAIN}.`);
}

function readRsa(r: WireReader): number {
  const e = need(r.string());
  const n = need(r.string());
  const eBits = positiveMpintBits(e);
  const nBits = positiveMpintBits(n);
  if (eBits < 0 || nBits < 0) malformed(`The RSA key's numbers are not validly encoded; ${COPY_AGAIN}.`);
  // Real moduli are odd (a product of two odd primes) and real exponents are odd and at least 3.
  const eIsOdd = (e[e.length - 1]! & 1) === 1;
  const nIsOdd = (n[n.length - 1]! & 1) === 1;
  const eBelowN = eBits < nBits || (eBits === nBits && Buffer.compare(e, n) < 0);
  if (!eIsOdd || eBits < 2 || !nIsOdd || !eBelowN) {
    malformed(`The RSA key's numbers are not a valid RSA key; ${COPY_AGAIN}.`);
  }
  if (nBits > MAX_RSA_BITS) {
    malformed(`RSA keys larger than ${MAX_RSA_BITS} bits cannot be used with OpenSSH; generate an ed25519 key with ssh-keygen -t ed25519.`);
  }
  return nBits;
}

function readEcdsa(r: WireReader, s: TypeSpec): number {
  const curve = s.curve!;
  const curveName = need(r.string());
  if (curveName.toString('latin1') !== curve) {
    malformed(`The key's curve does not match its type ${s.name}; ${COPY_AGAIN}.`);
  }
  const problem = checkEcPoint(curve, need(r.string()));
  if (problem === 'not_uncompressed') {
    malformed(`The ECDSA key uses a point encoding OpenSSH does not read; ${PASTE_PUB} as ssh-keygen wrote it.`);
  }
  if (problem !== undefined) malformed(`The ECDSA key is not a valid point on its curve; ${COPY_AGAIN}.`);
  return curveBits(curve);
}

function readEd25519(r: WireReader): number {
  if (need(r.string()).length !== 32) malformed(`The ed25519 key must be 32 bytes long; ${COPY_AGAIN}.`);
  return 256;
}

// --- entry point --------------------------------------------------------------------------------

/**
 * Parses one `<type> <base64> [comment]` line. Throws SshKeyError (and nothing else) for any input
 * that is not exactly one well-formed, accepted public key.
 */
export function parseSshPublicKey(text: string): ParsedSshKey {
  if (typeof text !== 'string') malformed(`The key must be text; ${PASTE_PUB}.`);
  const line = screenInput(text);

  const fields = LINE_FIELDS.exec(line);
  if (!fields) {
    if (TYPES.has(line)) malformed(`The key is missing its base64 part after the type; ${COPY_AGAIN}.`);
    if (line.startsWith('AAAA')) {
      malformed(`The key is missing its type; ${COPY_AGAIN}, starting with its type such as ssh-ed25519.`);
    }
    malformed(`This does not look like an SSH public key; ${PASTE_PUB}, a line such as "ssh-ed25519 AAAA… you@host".`);
  }
  const typeName = fields[1]!;
  const base64 = fields[2]!;
  const s = TYPES.get(typeName) ?? refuseUnknownType(typeName, base64, line);

  const blob = decodeCanonicalBase64(base64);
  if (!blob && TRAILING_UNICODE_SPACE.test(base64)) {
    malformed(`The key ends with an invisible character (a no-break space or other non-ASCII space), which ssh-keygen refuses; ${PASTE_PUB} as plain text.`);
  }
  if (!blob) malformed(`The key's base64 is damaged (wrong characters, padding or length); ${COPY_AGAIN}.`);

  const r = new WireReader(blob);
  const innerType = need(r.string());
  if (!innerType.equals(s.nameBytes)) {
    const inner = innerType.toString('latin1');
    if (TYPES.has(inner) || inner === 'ssh-dss') {
      malformed(`The line says ${s.name} but the key data is ${inner}; ${COPY_AGAIN}.`);
    }
    malformed(`The key data does not match its type ${s.name}; ${COPY_AGAIN}.`);
  }

  let bits: number;
  if (s.algorithm === 'rsa') bits = readRsa(r);
  else if (s.algorithm === 'ecdsa') bits = readEcdsa(r, s);
  else bits = readEd25519(r);

  if (s.securityKey) {
    // Usually "ssh:"; OpenSSH reads it as a C string, so it refuses a NUL inside it.
    const application = need(r.string());
    if (application.length === 0 || application.includes(0)) {
      malformed(`The security-key (sk-) key's application string is empty or damaged; ${COPY_AGAIN}.`);
    }
  }
  if (!r.atEnd) malformed(`The key data has extra bytes after its end; ${COPY_AGAIN}.`);

  if (s.algorithm === 'rsa' && bits < MIN_RSA_BITS) {
    fail('key_too_weak', `This RSA key is ${bits} bits but at least ${MIN_RSA_BITS} are required; generate an ed25519 key with ssh-keygen -t ed25519 (or RSA with ssh-keygen -t rsa -b 4096).`);
  }

  return {
    type: s.name,
    blob,
    key: `${s.name} ${base64}`,
    comment: fields[3] || null,
    bits,
    fingerprintSha256: fingerprintSha256(blob),
    fingerprintMd5: fingerprintMd5(blob),
  };
}
