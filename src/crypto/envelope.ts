// Envelope encryption for secrets at rest. Each record gets its own random data key; only that
// small key is encrypted ("wrapped") under the master key. Rotating the master key therefore means
// re-wrapping 32 bytes per record (rewrap) instead of re-encrypting every secret, and a record names
// the master key that wrapped it so old and new keys can coexist during a rotation.
//
// Sealed form: v1.<masterKeyId>.<base64url(wrapNonce|wrappedKey|wrapTag)>.<base64url(nonce|ciphertext|tag)>
// '.' is not a base64url character, so the four parts split unambiguously.
import { CodedError } from './coded-error.ts';
import { createCipheriv, createDecipheriv, hash, randomBytes } from 'node:crypto';

export interface MasterKey {
  /** First 16 hex characters of SHA-256 of the key: names the key in records and messages. */
  id: string;
  key: Buffer;
}

/** `current` wraps new records; every key in the ring can unwrap. */
export interface KeyRing {
  current: MasterKey;
  previous: MasterKey[];
}

export type EnvelopeErrorCode = 'unknown_master_key' | 'tampered' | 'malformed';

/** The only error open/rewrap/sealedWith throw for bad input. Messages never hold key material or plaintext. */
export class EnvelopeError extends CodedError<EnvelopeErrorCode> {}

const VERSION = 'v1';
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const WRAPPED_BYTES = NONCE_BYTES + KEY_BYTES + TAG_BYTES;
const MASTER_KEY_ID = /^[0-9a-f]{16}$/;
// With the u flag, [\ud800-\udfff] matches only unpaired surrogates, which UTF-8 encoding would turn
// into U+FFFD: two different aad strings would then authenticate as the same bytes.
const LONE_SURROGATE = /[\ud800-\udfff]/u;

export function masterKeyFrom(key: Buffer): MasterKey {
  if (key.length !== KEY_BYTES) throw new RangeError(`A master key must be ${KEY_BYTES} bytes, not ${key.length}.`);
  return { id: hash('sha256', key, 'hex').slice(0, 16), key: Buffer.from(key) };
}

function utf8(value: string, what: string): Buffer {
  if (LONE_SURROGATE.test(value)) throw new TypeError(`The ${what} contains an unpaired surrogate, which UTF-8 cannot represent.`);
  return Buffer.from(value, 'utf8');
}

// The wrapped key is bound to the record (aad) and to the id it is filed under, so neither moving a
// record to another row nor relabelling it with another key's id can go unnoticed.
function wrapAad(masterKeyId: string, aad: string): Buffer {
  return utf8(`${VERSION}.${masterKeyId}.${aad}`, 'aad');
}

function gcmSeal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

function gcmOpen(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  const body = decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([body, decipher.final()]);
  } catch {
    body.fill(0);
    throw new EnvelopeError('tampered', 'The sealed secret failed authentication: it was altered, or it belongs to a different record.');
  }
}

interface Parts {
  masterKeyId: string;
  wrappedText: string;
  wrapped: Buffer;
  dataText: string;
  data: Buffer;
}

function malformed(detail: string): never {
  throw new EnvelopeError('malformed', `The sealed secret is not in the expected format (${detail}).`);
}

// Canonical only: Node's decoder ignores stray characters and the unused low bits of the last
// character, so without the re-encode check some edits to the text would still open.
function decodeBase64Url(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

function parse(sealed: string): Parts {
  if (typeof sealed !== 'string') malformed('not a string');
  const fields = sealed.split('.');
  if (fields.length !== 4) malformed('wrong number of parts');
  const [version, masterKeyId, wrappedText, dataText] = fields as [string, string, string, string];
  if (version !== VERSION) malformed('unknown version');
  if (!MASTER_KEY_ID.test(masterKeyId)) malformed('bad master key id');
  const wrapped = decodeBase64Url(wrappedText);
  if (wrapped?.length !== WRAPPED_BYTES) malformed('bad wrapped key');
  const data = decodeBase64Url(dataText);
  if (data === undefined || data.length < NONCE_BYTES + TAG_BYTES) malformed('bad ciphertext');
  return { masterKeyId, wrappedText, wrapped, dataText, data };
}

function findKey(ring: KeyRing, id: string): MasterKey {
  if (ring.current.id === id) return ring.current;
  const key = ring.previous.find((k) => k.id === id);
  if (key) return key;
  // The id is a hash prefix of the key, safe to show, and it tells the operator which key to restore.
  throw new EnvelopeError('unknown_master_key', `The secret was sealed with master key ${id}, which is not configured.`);
}

function unwrap(ring: KeyRing, parts: Parts, aad: string): Buffer {
  const master = findKey(ring, parts.masterKeyId);
  return gcmOpen(master.key, parts.wrapped, wrapAad(parts.masterKeyId, aad));
}

function wrap(master: MasterKey, dataKey: Buffer, aad: string): string {
  return gcmSeal(master.key, dataKey, wrapAad(master.id, aad)).toString('base64url');
}

/** Encrypts `plaintext` for the record named by `aad` (e.g. "deploy_keys:42:private_key"). */
export function seal(ring: KeyRing, plaintext: Buffer | string, aad: string): string {
  const data = typeof plaintext === 'string' ? utf8(plaintext, 'plaintext') : plaintext;
  const dataKey = randomBytes(KEY_BYTES);
  try {
    const ciphertext = gcmSeal(dataKey, data, utf8(aad, 'aad')).toString('base64url');
    return `${VERSION}.${ring.current.id}.${wrap(ring.current, dataKey, aad)}.${ciphertext}`;
  } finally {
    dataKey.fill(0);
  }
}

/** Decrypts a sealed secret; `aad` must be the one it was sealed with. */
export function open(ring: KeyRing, sealed: string, aad: string): Buffer {
  const parts = parse(sealed);
  const dataKey = unwrap(ring, parts, aad);
  try {
    return gcmOpen(dataKey, parts.data, utf8(aad, 'aad'));
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Re-wraps the data key under ring.current, leaving the data part byte for byte as it was. The data
 * part is still authenticated first, so a rotation job reports a damaged record while the old key is
 * at hand rather than carrying the damage forward. A record already under current is returned as is.
 */
export function rewrap(ring: KeyRing, sealed: string, aad: string): string {
  const parts = parse(sealed);
  if (parts.masterKeyId === ring.current.id) return sealed;
  const dataKey = unwrap(ring, parts, aad);
  try {
    gcmOpen(dataKey, parts.data, utf8(aad, 'aad')).fill(0);
    return `${VERSION}.${ring.current.id}.${wrap(ring.current, dataKey, aad)}.${parts.dataText}`;
  } finally {
    dataKey.fill(0);
  }
}

/** The id of the master key that wrapped a sealed value (to find records still needing rewrap). */
export function sealedWith(sealed: string): string {
  return parse(sealed).masterKeyId;
}

/**
 * How many leading characters of a sealed value name its master key (`v1.<masterKeyId>`): enough for
 * a database to list the master keys in use without reading any secret.
 */
export const SEALED_KEY_PREFIX_LENGTH = VERSION.length + 1 + 16;

/** The distinct master key ids named by sealed values' first SEALED_KEY_PREFIX_LENGTH characters (malformed ones are skipped). */
export function masterKeyIdsIn(prefixes: Iterable<string>): string[] {
  const ids = new Set<string>();
  for (const prefix of prefixes) {
    const [version, id] = prefix.split('.');
    if (version === VERSION && id !== undefined && MASTER_KEY_ID.test(id)) ids.add(id);
  }
  return [...ids];
}
