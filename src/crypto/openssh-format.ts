// The OpenSSH private-key container ("openssh-key-v1", PROTOCOL.key in the OpenSSH sources) and the
// few wire-format writers that ssh-keypair.ts and ssh-private-key.ts share. Reading reports problems
// as codes, never by throwing, so the private-key parser alone decides what a person is told.
import { createECDH, createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { WireReader } from './ssh-wire.ts';

const MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');
// Unencrypted keys use cipher "none", whose block size is 8 (cipher.c); the private section is
// padded to it.
const BLOCK_SIZE = 8;
// ssh-keygen wraps the base64 body at 70 columns (sshkey.c: sshbuf_dtob64 with 70-char lines).
const LINE_WIDTH = 70;
export const OPENSSH_LABEL = 'OPENSSH PRIVATE KEY';

// --- writing ------------------------------------------------------------------------------------

export function sshString(value: string | Uint8Array): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

export function uint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

export function uint64(value: bigint): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(value);
  return out;
}

/** RFC 4251 mpint body for an unsigned big-endian number: no needless zero bytes, a 0x00 before a set high bit. */
export function mpintBytes(unsigned: Uint8Array): Buffer {
  let start = 0;
  while (start < unsigned.length && unsigned[start] === 0) start++;
  const bytes = Buffer.from(unsigned.subarray(start));
  return bytes.length > 0 && (bytes[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.alloc(1), bytes]) : bytes;
}

/** The wire string of an mpint (length prefix included). */
export function sshMpint(unsigned: Uint8Array): Buffer {
  return sshString(mpintBytes(unsigned));
}

/** PEM-style armor with the body wrapped at `width` columns. */
export function armor(label: string, body: Buffer, width = 64): string {
  const base64 = body.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += width) lines.push(base64.slice(i, i + width));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * An unencrypted OpenSSH private key file exactly as ssh-keygen writes one. `privateFields` are the
 * key's fields in the private section (type string first), without the comment.
 */
export function encodeOpenSshPrivateKey(publicBlob: Buffer, privateFields: Buffer, comment: string): string {
  // Equal random check ints are how OpenSSH tells a wrong passphrase; unencrypted keys keep them.
  const check = randomBytes(4);
  const unpadded = Buffer.concat([check, check, privateFields, sshString(comment)]);
  const padLength = (BLOCK_SIZE - (unpadded.length % BLOCK_SIZE)) % BLOCK_SIZE;
  const padding = Buffer.from(Array.from({ length: padLength }, (_, i) => i + 1));
  const body = Buffer.concat([MAGIC, sshString('none'), sshString('none'), sshString(''), uint32(1), sshString(publicBlob), sshString(Buffer.concat([unpadded, padding]))]);
  return armor(OPENSSH_LABEL, body, LINE_WIDTH);
}

// --- reading ------------------------------------------------------------------------------------

export type ContainerProblem = 'not_openssh' | 'encrypted' | 'bad_header' | 'key_count' | 'bad_layout' | 'check_mismatch';

export interface OpenSshContainer {
  publicBlob: Buffer;
  /** Positioned at the first key's type string, just after the check ints. */
  privateSection: WireReader;
}

/** Unwraps the container around the one key it must hold; the key fields are the caller's to read. */
export function readOpenSshContainer(bytes: Buffer): OpenSshContainer | ContainerProblem {
  if (bytes.length < MAGIC.length || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return 'not_openssh';
  const r = new WireReader(bytes.subarray(MAGIC.length));
  const cipher = r.string();
  const kdf = r.string();
  const kdfOptions = r.string();
  const count = r.uint32();
  if (cipher === undefined || kdf === undefined || kdfOptions === undefined || count === undefined) return 'bad_header';
  // Checked before the kdf so that any cipher, even one we do not know, reads as "has a passphrase".
  if (cipher.toString('latin1') !== 'none') return 'encrypted';
  if (kdf.toString('latin1') !== 'none' || kdfOptions.length !== 0) return 'bad_header';
  if (count !== 1) return 'key_count';
  const publicBlob = r.string();
  const section = r.string();
  if (publicBlob === undefined || section === undefined || !r.atEnd) return 'bad_layout';
  if (section.length % BLOCK_SIZE !== 0) return 'bad_layout';
  const privateSection = new WireReader(section);
  const check1 = privateSection.uint32();
  const check2 = privateSection.uint32();
  if (check1 === undefined || check1 !== check2) return 'check_mismatch';
  return { publicBlob, privateSection };
}

/**
 * After the comment: the padding must be 1, 2, 3, … and shorter than a block. OpenSSH allows longer
 * runs; ssh-keygen never writes one, so a longer run means something was appended.
 */
export function paddingIsValid(padding: Buffer): boolean {
  if (padding.length >= BLOCK_SIZE) return false;
  return padding.every((byte, i) => byte === i + 1);
}

// --- key checks (does the private half produce the public half?) ----------------------------------

export const toBigInt = (bytes: Uint8Array): bigint => (bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`));

export interface RsaNumbers {
  n: bigint;
  e: bigint;
  d: bigint;
  p: bigint;
  q: bigint;
  qi: bigint;
  dp?: bigint;
  dq?: bigint;
}

// Exact checks instead of a test signature: OpenSSL repairs a faulty CRT result with d alone, so a
// signature can verify even when p or q is damaged, and would then fail on the deployment host.
export function rsaIsConsistent({ n, e, d, p, q, qi, dp, dq }: RsaNumbers): boolean {
  if (p <= 1n || q <= 1n || p * q !== n) return false;
  const ed = e * d;
  if (ed % (p - 1n) !== 1n || ed % (q - 1n) !== 1n || (qi * q) % p !== 1n) return false;
  return (dp === undefined || dp === d % (p - 1n)) && (dq === undefined || dq === d % (q - 1n));
}

// Maps, not object literals: a curve name read from the key could otherwise be "constructor".
export const ECDH_CURVE = new Map([
  ['nistp256', 'prime256v1'],
  ['nistp384', 'secp384r1'],
  ['nistp521', 'secp521r1'],
]);
export const SSH_CURVE = new Map([...ECDH_CURVE].map(([ssh, openssl]) => [openssl, ssh]));

/** The uncompressed point d·G, or undefined when d is out of range for the curve. */
export function ecPublicFromScalar(sshCurve: string, d: Uint8Array): Buffer | undefined {
  const name = ECDH_CURVE.get(sshCurve);
  if (name === undefined) return undefined;
  try {
    const ecdh = createECDH(name);
    ecdh.setPrivateKey(d);
    return ecdh.getPublicKey();
  } catch {
    return undefined;
  }
}

// PKCS#8 for an Ed25519 seed (RFC 8410): the fixed DER prefix, then the 32 bytes.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function ed25519PublicFromSeed(seed: Uint8Array): Buffer {
  const key = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  return Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x!, 'base64url');
}

/** True when the DER is exactly one SEQUENCE: OpenSSL ignores bytes after it, we do not. */
export function isSingleDerSequence(der: Buffer): boolean {
  if (der[0] !== 0x30 || der.length < 2) return false;
  const first = der[1]!;
  if (first < 0x80) return 2 + first === der.length;
  const lengthBytes = first & 0x7f;
  if (lengthBytes === 0 || lengthBytes > 3 || der.length < 2 + lengthBytes) return false;
  return 2 + lengthBytes + der.readUIntBE(2, lengthBytes) === der.length;
}
