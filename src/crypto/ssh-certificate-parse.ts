// Reads an OpenSSH certificate line back into its fields and checks the CA's signature: for the online
// check and for tests (our certificates and ssh-keygen's must read back exactly). Strict like the key
// parser: canonical base64, no trailing bytes, options sorted and unique, text fields valid UTF-8
// without NUL; the subject and CA keys go through parseSshPublicKey. Refusals are SshCertificateError
// with code key_malformed and never quote the input.
import { CERT_TYPE_HOST, CERT_TYPE_USER, CERT_TYPES, fail, MAX_PRINCIPALS, type CertificateOptions, type SshCertificateKind } from './ssh-certificate.ts';
import { sshString } from './openssh-format.ts';
import { parseSshPublicKey, SshKeyError, type ParsedSshKey } from './ssh-public-key.ts';
import { verifySshSignature } from './ssh-signature.ts';
import { decodeCanonicalBase64, WireReader } from './ssh-wire.ts';

// 256 principals of 255 bytes and a 16384-bit RSA key and CA stay well under this.
const MAX_LINE_LENGTH = 256 * 1024;
const LINE_FIELDS = /^([^ \t]+)[ \t]+([^ \t]+)(?:[ \t]+(.*))?$/s;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const COPY_AGAIN = 'copy the whole line of the -cert.pub file again';

export interface ParsedSshCertificate {
  certType: string;
  kind: SshCertificateKind;
  nonce: Buffer;
  /** The certified key, as parseSshPublicKey reads its plain form. */
  key: ParsedSshKey;
  serial: bigint;
  keyId: string;
  principals: string[];
  validAfter: bigint;
  validBefore: bigint;
  criticalOptions: CertificateOptions;
  extensions: CertificateOptions;
  /** The CA key that signed it. */
  signatureKey: ParsedSshKey;
  /** `ssh-ed25519`, `rsa-sha2-512`, `rsa-sha2-256` or `ecdsa-sha2-…`. */
  signatureAlgorithm: string;
  comment: string | null;
  /** The whole certificate blob (the base64 part, decoded). */
  blob: Buffer;
}

function malformed(message: string): never {
  fail('key_malformed', message);
}
const need = <T>(value: T | undefined): T => value ?? malformed(`The certificate is cut short; ${COPY_AGAIN}.`);

function text(bytes: Buffer, what: string): string {
  if (bytes.includes(0)) malformed(`The certificate's ${what} contains a NUL byte, which OpenSSH refuses.`);
  try {
    return utf8.decode(bytes);
  } catch {
    return malformed(`The certificate's ${what} is not valid UTF-8 text.`);
  }
}

function readOptions(bytes: Buffer, what: string): CertificateOptions {
  const r = new WireReader(bytes);
  const options = new Map<string, string | null>();
  let previous: Buffer | undefined;
  while (!r.atEnd) {
    const name = need(r.string());
    const data = need(r.string());
    if (previous !== undefined && Buffer.compare(previous, name) >= 0) malformed(`The certificate's ${what} are not sorted by name, or repeat one.`);
    previous = name;
    let value: string | null = null;
    if (data.length > 0) {
      const inner = new WireReader(data);
      const valueBytes = inner.string();
      if (valueBytes === undefined || !inner.atEnd) malformed(`A value among the certificate's ${what} is not a single string.`);
      value = text(valueBytes, what);
    }
    options.set(text(name, what), value);
  }
  return options;
}

function subKey(typeName: string, fields: Buffer[]): ParsedSshKey {
  const blob = Buffer.concat([sshString(typeName), ...fields.map((f) => sshString(f))]);
  return keyFrom(blob, 'certified key');
}

function keyFrom(blob: Buffer, what: string): ParsedSshKey {
  const typeName = new WireReader(blob).string()?.toString('latin1') ?? '';
  try {
    return parseSshPublicKey(`${typeName} ${blob.toString('base64')}`);
  } catch (error) {
    if (error instanceof SshKeyError) return malformed(`The ${what} inside the certificate is not a valid public key (${error.message.replace(/\.$/, '')}).`);
    throw error;
  }
}

/**
 * Parses one `<type>-cert-v01@openssh.com <base64> [comment]` line and verifies the CA signature over
 * it. It does not decide trust: the caller compares `signatureKey` with the CAs it trusts and checks
 * validity against its clock.
 */
export function parseSshCertificate(line: string): ParsedSshCertificate {
  if (typeof line !== 'string' || line.length > MAX_LINE_LENGTH) malformed('This is not an SSH certificate line, or it is far too long for one.');
  const fields = LINE_FIELDS.exec(line.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, ''));
  const spec = fields ? CERT_TYPES.get(fields[1]!) : undefined;
  if (!fields || !spec) return malformed('This is not an OpenSSH certificate: it must start with a type such as ssh-ed25519-cert-v01@openssh.com.');
  const certType = fields[1]!;
  const blob = decodeCanonicalBase64(fields[2]!) ?? malformed(`The certificate's base64 is damaged; ${COPY_AGAIN}.`);

  const r = new WireReader(blob);
  if (need(r.string()).toString('latin1') !== certType) malformed(`The certificate data does not match its type; ${COPY_AGAIN}.`);
  const nonce = need(r.string());
  const keyFields = Array.from({ length: spec.keyFields }, () => need(r.string()));
  const serial = need(r.uint64());
  const kindNumber = need(r.uint32());
  if (kindNumber !== CERT_TYPE_USER && kindNumber !== CERT_TYPE_HOST) malformed('The certificate is neither a user nor a host certificate.');
  const keyId = text(need(r.string()), 'key id');
  const principalReader = new WireReader(need(r.string()));
  const principals: string[] = [];
  while (!principalReader.atEnd) {
    principals.push(text(need(principalReader.string()), 'principals'));
    if (principals.length > MAX_PRINCIPALS) malformed(`The certificate names more than ${MAX_PRINCIPALS} principals, which OpenSSH refuses.`);
  }
  const validAfter = need(r.uint64());
  const validBefore = need(r.uint64());
  const criticalOptions = readOptions(need(r.string()), 'critical options');
  const extensions = readOptions(need(r.string()), 'extensions');
  need(r.string());
  const signatureKeyBlob = need(r.string());
  const signedLength = blob.length - r.rest().length;
  const rest = new WireReader(blob.subarray(signedLength));
  const signature = need(rest.string());
  if (!rest.atEnd) malformed(`The certificate has extra bytes after its signature; ${COPY_AGAIN}.`);

  const key = subKey(spec.keyType, keyFields);
  const signatureKey = keyFrom(signatureKeyBlob, 'CA key');
  const signatureAlgorithm =
    verifySshSignature(signatureKey, signature, blob.subarray(0, signedLength)) ??
    malformed('The certificate signature does not verify against its CA key (or uses an algorithm OpenSSH refuses, such as SHA-1 RSA); it was damaged or forged.');

  return {
    certType,
    kind: kindNumber === CERT_TYPE_USER ? 'user' : 'host',
    nonce,
    key,
    serial,
    keyId,
    principals,
    validAfter,
    validBefore,
    criticalOptions,
    extensions,
    signatureKey,
    signatureAlgorithm,
    comment: fields[3] || null,
    blob,
  };
}
