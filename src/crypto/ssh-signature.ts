// SSH signatures made and checked with node:crypto, for certificate authorities: the public blob of a
// private KeyObject (what a certificate's "signature key" field and a CA's .pub line hold), a signature
// in the SSH wire form (RFC 8709 for ed25519, RFC 8332 rsa-sha2-512, RFC 5656 ECDSA), and its check.
// Certificates sign with ed25519 (Keysmith's CA); RSA and ECDSA CAs work too, as the format allows.
import { createHash, createPublicKey, sign, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { sshMpint, sshString } from './openssh-format.ts';
import { parseSshPublicKey, type ParsedSshKey } from './ssh-public-key.ts';
import { positiveMpintBits, WireReader } from './ssh-wire.ts';

interface EcdsaSpec {
  jwkCurve: string;
  sshCurve: string;
  /** RFC 5656 §6.2.1: the hash follows the curve size. */
  hash: string;
  coordinateBytes: number;
}

const ECDSA: EcdsaSpec[] = [
  { jwkCurve: 'P-256', sshCurve: 'nistp256', hash: 'sha256', coordinateBytes: 32 },
  { jwkCurve: 'P-384', sshCurve: 'nistp384', hash: 'sha384', coordinateBytes: 48 },
  { jwkCurve: 'P-521', sshCurve: 'nistp521', hash: 'sha512', coordinateBytes: 66 },
];
// Maps, so that a name read from a blob can never be "constructor".
const ECDSA_BY_JWK_CURVE = new Map(ECDSA.map((s) => [s.jwkCurve, s]));
const ECDSA_BY_KEY_TYPE = new Map(ECDSA.map((s) => [`ecdsa-sha2-${s.sshCurve}`, s]));

/** A CA key ready to sign: its public half as our parser reads it, and the SSH signature maker. */
export interface SshSigningKey {
  publicKey: ParsedSshKey;
  /** The signature algorithm name written into each signature (`ssh-ed25519`, `rsa-sha2-512`, `ecdsa-sha2-…`). */
  algorithm: string;
  /** `string algorithm, string signature`: the wire form a certificate ends with. */
  sign(data: Buffer): Buffer;
}

function jwkBytes(value: string | undefined): Buffer {
  if (value === undefined) throw new TypeError('The CA key could not be exported (a field is missing).');
  return Buffer.from(value, 'base64url');
}

function signingKeyOf(privateKey: KeyObject): SshSigningKey {
  if (privateKey.type !== 'private') throw new TypeError('A certificate authority needs a private KeyObject.');
  const jwk: JsonWebKey = createPublicKey(privateKey).export({ format: 'jwk' });
  const kind = privateKey.asymmetricKeyType;
  if (kind === 'ed25519') {
    const blob = Buffer.concat([sshString('ssh-ed25519'), sshString(jwkBytes(jwk.x))]);
    return {
      publicKey: parseSshPublicKey(`ssh-ed25519 ${blob.toString('base64')}`),
      algorithm: 'ssh-ed25519',
      sign: (data) => Buffer.concat([sshString('ssh-ed25519'), sshString(sign(null, data, privateKey))]),
    };
  }
  if (kind === 'rsa') {
    const blob = Buffer.concat([sshString('ssh-rsa'), sshMpint(jwkBytes(jwk.e)), sshMpint(jwkBytes(jwk.n))]);
    // rsa-sha2-512 (RFC 8332): OpenSSH refuses SHA-1 "ssh-rsa" certificate signatures since 8.2.
    return {
      publicKey: parseSshPublicKey(`ssh-rsa ${blob.toString('base64')}`),
      algorithm: 'rsa-sha2-512',
      sign: (data) => Buffer.concat([sshString('rsa-sha2-512'), sshString(sign('sha512', data, privateKey))]),
    };
  }
  const ec = kind === 'ec' ? ECDSA_BY_JWK_CURVE.get(jwk.crv ?? '') : undefined;
  if (ec === undefined) throw new TypeError('A certificate authority key must be ed25519, RSA or ECDSA on nistp256, nistp384 or nistp521.');
  const typeName = `ecdsa-sha2-${ec.sshCurve}`;
  const point = Buffer.concat([Buffer.from([4]), jwkBytes(jwk.x), jwkBytes(jwk.y)]);
  const blob = Buffer.concat([sshString(typeName), sshString(ec.sshCurve), sshString(point)]);
  return {
    publicKey: parseSshPublicKey(`${typeName} ${blob.toString('base64')}`),
    algorithm: typeName,
    sign: (data) => {
      const rs = sign(ec.hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const r = rs.subarray(0, ec.coordinateBytes);
      const s = rs.subarray(ec.coordinateBytes);
      return Buffer.concat([sshString(typeName), sshString(Buffer.concat([sshMpint(r), sshMpint(s)]))]);
    },
  };
}

// Exporting the public half costs a JWK export and a parse; a CA signs many certificates with one key.
const signingKeys = new WeakMap<KeyObject, SshSigningKey>();

/** The signing view of a CA's private key (ed25519, RSA of at least 2048 bits, or ECDSA). */
export function sshSigningKey(privateKey: KeyObject): SshSigningKey {
  let key = signingKeys.get(privateKey);
  if (key === undefined) {
    key = signingKeyOf(privateKey);
    signingKeys.set(privateKey, key);
  }
  return key;
}

// --- checking -------------------------------------------------------------------------------------

/** A node:crypto public key for an SSH public-key blob that parseSshPublicKey accepted. */
function publicKeyObject(key: ParsedSshKey): KeyObject | undefined {
  const r = new WireReader(key.blob);
  r.string();
  if (key.type === 'ssh-ed25519') {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: r.string()!.toString('base64url') }, format: 'jwk' });
  }
  if (key.type === 'ssh-rsa') {
    const e = unsigned(r.string()!);
    const n = unsigned(r.string()!);
    return createPublicKey({ key: { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') }, format: 'jwk' });
  }
  const ec = ECDSA_BY_KEY_TYPE.get(key.type);
  if (ec === undefined) return undefined;
  r.string();
  const point = r.string()!;
  const crv = ec.jwkCurve;
  const half = (point.length - 1) / 2;
  const x = point.subarray(1, 1 + half).toString('base64url');
  const y = point.subarray(1 + half).toString('base64url');
  return createPublicKey({ key: { kty: 'EC', crv, x, y }, format: 'jwk' });
}

/** The unsigned big-endian number of a positive mpint (its sign byte dropped). */
function unsigned(mpint: Buffer): Buffer {
  return mpint[0] === 0 ? mpint.subarray(1) : mpint;
}

function fixedWidth(mpint: Buffer, width: number): Buffer | undefined {
  const bits = positiveMpintBits(mpint);
  if (bits < 1 || bits > width * 8) return undefined;
  const bytes = unsigned(mpint);
  return Buffer.concat([Buffer.alloc(width - bytes.length), bytes]);
}

/**
 * The signature algorithm when `signature` (wire form) is a valid signature of `data` by `signer`,
 * else undefined. Only the algorithms OpenSSH accepts for certificates by default: no SHA-1 RSA.
 */
export function verifySshSignature(signer: ParsedSshKey, signature: Buffer, data: Buffer): string | undefined {
  const r = new WireReader(signature);
  const algorithm = r.string()?.toString('latin1');
  const sig = r.string();
  if (algorithm === undefined || sig === undefined || !r.atEnd) return undefined;
  const key = publicKeyObject(signer);
  if (key === undefined) return undefined;
  if (signer.type === 'ssh-ed25519') {
    return algorithm === 'ssh-ed25519' && sig.length === 64 && verify(null, data, key, sig) ? algorithm : undefined;
  }
  if (signer.type === 'ssh-rsa') {
    const hash = algorithm === 'rsa-sha2-512' ? 'sha512' : algorithm === 'rsa-sha2-256' ? 'sha256' : undefined;
    // OpenSSL always writes a signature as long as the modulus; OpenSSH accepts nothing longer.
    if (hash === undefined || sig.length !== Math.ceil(signer.bits / 8)) return undefined;
    return verify(hash, data, key, sig) ? algorithm : undefined;
  }
  const ec = ECDSA_BY_KEY_TYPE.get(signer.type);
  if (ec === undefined || algorithm !== signer.type) return undefined;
  const parts = new WireReader(sig);
  const rInt = parts.string();
  const sInt = parts.string();
  if (rInt === undefined || sInt === undefined || !parts.atEnd) return undefined;
  const rFixed = fixedWidth(rInt, ec.coordinateBytes);
  const sFixed = fixedWidth(sInt, ec.coordinateBytes);
  if (rFixed === undefined || sFixed === undefined) return undefined;
  const ok = verify(ec.hash, data, { key, dsaEncoding: 'ieee-p1363' }, Buffer.concat([rFixed, sFixed]));
  return ok ? algorithm : undefined;
}

/** What a security key (FIDO) adds to its signatures: the authenticator's flags and its use counter. */
export interface SkSignature {
  algorithm: string;
  /** Bit 0x01: the user touched the key (user presence); 0x04: the user was verified (PIN). */
  flags: number;
  counter: number;
}

const SK_ED25519 = 'sk-ssh-ed25519@openssh.com';
const SK_ECDSA = 'sk-ecdsa-sha2-nistp256@openssh.com';

/**
 * The algorithm, flags and counter when `signature` (wire form: string algorithm, string signature,
 * byte flags, uint32 counter) is a valid signature of `data` by the security key `signer`
 * (sk-ssh-ed25519@openssh.com or sk-ecdsa-sha2-nistp256@openssh.com, PROTOCOL.u2f), else undefined.
 * The authenticator signs sha256(application) || flags || counter || sha256(data), not `data`.
 */
export function verifySkSshSignature(signer: ParsedSshKey, signature: Buffer, data: Buffer): SkSignature | undefined {
  const r = new WireReader(signature);
  const algorithm = r.string()?.toString('latin1');
  const sig = r.string();
  const tail = r.rest();
  if (algorithm === undefined || sig === undefined || tail.length !== 5 || algorithm !== signer.type) return undefined;
  const flags = tail[0]!;
  const counter = tail.readUInt32BE(1);
  const k = new WireReader(signer.blob);
  k.string();
  let key: KeyObject;
  if (signer.type === SK_ED25519) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: k.string()!.toString('base64url') }, format: 'jwk' });
  } else if (signer.type === SK_ECDSA) {
    k.string();
    const point = k.string()!;
    key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') }, format: 'jwk' });
  } else {
    return undefined;
  }
  const application = k.string()!;
  const signed = Buffer.concat([createHash('sha256').update(application).digest(), tail, createHash('sha256').update(data).digest()]);
  if (signer.type === SK_ED25519) {
    return sig.length === 64 && verify(null, signed, key, sig) ? { algorithm, flags, counter } : undefined;
  }
  const parts = new WireReader(sig);
  const rInt = parts.string();
  const sInt = parts.string();
  if (rInt === undefined || sInt === undefined || !parts.atEnd) return undefined;
  const rFixed = fixedWidth(rInt, 32);
  const sFixed = fixedWidth(sInt, 32);
  if (rFixed === undefined || sFixed === undefined) return undefined;
  return verify('sha256', signed, { key, dsaEncoding: 'ieee-p1363' }, Buffer.concat([rFixed, sFixed])) ? { algorithm, flags, counter } : undefined;
}
