// The master key wraps the per-record data keys of encrypted secrets. It comes from the environment,
// from a file, or — for the embedded default — from ./data/master.key, created on first start.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config, MasterKeySource } from '../config.ts';
import { CodedError } from './coded-error.ts';
import { masterKeyFrom, type KeyRing } from './envelope.ts';

export type MasterKeyErrorCode = 'malformed_master_key' | 'missing_master_key_file' | 'unconfigured_master_key';

export class MasterKeyError extends CodedError<MasterKeyErrorCode> {}

export interface LoadedMasterKey {
  key: Buffer;
  /** Set when the embedded default file was created just now; the caller logs it as a warning. */
  createdFile?: string;
}

function decode(base64: string, where: string): Buffer {
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== 32) {
    throw new MasterKeyError('malformed_master_key', `${where} must hold 32 random bytes in base64 (for example: openssl rand -base64 32).`);
  }
  return key;
}

export function loadMasterKey(source: MasterKeySource): LoadedMasterKey {
  if (source.kind === 'env') return { key: decode(source.base64, 'KEYSMITH_MASTER_KEY') };
  if (source.kind === 'file') {
    if (!fs.existsSync(source.path)) throw new MasterKeyError('missing_master_key_file', `KEYSMITH_MASTER_KEY_FILE names ${source.path}, which does not exist.`);
    return { key: decode(fs.readFileSync(source.path, 'utf8'), `The master key file ${source.path}`) };
  }
  if (fs.existsSync(source.path)) return { key: decode(fs.readFileSync(source.path, 'utf8'), `The master key file ${source.path}`) };
  fs.mkdirSync(path.dirname(source.path), { recursive: true });
  const key = randomBytes(32);
  // 'wx' refuses to overwrite a file another process created a moment ago.
  try {
    fs.writeFileSync(source.path, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another process created it a moment ago: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { key: decode(fs.readFileSync(source.path, 'utf8'), `The master key file ${source.path}`) };
    throw err;
  }
  return { key, createdFile: source.path };
}

/** The ring services use: the current master key wraps, every key of the ring unwraps. */
export function loadKeyRing(config: Pick<Config, 'masterKey' | 'previousMasterKeys'>): { ring: KeyRing; createdFile?: string } {
  const current = loadMasterKey(config.masterKey);
  const previous = config.previousMasterKeys.map((source) => masterKeyFrom(loadMasterKey(source).key));
  return { ring: { current: masterKeyFrom(current.key), previous }, ...(current.createdFile ? { createdFile: current.createdFile } : {}) };
}
