// The only reader of process.env. Everything else receives a frozen Config.
import { isIPv6 } from 'node:net';
import path from 'node:path';

export type MasterKeySource = { kind: 'env'; base64: string } | { kind: 'file'; path: string } | { kind: 'default-file'; path: string };

export interface Config {
  readonly databaseUrl: string;
  readonly host: string;
  readonly port: number;
  readonly publicUrl: string;
  readonly masterKey: MasterKeySource;
  /** Older master keys still accepted for reading while a rotation runs (KEYSMITH_PREVIOUS_MASTER_KEY[_FILE]). */
  readonly previousMasterKeys: MasterKeySource[];
  readonly logLevel: string;
  /** `json` (one object a line, the default) or `pretty` (for a person reading a terminal). */
  readonly logFormat: LogFormat;
  /** How long a console session lives, in seconds. */
  readonly sessionTtlSeconds: number;
  /** How often pending `last_used_at` values are written to the database, in milliseconds. */
  readonly lastUsedFlushMs: number;
  /** How long refused authentications are counted before the counts are written (at most 1 s). */
  readonly refusedAuthFlushMs: number;
  /** How long a looked-up API key is trusted before it is read again, in milliseconds. */
  readonly credentialCacheTtlMs: number;
  /**
   * Started by npm (`npx keysmith serve`, npm scripts): npm passes a signal only to the shell it ran
   * us in, so the server stops when that parent is gone instead of living on as an orphan.
   */
  readonly stopWithParent: boolean;
  /** The bearer token GET /metrics asks for (KEYSMITH_METRICS_TOKEN); undefined turns /metrics off. */
  readonly metricsToken: string | undefined;
  /**
   * Fastify's `trustProxy` (KEYSMITH_TRUST_PROXY): how many proxy hops, or which proxy addresses, may
   * set the client address and scheme through X-Forwarded-For/-Proto; false trusts none.
   */
  readonly trustProxy: TrustProxy;
  /**
   * Where email goes (KEYSMITH_SMTP_URL, smtp:// or smtps://, optionally with user:password@) and
   * whom it is from (KEYSMITH_MAIL_FROM); undefined when either is unset: nobody is emailed.
   */
  readonly mail: MailConfig | undefined;
}

export interface MailConfig {
  readonly smtpUrl: string;
  readonly from: string;
}

export type TrustProxy = false | number | string[];

export class ConfigError extends Error {}

export type LogFormat = 'json' | 'pretty';
const LOG_FORMATS: ReadonlySet<string> = new Set<LogFormat>(['json', 'pretty']);

const MIN_METRICS_TOKEN_LENGTH = 16;

// An IPv4 or IPv6 address (IPv6 in its usual forms, with an optional embedded IPv4 tail), with an optional /prefix.
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function validPrefix(text: string, max: number): boolean {
  return /^\d{1,3}$/.test(text) && Number(text) <= max;
}

function isAddressOrCidr(entry: string): boolean {
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const prefix = slash === -1 ? undefined : entry.slice(slash + 1);
  if (IPV4.test(address)) return prefix === undefined || validPrefix(prefix, 32);
  if (isIPv6(address)) return prefix === undefined || validPrefix(prefix, 128);
  return false;
}

/** KEYSMITH_TRUST_PROXY: unset or empty → trust no proxy; digits → a hop count; else a comma-separated list of addresses and CIDRs. */
function parseTrustProxy(text: string | undefined): TrustProxy {
  const value = text?.trim() ?? '';
  if (value === '') return false;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > 10) throw new ConfigError(`KEYSMITH_TRUST_PROXY is a hop count of at most 10 (the proxies in front of Keysmith), not ${value.slice(0, 20)}.`);
    return hops === 0 ? false : hops;
  }
  const entries = value.split(',').map((entry) => entry.trim());
  const bad = entries.find((entry) => !isAddressOrCidr(entry));
  if (bad !== undefined) {
    throw new ConfigError(
      `KEYSMITH_TRUST_PROXY must be a hop count (such as 1) or a comma-separated list of proxy addresses and CIDRs (such as 10.0.0.0/8,127.0.0.1); "${bad.slice(0, 60)}" is neither.`,
    );
  }
  return entries;
}

function parseMetricsToken(text: string | undefined): string | undefined {
  const token = text?.trim() ?? '';
  if (token === '') return undefined;
  if (token.length < MIN_METRICS_TOKEN_LENGTH || token.length > 512 || /[^\x21-\x7e]/.test(token)) {
    throw new ConfigError(`KEYSMITH_METRICS_TOKEN must be ${MIN_METRICS_TOKEN_LENGTH} to 512 printable characters without spaces (for example the output of: openssl rand -hex 32).`);
  }
  return token;
}

/** KEYSMITH_SMTP_URL and KEYSMITH_MAIL_FROM: both, or neither (then nobody is emailed). */
function parseMail(smtpText: string | undefined, fromText: string | undefined): MailConfig | undefined {
  const smtpUrl = smtpText?.trim() ?? '';
  const from = fromText?.trim() ?? '';
  if (smtpUrl === '' && from === '') return undefined;
  if (smtpUrl === '' || from === '') {
    throw new ConfigError('Email needs both KEYSMITH_SMTP_URL (such as smtp://mail.example.com:587) and KEYSMITH_MAIL_FROM (such as keysmith@example.com); set both, or neither to send no email.');
  }
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    throw new ConfigError('KEYSMITH_SMTP_URL must be a URL such as smtp://mail.example.com:587 or smtps://user:password@mail.example.com:465.');
  }
  if ((url.protocol !== 'smtp:' && url.protocol !== 'smtps:') || url.hostname === '') {
    throw new ConfigError(`KEYSMITH_SMTP_URL must start with smtp:// or smtps:// and name a host, not "${url.protocol}".`);
  }
  // A bare address or "Name <address>"; nodemailer reads either.
  const address = /<([^<>]+)>\s*$/.exec(from)?.[1] ?? from;
  if (!/^[^\s@<>]+@[^\s@<>]+$/.test(address)) {
    throw new ConfigError(`KEYSMITH_MAIL_FROM must be an email address such as keysmith@example.com or "Keysmith <keysmith@example.com>".`);
  }
  return Object.freeze({ smtpUrl, from });
}

const DEFAULT_DATABASE_URL = 'sqlite:./data/keysmith.db';

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const host = env.KEYSMITH_HOST?.trim() || '127.0.0.1';
  const portText = env.KEYSMITH_PORT?.trim() || '8080';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`KEYSMITH_PORT must be a port number between 0 and 65535, not "${portText}".`);
  }
  const databaseUrl = env.KEYSMITH_DATABASE_URL?.trim() || DEFAULT_DATABASE_URL;
  if (!databaseUrl.startsWith('sqlite:') && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('KEYSMITH_DATABASE_URL must start with "sqlite:" or "postgres://".');
  }
  // An IPv6 address such as :: needs brackets in a URL.
  const urlHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const publicUrl = (env.KEYSMITH_PUBLIC_URL?.trim() || `http://${urlHost}:${port}`).replace(/\/+$/, '');
  try {
    new URL(publicUrl);
  } catch {
    throw new ConfigError(`KEYSMITH_PUBLIC_URL must be an absolute URL such as https://keys.example.com.`);
  }

  const logFormat = env.KEYSMITH_LOG_FORMAT?.trim() || 'json';
  if (!LOG_FORMATS.has(logFormat)) throw new ConfigError(`KEYSMITH_LOG_FORMAT must be json (the default) or pretty, not "${logFormat}".`);

  let masterKey: MasterKeySource;
  if (env.KEYSMITH_MASTER_KEY) masterKey = { kind: 'env', base64: env.KEYSMITH_MASTER_KEY.trim() };
  else if (env.KEYSMITH_MASTER_KEY_FILE) masterKey = { kind: 'file', path: path.resolve(env.KEYSMITH_MASTER_KEY_FILE) };
  else masterKey = { kind: 'default-file', path: path.resolve('data/master.key') };

  const previousMasterKeys: MasterKeySource[] = [];
  if (env.KEYSMITH_PREVIOUS_MASTER_KEY) previousMasterKeys.push({ kind: 'env', base64: env.KEYSMITH_PREVIOUS_MASTER_KEY.trim() });
  if (env.KEYSMITH_PREVIOUS_MASTER_KEY_FILE) previousMasterKeys.push({ kind: 'file', path: path.resolve(env.KEYSMITH_PREVIOUS_MASTER_KEY_FILE) });

  return Object.freeze({
    databaseUrl,
    host,
    port,
    publicUrl,
    masterKey,
    previousMasterKeys,
    logLevel: env.KEYSMITH_LOG_LEVEL?.trim() || 'info',
    logFormat: logFormat as LogFormat,
    sessionTtlSeconds: 12 * 60 * 60,
    lastUsedFlushMs: 5_000,
    refusedAuthFlushMs: 1_000,
    credentialCacheTtlMs: 5_000,
    stopWithParent: env.npm_command !== undefined,
    metricsToken: parseMetricsToken(env.KEYSMITH_METRICS_TOKEN),
    trustProxy: parseTrustProxy(env.KEYSMITH_TRUST_PROXY),
    mail: parseMail(env.KEYSMITH_SMTP_URL, env.KEYSMITH_MAIL_FROM),
  });
}

/**
 * `keysmith ssh-certificate` runs on a person's machine and needs none of the server's settings: only
 * the user API key it sends, from KEYSMITH_TOKEN (an environment variable, so it stays out of the
 * shell history and the process list).
 */
export function loadClientToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const token = env.KEYSMITH_TOKEN?.trim();
  return token ? token : undefined;
}
