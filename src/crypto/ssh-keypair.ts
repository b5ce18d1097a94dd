// Generates SSH key pairs (deploy keys, checkout keys) and writes the private half in the
// unencrypted OpenSSH format that ssh-keygen writes, so that every OpenSSH client reads it.
//
// node:crypto's async generateKeyPair runs on the libuv threadpool: an RSA-4096 key takes seconds,
// which would otherwise stall every request on the event loop.
import { generateKeyPair as nodeGenerateKeyPair, type JsonWebKey, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { encodeOpenSshPrivateKey, sshMpint, sshString } from './openssh-format.ts';
import { parseSshPublicKey } from './ssh-public-key.ts';

const generate = promisify(nodeGenerateKeyPair);

const RSA_BITS = 4096;
// Control characters would break the `<type> <base64> <comment>` line that ssh-keygen -y prints.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

export type GeneratedKeyType = 'ed25519' | 'rsa';

export interface GeneratedKeyPair {
  /** Unencrypted OpenSSH private key file, `-----BEGIN OPENSSH PRIVATE KEY-----` … with a final newline. */
  privateKey: string;
  /** `<type> <base64>`, canonical, without the comment (the form parseSshPublicKey stores). */
  publicKey: string;
  fingerprintSha256: string;
  /** Bare colon-hex, as fingerprintMd5 in ssh-public-key.ts. */
  fingerprintMd5: string;
  /** The SSH type name: ssh-ed25519 or ssh-rsa. */
  type: string;
  bits: number;
}

function jwkBytes(value: string | undefined): Buffer {
  if (value === undefined) throw new Error('node:crypto exported a JWK without an expected field.');
  return Buffer.from(value, 'base64url');
}

function exportJwk(key: KeyObject): JsonWebKey {
  return key.export({ format: 'jwk' });
}

/** Public blob and private-section fields (RFC 4253 / PROTOCOL.key order) of a fresh key. */
async function freshKey(type: GeneratedKeyType): Promise<{ publicBlob: Buffer; privateFields: Buffer }> {
  if (type === 'ed25519') {
    const { privateKey } = await generate('ed25519');
    const jwk = exportJwk(privateKey);
    const seed = jwkBytes(jwk.d);
    const pub = jwkBytes(jwk.x);
    try {
      return {
        publicBlob: Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]),
        // OpenSSH stores the 64-byte "secret key" of the ed25519 reference code: seed then public key.
        privateFields: Buffer.concat([sshString('ssh-ed25519'), sshString(pub), sshString(Buffer.concat([seed, pub]))]),
      };
    } finally {
      seed.fill(0);
    }
  }
  const { privateKey } = await generate('rsa', { modulusLength: RSA_BITS, publicExponent: 0x10001 });
  const jwk = exportJwk(privateKey);
  const [n, e, d, p, q, qi] = [jwk.n, jwk.e, jwk.d, jwk.p, jwk.q, jwk.qi].map(jwkBytes) as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
  try {
    return {
      publicBlob: Buffer.concat([sshString('ssh-rsa'), sshMpint(e), sshMpint(n)]),
      // JWK qi is q^-1 mod p, the same iqmp OpenSSH stores (it computes p and q in this order).
      privateFields: Buffer.concat([sshString('ssh-rsa'), ...[n, e, d, qi, p, q].map(sshMpint)]),
    };
  } finally {
    for (const secret of [d, p, q, qi]) secret.fill(0);
  }
}

/** A new key pair; ed25519 unless RSA is asked for, in which case RSA-4096 with e = 65537. */
export async function generateKeyPair(type: GeneratedKeyType = 'ed25519', comment = ''): Promise<GeneratedKeyPair> {
  if (type !== 'ed25519' && type !== 'rsa') throw new TypeError('The key type must be ed25519 or rsa.');
  if (CONTROL_CHARACTER.test(comment)) throw new RangeError('An SSH key comment must not contain control characters.');
  const { publicBlob, privateFields } = await freshKey(type);
  // Through the strict parser, so what we hand out is exactly what we would accept back.
  const parsed = parseSshPublicKey(`${type === 'rsa' ? 'ssh-rsa' : 'ssh-ed25519'} ${publicBlob.toString('base64')}`);
  const privateKey = encodeOpenSshPrivateKey(publicBlob, privateFields, comment);
  privateFields.fill(0);
  return {
    privateKey,
    publicKey: parsed.key,
    fingerprintSha256: parsed.fingerprintSha256,
    fingerprintMd5: parsed.fingerprintMd5,
    type: parsed.type,
    bits: parsed.bits,
  };
}
