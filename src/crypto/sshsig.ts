// OpenSSH's detached signatures (PROTOCOL.sshsig), what `ssh-keygen -Y sign` writes: read strictly
// and checked against one known public key, for proof of possession of a user's SSH key.
//
//   -----BEGIN SSH SIGNATURE-----         base64 of:  byte[6] "SSHSIG", uint32 version (1),
//   U1NIU0lH…                                         string publickey, string namespace,
//   -----END SSH SIGNATURE-----                       string reserved, string hash_algorithm,
//                                                     string signature
//
// The signature covers "SSHSIG" || string namespace || string reserved || string hash_algorithm ||
// string H(message), so a verifier needs only H(message): Keysmith keeps the SHA-256 and SHA-512 of a
// challenge, never the challenge. Every refusal is an SshSigError with one sentence a person can act
// on; none quotes the input.
import { CodedError } from './coded-error.ts';
import type { ErrorCode } from '../errors.ts';
import { fingerprintSha256, type ParsedSshKey } from './ssh-public-key.ts';
import { verifySkSshSignature, verifySshSignature } from './ssh-signature.ts';
import { decodeCanonicalBase64, WireReader } from './ssh-wire.ts';

const BEGIN = '-----BEGIN SSH SIGNATURE-----';
const END = '-----END SSH SIGNATURE-----';
const MAGIC = Buffer.from('SSHSIG');
// A 16384-bit RSA key and its signature take about 4.2 KiB as base64; anything far past that is not one.
export const MAX_ARMORED_LENGTH = 16 * 1024;

export type SshSigHash = 'sha256' | 'sha512';
const HASHES = new Map<string, SshSigHash>([
  ['sha256', 'sha256'],
  ['sha512', 'sha512'],
]);

const SSHSIG_ERROR_CODES = ['signature_invalid'] as const satisfies readonly ErrorCode[];
export type SshSigErrorCode = (typeof SSHSIG_ERROR_CODES)[number];

/** The only error this file throws: a code and a sentence, never the input. */
export class SshSigError extends CodedError<SshSigErrorCode> {}

const PASTE_ALL = 'paste the whole output of ssh-keygen -Y sign, from its -----BEGIN SSH SIGNATURE----- line to its -----END SSH SIGNATURE----- line';

function refuse(message: string): never {
  throw new SshSigError('signature_invalid', message);
}

export interface SshSig {
  /** The signer's public-key blob, as the signature names it. */
  publicKey: Buffer;
  namespace: Buffer;
  reserved: Buffer;
  hashAlgorithm: SshSigHash;
  /** The wire signature: string algorithm, string signature (plus flags and counter for sk- keys). */
  signature: Buffer;
}

/** The base64 between the armor lines; whitespace around the block and \r\n line ends are allowed. */
function dearmor(text: string): Buffer {
  if (typeof text !== 'string' || text.trim() === '') refuse(`The signature is empty; ${PASTE_ALL}.`);
  if (text.length > MAX_ARMORED_LENGTH) refuse(`This is longer than ${MAX_ARMORED_LENGTH / 1024} KiB, far more than one SSH signature; ${PASTE_ALL}.`);
  const lines = text.trim().split(/\r?\n/);
  if (lines[0]!.trim() !== BEGIN) {
    if (text.includes(BEGIN)) refuse(`Something comes before the -----BEGIN SSH SIGNATURE----- line; ${PASTE_ALL}, and nothing else.`);
    refuse(`This is not an SSH signature: it must start with the line ${BEGIN}; ${PASTE_ALL}.`);
  }
  const end = lines.findIndex((l) => l.trim() === END);
  if (end === -1) refuse(`The signature is cut short: its ${END} line is missing; ${PASTE_ALL}.`);
  if (end !== lines.length - 1) refuse(`Something comes after the ${END} line; ${PASTE_ALL}, and nothing else.`);
  const body = lines.slice(1, end).map((l) => l.trim());
  if (body.length === 0 || body.some((l) => l === '')) refuse(`The signature's base64 lines are missing or broken by blank lines; ${PASTE_ALL}.`);
  const bytes = decodeCanonicalBase64(body.join(''));
  if (bytes === undefined) refuse(`The signature's base64 is damaged (wrong characters, padding or length); ${PASTE_ALL} again without changing it.`);
  return bytes;
}

/** Reads an armored SSH signature; throws SshSigError for anything but exactly one well-formed SSHSIG. */
export function parseSshSig(text: string): SshSig {
  const blob = dearmor(text);
  if (blob.length < 10 || !blob.subarray(0, 6).equals(MAGIC)) refuse(`This is not an SSH signature (its data does not start with SSHSIG); ${PASTE_ALL}.`);
  const version = blob.readUInt32BE(6);
  if (version !== 1) refuse(`This SSH signature has format version ${version}, and only version 1 exists; sign again with ssh-keygen -Y sign.`);
  const r = new WireReader(blob.subarray(10));
  const publicKey = r.string();
  const namespace = r.string();
  const reserved = r.string();
  const hashName = r.string();
  const signature = r.string();
  if (signature === undefined || publicKey === undefined || namespace === undefined || reserved === undefined || hashName === undefined) {
    refuse(`The signature is cut short or damaged (a field runs past its end); ${PASTE_ALL}.`);
  }
  if (!r.atEnd) refuse(`The signature has extra bytes after its last field; ${PASTE_ALL}.`);
  const hashAlgorithm = HASHES.get(hashName.toString('latin1'));
  if (hashAlgorithm === undefined) refuse('The signature uses a message hash other than sha256 or sha512; sign again with ssh-keygen -Y sign, which uses sha512.');
  if (reserved.length !== 0) refuse('The signature has data in its reserved field, which OpenSSH never writes; sign again with ssh-keygen -Y sign.');
  return { publicKey, namespace, reserved, hashAlgorithm, signature };
}

/** The bytes an SSHSIG signature covers, given the hash of the message. */
export function sshSigSignedData(sig: Pick<SshSig, 'namespace' | 'reserved' | 'hashAlgorithm'>, messageHash: Buffer): Buffer {
  const str = (b: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  };
  return Buffer.concat([MAGIC, str(sig.namespace), str(sig.reserved), str(Buffer.from(sig.hashAlgorithm)), str(messageHash)]);
}

export interface SshSigCheck {
  /** The key the signature must be made with (the stored key). */
  key: ParsedSshKey;
  namespace: string;
  /** The message's hash under each algorithm the signer may pick (ssh-keygen picks sha512). */
  messageHash: (algorithm: SshSigHash) => Buffer;
}

/**
 * Checks an armored SSH signature: the signer is exactly `key`, the namespace is `namespace`, and the
 * signature covers the message whose hashes `messageHash` gives. Returns the signature algorithm;
 * throws SshSigError with the first reason it is refused.
 */
export function verifySshSig(text: string, check: SshSigCheck): { algorithm: string; flags?: number; counter?: number } {
  const sig = parseSshSig(text);
  if (!sig.publicKey.equals(check.key.blob)) {
    refuse(`This signature was made with another key (${fingerprintSha256(sig.publicKey)}), not this one (${check.key.fingerprintSha256}); sign with the private key of this SSH key.`);
  }
  if (!Buffer.from(check.namespace).equals(sig.namespace)) {
    refuse(`This signature was made for another namespace; sign with -n ${check.namespace}, as the command given shows.`);
  }
  const algorithm = new WireReader(sig.signature).string()?.toString('latin1');
  if (algorithm === 'ssh-rsa') refuse('SHA-1 RSA signatures (ssh-rsa) are refused; sign with OpenSSH 8.2 or later, whose ssh-keygen signs with rsa-sha2-512.');
  const data = sshSigSignedData(sig, check.messageHash(sig.hashAlgorithm));
  const mismatch = `The signature does not match the challenge; sign exactly the challenge text with the command given (printf, not echo, so no newline is added) and ${PASTE_ALL}.`;
  if (check.key.type.startsWith('sk-')) {
    const sk = verifySkSshSignature(check.key, sig.signature, data);
    if (sk === undefined) refuse(mismatch);
    // OpenSSH refuses a security-key signature made without a touch unless told otherwise (no-touch-required).
    if ((sk.flags & 0x01) === 0) refuse('The security key signed without being touched (no user presence); sign again and touch the key when it blinks.');
    return sk;
  }
  const ok = verifySshSignature(check.key, sig.signature, data);
  if (ok === undefined) refuse(mismatch);
  return { algorithm: ok };
}
