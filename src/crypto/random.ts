import { hash, randomBytes } from 'node:crypto';

export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `length` uniformly random base62 characters (rejection sampling keeps the distribution flat). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** A random opaque secret (session ids, CSRF tokens): 32 bytes, URL-safe base64. */
export const randomSecret = (): string => randomBytes(32).toString('base64url');

// One-shot crypto.hash (Node >= 20.12): a few times cheaper than createHash on the request path.
export const sha256Hex = (text: string): string => hash('sha256', text, 'hex');
