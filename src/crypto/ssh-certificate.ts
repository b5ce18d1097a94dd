// OpenSSH certificates (PROTOCOL.certkeys in the OpenSSH sources): a subject public key, its serial,
// key id, principals, validity and options, signed by a CA key. Written here byte for byte as
// `ssh-keygen -s` writes them (the tests compare what `ssh-keygen -L` prints for both), so that sshd
// reads every certificate we sign. The fields are checked first: a certificate sshd would refuse, or
// one that means more than the caller meant (no principals means "any user"), is never signed. Each
// refusal is one SshCertificateError with a sentence, never key material.
import { randomBytes, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { CodedError } from './coded-error.ts';
import type { ErrorCode } from '../errors.ts';
import { sshString, uint32, uint64 } from './openssh-format.ts';
import { sshSigningKey } from './ssh-signature.ts';
import { WireReader } from './ssh-wire.ts';
import type { ParsedSshKey, SshKeyType } from './ssh-public-key.ts';

// Each code is also an AppError code: validation_failed for fields we were asked to sign, key_malformed
// for a certificate we were asked to read.
const SSH_CERTIFICATE_ERROR_CODES = ['validation_failed', 'key_malformed'] as const satisfies readonly ErrorCode[];
export type SshCertificateErrorCode = (typeof SSH_CERTIFICATE_ERROR_CODES)[number];

/** The only error signSshCertificate and parseSshCertificate throw for bad input. */
export class SshCertificateError extends CodedError<SshCertificateErrorCode> {}

/** `valid before` of a certificate that never expires (and what ssh-keygen -L prints as "forever"). */
export const CERT_FOREVER = 0xffff_ffff_ffff_ffffn;
const UINT64_MAX = CERT_FOREVER;

export const CERT_TYPE_USER = 1;
export const CERT_TYPE_HOST = 2;
export type SshCertificateKind = 'user' | 'host';

/**
 * Options and extensions by name. `null` is a flag (empty data, e.g. permit-pty); a string is
 * wire-encoded as OpenSSH does, as a string inside the data string (force-command, source-address).
 */
export type CertificateOptions = ReadonlyMap<string, string | null>;

/** What `ssh-keygen -s` grants a user certificate unless told otherwise (`-O clear` removes them). */
export const DEFAULT_USER_EXTENSIONS: CertificateOptions = new Map([
  ['permit-X11-forwarding', null],
  ['permit-agent-forwarding', null],
  ['permit-port-forwarding', null],
  ['permit-pty', null],
  ['permit-user-rc', null],
]);

// OpenSSH refuses a certificate with more principals (SSHKEY_CERT_MAX_PRINCIPALS).
export const MAX_PRINCIPALS = 256;
// Our own bounds: far above any login, host name or `deploy:<vcs>/<account>/<project>`, and small
// enough that a certificate stays a line a person can paste.
export const MAX_PRINCIPAL_BYTES = 255;
export const MAX_KEY_ID_BYTES = 1024;
export const MAX_OPTION_NAME_BYTES = 255;
export const MAX_OPTION_VALUE_BYTES = 4096;
export const MAX_OPTIONS = 64;

export interface SshCertificateFields {
  kind: SshCertificateKind;
  /** 0 means "no serial" to OpenSSH, and a KRL cannot revoke it: number certificates from 1. */
  serial: bigint | number;
  keyId: string;
  principals: readonly string[];
  /** Seconds since 1970 (UTC); 0 = always. */
  validAfter: bigint | number;
  /** Seconds since 1970 (UTC); CERT_FOREVER = never expires. */
  validBefore: bigint | number;
  criticalOptions?: CertificateOptions;
  /** Default: none. Pass DEFAULT_USER_EXTENSIONS for what ssh-keygen gives a user certificate. */
  extensions?: CertificateOptions;
  /** Appended to the line after the base64, as a .pub file's comment. */
  comment?: string;
}

export interface SignedSshCertificate {
  /** `<type>-cert-v01@openssh.com <base64>[ comment]`, the line of an `id_…-cert.pub` file. */
  certificate: string;
  /** The certificate blob (the base64 part, decoded). */
  blob: Buffer;
  certType: string;
  serial: bigint;
  keyId: string;
  principals: string[];
  validAfter: bigint;
  validBefore: bigint;
  /** Of the subject key (as ssh-keygen -L prints for "Public key"). */
  keyFingerprintSha256: string;
  /** Of the CA key (as ssh-keygen -L prints for "Signing CA"). */
  caFingerprintSha256: string;
  signatureAlgorithm: string;
}

// --- shared with the parser ---------------------------------------------------------------------

/** Certificate type name → plain key type, and the number of key fields after the nonce. */
export const CERT_TYPES = new Map<string, { keyType: SshKeyType; keyFields: number }>([
  ['ssh-ed25519-cert-v01@openssh.com', { keyType: 'ssh-ed25519', keyFields: 1 }],
  ['ecdsa-sha2-nistp256-cert-v01@openssh.com', { keyType: 'ecdsa-sha2-nistp256', keyFields: 2 }],
  ['ecdsa-sha2-nistp384-cert-v01@openssh.com', { keyType: 'ecdsa-sha2-nistp384', keyFields: 2 }],
  ['ecdsa-sha2-nistp521-cert-v01@openssh.com', { keyType: 'ecdsa-sha2-nistp521', keyFields: 2 }],
  ['sk-ssh-ed25519-cert-v01@openssh.com', { keyType: 'sk-ssh-ed25519@openssh.com', keyFields: 2 }],
  ['sk-ecdsa-sha2-nistp256-cert-v01@openssh.com', { keyType: 'sk-ecdsa-sha2-nistp256@openssh.com', keyFields: 3 }],
  ['ssh-rsa-cert-v01@openssh.com', { keyType: 'ssh-rsa', keyFields: 2 }],
]);
const CERT_TYPE_OF_KEY = new Map([...CERT_TYPES].map(([cert, { keyType }]) => [keyType, cert]));

// PROTOCOL.certkeys's user-certificate vocabulary; anything else must be a name@domain of its own.
const FLAG_EXTENSIONS = new Set(['no-touch-required', 'permit-X11-forwarding', 'permit-agent-forwarding', 'permit-port-forwarding', 'permit-pty', 'permit-user-rc']);
const STRING_OPTIONS = new Set(['force-command', 'source-address']);
const FLAG_OPTIONS = new Set(['verify-required']);
const OPTION_NAME = /^[\x21-\x7e]+$/;
// C0 and C1 controls: a certificate's text fields are printed on one line by ssh-keygen and logged by sshd.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const PRINCIPAL_FORBIDDEN = /[\u0000-\u0020\u007f-\u009f,]/;

export function fail(code: SshCertificateErrorCode, message: string): never {
  throw new SshCertificateError(code, message);
}

function invalid(message: string): never {
  fail('validation_failed', message);
}

const byteLength = (text: string): number => Buffer.byteLength(text, 'utf8');

/** True when the string survives a UTF-8 round trip (no lone surrogates). */
const isWellFormed = (text: string): boolean => Buffer.from(text, 'utf8').toString('utf8') === text;

function sortedOptionNames(options: CertificateOptions): string[] {
  // Byte order of the UTF-8 names, as OpenSSH's strcmp (the names are ASCII anyway).
  return [...options.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

// --- field checks -------------------------------------------------------------------------------

function uint64Of(value: bigint | number, what: string): bigint {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) invalid(`The ${what} must be a whole number (pass a bigint beyond 2^53).`);
  if (typeof value !== 'number' && typeof value !== 'bigint') invalid(`The ${what} must be a number or a bigint.`);
  const big = BigInt(value);
  if (big < 0n || big > UINT64_MAX) invalid(`The ${what} must be between 0 and 2^64-1.`);
  return big;
}

function checkText(text: unknown, what: string, maxBytes: number): string {
  if (typeof text !== 'string') invalid(`The ${what} must be text.`);
  if (!isWellFormed(text)) invalid(`The ${what} is not valid Unicode text.`);
  if (byteLength(text) > maxBytes) invalid(`The ${what} is longer than ${maxBytes} bytes; shorten it.`);
  if (CONTROL.test(text)) invalid(`The ${what} must not contain control characters such as line breaks.`);
  return text;
}

function checkPrincipals(input: unknown): string[] {
  if (!Array.isArray(input)) invalid('The principals must be a list of names.');
  const list = input as unknown[];
  if (list.length === 0) invalid('A certificate needs at least one principal: without any, sshd would accept it for every user.');
  if (list.length > MAX_PRINCIPALS) invalid(`A certificate may name at most ${MAX_PRINCIPALS} principals (OpenSSH refuses more); this one names ${list.length}.`);
  const principals = new Set<string>();
  for (const item of list) {
    const principal = checkText(item, 'principal', MAX_PRINCIPAL_BYTES);
    if (principal === '') invalid('A principal must not be empty.');
    if (PRINCIPAL_FORBIDDEN.test(principal)) invalid('A principal must not contain spaces, commas or control characters (sshd matches it against a login or host name).');
    if (principals.has(principal)) invalid('Each principal may appear only once.');
    principals.add(principal);
  }
  return [...principals];
}

/** The address as a number (IPv4 or IPv6, an IPv4 tail allowed), or undefined when it is not one. */
function addressBits(address: string): { value: bigint; width: number } | undefined {
  const family = isIP(address);
  if (family === 0 || address.includes('%')) return undefined;
  const v4 = (text: string): bigint => text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(octet), 0n);
  if (family === 4) return { value: v4(address), width: 32 };
  // An IPv4 tail (::ffff:192.0.2.1) becomes its two hex groups.
  const lastColon = address.lastIndexOf(':');
  const ip4 = address.includes('.') ? v4(address.slice(lastColon + 1)) : undefined;
  const text = ip4 === undefined ? address : `${address.slice(0, lastColon + 1)}${(ip4 >> 16n).toString(16)}:${(ip4 & 0xffffn).toString(16)}`;
  const [head = '', rest] = text.split('::');
  const groups = (part: string): bigint[] => (part === '' ? [] : part.split(':').map((g) => BigInt(`0x${g}`)));
  const front = groups(head);
  const back = rest === undefined ? [] : groups(rest);
  const middle = Array.from({ length: 8 - front.length - back.length }, () => 0n);
  return { value: [...front, ...middle, ...back].reduce((acc, g) => (acc << 16n) | g, 0n), width: 128 };
}

function checkSourceAddress(list: string): void {
  for (const entry of list.split(',')) {
    const [address = '', bits, extra] = entry.split('/');
    const parsed = addressBits(address);
    const prefix = bits === undefined ? parsed?.width : /^(?:0|[1-9][0-9]{0,2})$/.test(bits) ? Number(bits) : -1;
    if (parsed === undefined || prefix === undefined || prefix < 0 || prefix > parsed.width || extra !== undefined) {
      invalid('The source-address must be a comma-separated list of addresses or CIDR blocks, such as 192.0.2.0/24,2001:db8::/32.');
    }
    // sshd refuses a block whose address has bits set past its prefix (ssh-keygen: "Inconsistent mask length").
    const hostBits = BigInt(parsed.width - prefix);
    if ((parsed.value & ((1n << hostBits) - 1n)) !== 0n) {
      invalid(`The source-address block ${entry} has bits set past its /${prefix} prefix; write the network address (for example 192.0.2.0/24).`);
    }
  }
}

function checkOptions(options: CertificateOptions | undefined, critical: boolean, kind: SshCertificateKind): CertificateOptions {
  if (options === undefined) return new Map();
  if (!((options as unknown) instanceof Map)) invalid(`The ${critical ? 'critical options' : 'extensions'} must be a Map of names to values.`);
  const what = critical ? 'critical option' : 'extension';
  if (options.size > MAX_OPTIONS) invalid(`A certificate may carry at most ${MAX_OPTIONS} ${what}s.`);
  for (const [name, value] of options) {
    if (typeof name !== 'string' || name === '' || byteLength(name) > MAX_OPTION_NAME_BYTES || !OPTION_NAME.test(name)) {
      invalid(`A ${what} name must be 1 to ${MAX_OPTION_NAME_BYTES} printable ASCII characters without spaces.`);
    }
    if (value !== null) checkText(value, `value of ${what} ${name}`, MAX_OPTION_VALUE_BYTES);
    const known = critical ? STRING_OPTIONS.has(name) || FLAG_OPTIONS.has(name) : FLAG_EXTENSIONS.has(name);
    if (!known && !name.includes('@')) {
      invalid(
        critical
          ? `Unknown critical option ${name}: OpenSSH knows force-command, source-address and verify-required, and refuses a certificate with any other unless it is named like name@example.com.`
          : `Unknown extension ${name}: use one of OpenSSH's (${[...FLAG_EXTENSIONS].join(', ')}) or a name like name@example.com.`,
      );
    }
    if (known && kind === 'host') invalid(`The ${what} ${name} is for user certificates; host certificates have none.`);
    if ((FLAG_EXTENSIONS.has(name) || FLAG_OPTIONS.has(name)) && value !== null) invalid(`The ${what} ${name} is a flag and takes no value (pass null).`);
    if (STRING_OPTIONS.has(name) && (value === null || value === '')) invalid(`The critical option ${name} needs a value.`);
    if (name === 'source-address') checkSourceAddress(value!);
  }
  return options;
}

// --- encoding -----------------------------------------------------------------------------------

function encodeOptions(options: CertificateOptions): Buffer {
  const parts: Buffer[] = [];
  for (const name of sortedOptionNames(options)) {
    const value = options.get(name)!;
    parts.push(sshString(name), sshString(value === null ? Buffer.alloc(0) : sshString(value)));
  }
  return Buffer.concat(parts);
}

/**
 * Signs `subject` with the CA's private key (ed25519, RSA ≥ 2048 bits with rsa-sha2-512, or ECDSA)
 * into an OpenSSH certificate. Throws SshCertificateError('validation_failed') for fields sshd
 * would refuse or that would mean more than asked: no principals, validAfter ≥ validBefore, more than
 * 256 principals, oversized or multi-line text, unknown or ill-formed options.
 */
export function signSshCertificate(subject: ParsedSshKey, caPrivateKey: KeyObject, fields: SshCertificateFields): SignedSshCertificate {
  const certType = CERT_TYPE_OF_KEY.get(subject.type) ?? invalid('This key type cannot be certified; use ed25519, ECDSA or RSA.');
  if (fields.kind !== 'user' && fields.kind !== 'host') invalid('The certificate kind must be user or host.');
  const serial = uint64Of(fields.serial, 'serial');
  const keyId = checkText(fields.keyId, 'key id', MAX_KEY_ID_BYTES);
  if (keyId === '') invalid('The key id must not be empty: sshd logs it to say whose certificate was used.');
  const principals = checkPrincipals(fields.principals);
  const validAfter = uint64Of(fields.validAfter, 'start of validity (valid after)');
  const validBefore = uint64Of(fields.validBefore, 'end of validity (valid before)');
  if (validAfter >= validBefore) invalid('The certificate must become valid before it expires: valid after must be earlier than valid before.');
  const critical = checkOptions(fields.criticalOptions, true, fields.kind);
  const extensions = checkOptions(fields.extensions, false, fields.kind);
  const comment = fields.comment === undefined ? '' : checkText(fields.comment, 'comment', MAX_KEY_ID_BYTES);

  const ca = sshSigningKey(caPrivateKey);
  // The subject's own fields follow its type name in its blob; the certificate repeats them as they are.
  const keyReader = new WireReader(subject.blob);
  keyReader.string();
  const keyFields = keyReader.rest();
  const signed = Buffer.concat([
    sshString(certType),
    sshString(randomBytes(32)),
    keyFields,
    uint64(serial),
    uint32(fields.kind === 'user' ? CERT_TYPE_USER : CERT_TYPE_HOST),
    sshString(keyId),
    sshString(Buffer.concat(principals.map((p) => sshString(p)))),
    uint64(validAfter),
    uint64(validBefore),
    sshString(encodeOptions(critical)),
    sshString(encodeOptions(extensions)),
    sshString(''),
    sshString(ca.publicKey.blob),
  ]);
  const blob = Buffer.concat([signed, sshString(ca.sign(signed))]);
  return {
    certificate: `${certType} ${blob.toString('base64')}${comment === '' ? '' : ` ${comment}`}`,
    blob,
    certType,
    serial,
    keyId,
    principals,
    validAfter,
    validBefore,
    keyFingerprintSha256: subject.fingerprintSha256,
    caFingerprintSha256: ca.publicKey.fingerprintSha256,
    signatureAlgorithm: ca.algorithm,
  };
}

/** The CA's public key (for TrustedUserCAKeys and the KRL) from its private KeyObject. */
export function caPublicKey(caPrivateKey: KeyObject): ParsedSshKey {
  return sshSigningKey(caPrivateKey).publicKey;
}
