// API key format: `ksu_` (user) or `kss_` (service), 30 random base62 characters, then 6 base62
// characters of the CRC32 of those 30 — GitHub's token scheme. The checksum lets us refuse a mistyped
// or made-up token without touching the database.
import { crc32 } from 'node:zlib';
import { BASE62, randomBase62, sha256Hex } from './random.ts';

export type TokenKind = 'user' | 'service';

const PREFIX: Record<TokenKind, string> = { user: 'ksu_', service: 'kss_' };
const RANDOM_LENGTH = 30;
const CHECKSUM_LENGTH = 6;
const TOKEN_PATTERN = /^(ksu|kss)_([0-9A-Za-z]{30})([0-9A-Za-z]{6})$/;

function encodeChecksum(random: string): string {
  let value = crc32(random);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

export interface MintedToken {
  /** The whole secret, shown to its owner once. */
  token: string;
  /** SHA-256 hex of the token: what the database keeps. */
  hash: string;
  /** Prefix plus the first four random characters: enough to recognise a key in a list. */
  start: string;
}

export function mintToken(kind: TokenKind): MintedToken {
  const random = randomBase62(RANDOM_LENGTH);
  const token = `${PREFIX[kind]}${random}${encodeChecksum(random)}`;
  return { token, hash: sha256Hex(token), start: token.slice(0, PREFIX[kind].length + 4) };
}

export type ParsedToken = { ok: true; kind: TokenKind; hash: string } | { ok: false; reason: 'not_a_keysmith_token' | 'bad_checksum' };

/** The same shape, without capture groups: the cheaper test for the request path. */
const TOKEN_SHAPE = /^ks[us]_[0-9A-Za-z]{36}$/;

/**
 * The SHA-256 of a token of the right shape (undefined otherwise), without the checksum. The
 * credential check looks the hash up in its cache first: a cached hash is a minted key, whose
 * checksum is right, so only a miss needs `checksumMatches` (before any storage look-up).
 */
export function tokenHash(token: string): string | undefined {
  return TOKEN_SHAPE.test(token) ? sha256Hex(token) : undefined;
}

/** For a token of the right shape (see tokenHash): whether its last 6 characters are the CRC32 of the random part. */
export function checksumMatches(token: string): boolean {
  const random = token.slice(-(RANDOM_LENGTH + CHECKSUM_LENGTH), -CHECKSUM_LENGTH);
  return encodeChecksum(random) === token.slice(-CHECKSUM_LENGTH);
}

/** Checks shape and checksum; never touches storage. */
export function parseToken(token: string): ParsedToken {
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return { ok: false, reason: 'not_a_keysmith_token' };
  if (!checksumMatches(token)) return { ok: false, reason: 'bad_checksum' };
  return { ok: true, kind: match[1] === 'ksu' ? 'user' : 'service', hash: sha256Hex(token) };
}
