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

/** Checks shape and checksum; never touches storage. */
export function parseToken(token: string): ParsedToken {
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return { ok: false, reason: 'not_a_keysmith_token' };
  const [, prefix, random, checksum] = match as unknown as [string, string, string, string];
  if (encodeChecksum(random) !== checksum) return { ok: false, reason: 'bad_checksum' };
  return { ok: true, kind: prefix === 'ksu' ? 'user' : 'service', hash: sha256Hex(token) };
}
