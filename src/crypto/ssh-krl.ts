// OpenSSH key revocation lists (PROTOCOL.krl in the OpenSSH sources), the binary file sshd's
// RevokedKeys and `ssh-keygen -Q` read: a header, then per CA a certificate section revoking serials
// and key ids, and a section of SHA-256 fingerprints of revoked plain keys. Unsigned, as sshd reads
// them (OpenSSH 9.4 and later refuse KRL signatures). Serials are packed compactly: runs as ranges,
// dense clusters as bitmaps, the rest as a list — chosen by size, so a KRL of many revocations stays
// small enough to fetch often.
import { hash } from 'node:crypto';
import { mpintBytes, sshString, uint32, uint64 } from './openssh-format.ts';
import type { ParsedSshKey } from './ssh-public-key.ts';
import { SshCertificateError } from './ssh-certificate.ts';

const KRL_MAGIC = Buffer.from('SSHKRL\n\0', 'latin1');
const KRL_FORMAT_VERSION = 1;
const SECTION_CERTIFICATES = 1;
const SECTION_FINGERPRINT_SHA256 = 5;
const CERT_SERIAL_LIST = 0x20;
const CERT_SERIAL_RANGE = 0x21;
const CERT_SERIAL_BITMAP = 0x22;
const CERT_KEY_ID = 0x23;
const UINT64_MAX = 0xffff_ffff_ffff_ffffn;

// A bitmap is an mpint; OpenSSH reads at most 16384 bits of one (SSHBUF_MAX_BIGNUM), sign byte included.
const MAX_BITMAP_BITS = 16_000n;
// Serials further apart than this start a new cluster: the gap alone would cost more bitmap bits
// than listing the next serial (8 bytes).
const CLUSTER_GAP = 64n;

export interface KrlCertificates {
  /** The CA that signed the certificates (each trusted CA key needs its own section). */
  ca: ParsedSshKey;
  /** Revoked serials; 1 to 2^64-1 (0 means "no serial" and cannot be revoked by serial). */
  serials?: Iterable<bigint | number>;
  /** Revoked key ids: every certificate of this CA with one of these ids. */
  keyIds?: Iterable<string>;
}

export interface KrlInput {
  /** Increases each time the list changes (ssh-keygen -Q -l prints it as "KRL version"). */
  krlVersion: bigint | number;
  /** Seconds since 1970 (UTC). */
  generatedAt: bigint | number;
  comment?: string;
  certificates?: readonly KrlCertificates[];
  /** Plain keys (not certificates) to revoke, listed by the SHA-256 of their blob. */
  revokedKeys?: Iterable<ParsedSshKey>;
}

function invalid(message: string): never {
  throw new SshCertificateError('validation_failed', message);
}

function uint64Of(value: bigint | number, what: string, min = 0n): bigint {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) invalid(`The ${what} must be a whole number (pass a bigint beyond 2^53).`);
  if (typeof value !== 'number' && typeof value !== 'bigint') invalid(`The ${what} must be a number or a bigint.`);
  const big = BigInt(value);
  if (big < min || big > UINT64_MAX) invalid(`The ${what} must be between ${min} and 2^64-1.`);
  return big;
}

function section(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type]), sshString(body)]);
}

function bitmapSection(serials: bigint[]): Buffer {
  const offset = serials[0]!;
  let bits = 0n;
  for (const serial of serials) bits |= 1n << (serial - offset);
  const hex = bits.toString(16);
  const bytes = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
  return section(CERT_SERIAL_BITMAP, Buffer.concat([uint64(offset), sshString(mpintBytes(bytes))]));
}

/**
 * The serial subsections for sorted, unique serials. Clusters (neighbours at most CLUSTER_GAP apart)
 * become the cheapest of: one range (a contiguous run), one bitmap, or entries of the shared list.
 */
function serialSections(serials: readonly bigint[]): Buffer[] {
  const out: Buffer[] = [];
  const listed: bigint[] = [];
  const flush = (cluster: bigint[]): void => {
    const first = cluster[0]!;
    const last = cluster[cluster.length - 1]!;
    const span = last - first + 1n;
    const count = BigInt(cluster.length);
    const listCost = 8n * count;
    const rangeCost = 5n + 16n;
    // Section header, offset, mpint length, the bits and perhaps a sign byte.
    const bitmapCost = 5n + 8n + 4n + (span + 8n) / 8n;
    if (span === count && rangeCost < listCost) {
      out.push(section(CERT_SERIAL_RANGE, Buffer.concat([uint64(first), uint64(last)])));
    } else if (span <= MAX_BITMAP_BITS && bitmapCost < listCost) {
      out.push(bitmapSection(cluster));
    } else if (span > MAX_BITMAP_BITS) {
      // Too wide for one bitmap (long runs inside): split it into runs.
      let start = 0;
      for (let i = 1; i <= cluster.length; i++) {
        if (i === cluster.length || cluster[i]! !== cluster[i - 1]! + 1n) {
          flush(cluster.slice(start, i));
          start = i;
        }
      }
    } else {
      listed.push(...cluster);
    }
  };
  let cluster: bigint[] = [];
  for (const serial of serials) {
    if (cluster.length > 0 && serial - cluster[cluster.length - 1]! > CLUSTER_GAP) {
      flush(cluster);
      cluster = [];
    }
    cluster.push(serial);
  }
  if (cluster.length > 0) flush(cluster);
  if (listed.length > 0) {
    listed.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    out.unshift(section(CERT_SERIAL_LIST, Buffer.concat(listed.map(uint64))));
  }
  return out;
}

function certificateSection(entry: KrlCertificates): Buffer | undefined {
  const serials = [...new Set([...(entry.serials ?? [])].map((s) => uint64Of(s, 'revoked serial', 1n)))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const keyIds = [...new Set(entry.keyIds ?? [])].sort();
  for (const id of keyIds) {
    if (typeof id !== 'string' || id === '' || id.includes('\0')) invalid('A revoked key id must be non-empty text without NUL characters.');
  }
  if (serials.length === 0 && keyIds.length === 0) return undefined;
  const subsections = serialSections(serials);
  if (keyIds.length > 0) subsections.push(section(CERT_KEY_ID, Buffer.concat(keyIds.map((id) => sshString(id)))));
  return section(SECTION_CERTIFICATES, Buffer.concat([sshString(entry.ca.blob), sshString(''), ...subsections]));
}

/** An unsigned OpenSSH KRL, byte for byte the layout `ssh-keygen -k` writes. */
export function encodeSshKrl(input: KrlInput): Buffer {
  const comment = input.comment ?? '';
  if (typeof comment !== 'string' || comment.includes('\0')) invalid('The KRL comment must be text without NUL characters.');
  const parts = [
    KRL_MAGIC,
    uint32(KRL_FORMAT_VERSION),
    uint64(uint64Of(input.krlVersion, 'KRL version')),
    uint64(uint64Of(input.generatedAt, 'generation time')),
    uint64(0n),
    sshString(''),
    sshString(comment),
  ];
  const cas = new Set<string>();
  for (const entry of input.certificates ?? []) {
    if (cas.has(entry.ca.fingerprintSha256)) invalid('Each CA key may have only one certificate section; merge its serials.');
    cas.add(entry.ca.fingerprintSha256);
    const encoded = certificateSection(entry);
    if (encoded) parts.push(encoded);
  }
  // Sorted as big-endian numbers, which PROTOCOL.krl requires (ssh-keygen refuses unsorted hashes).
  const hashes = [...new Set([...(input.revokedKeys ?? [])].map((k) => hash('sha256', k.blob, 'hex')))].sort();
  if (hashes.length > 0) parts.push(section(SECTION_FINGERPRINT_SHA256, Buffer.concat(hashes.map((h) => sshString(Buffer.from(h, 'hex'))))));
  return Buffer.concat(parts);
}
