// `keysmith ssh-certificate`: runs on a person's own machine, not beside the database. It sends one
// of their SSH public keys to POST /v1/user/ssh-certificates and writes the certificate beside the key
// as `<key without .pub>-cert.pub`, the name ssh looks for (as `step ssh login` and `ssh-keygen -s` do).
// Nothing is written unless Keysmith answered with a certificate; the token never reaches the output.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseSshPublicKey, SshKeyError } from '../crypto/ssh-public-key.ts';

export interface SshCertificateRequest {
  /** Keysmith's public URL. */
  url: string;
  /** The public key file (id_ed25519.pub). */
  keyFile: string;
  account?: string | undefined;
  ttlSeconds?: number | undefined;
  /** A user API key (ksu_…), from KEYSMITH_TOKEN. */
  token: string;
}

export interface WrittenCertificate {
  file: string;
  serial: number;
  keyId: string;
  principals: string[];
  validAfter: Date;
  validBefore: Date;
}

/** A refusal with a sentence for the person at the terminal (exit 1). */
export class CertificateRefused extends Error {}

const TTL_UNITS = new Map([
  ['s', 1],
  ['m', 60],
  ['h', 3600],
  ['d', 86_400],
]);

/** `4h`, `90m`, `30s`, `1d` or a number of seconds; undefined when the text is none of these. */
export function parseTtl(text: string): number | undefined {
  const match = /^([0-9]{1,7})([smhd]?)$/.exec(text.trim());
  if (!match) return undefined;
  const seconds = Number(match[1]) * (TTL_UNITS.get(match[2] || 's') ?? 1);
  return seconds > 0 ? seconds : undefined;
}

/** Where ssh looks for the certificate of a key: `id_ed25519.pub` → `id_ed25519-cert.pub`. */
export function certificatePathFor(keyFile: string): string {
  const base = keyFile.endsWith('.pub') ? keyFile.slice(0, -'.pub'.length) : keyFile;
  return `${base}-cert.pub`;
}

const READ_ERRORS = new Map([
  ['ENOENT', 'there is no such file'],
  ['EACCES', 'permission denied'],
  ['EISDIR', 'it is a directory, not a file'],
]);

const NETWORK_ERRORS = new Map([
  ['ECONNREFUSED', 'nothing is listening there (connection refused)'],
  ['ENOTFOUND', 'that host name is not known'],
  ['EAI_AGAIN', 'that host name could not be looked up'],
  ['ECONNRESET', 'the connection was reset'],
  ['ETIMEDOUT', 'the connection timed out'],
  ['EHOSTUNREACH', 'the host is unreachable'],
  ['UND_ERR_CONNECT_TIMEOUT', 'the connection timed out'],
  ['CERT_HAS_EXPIRED', 'its TLS certificate has expired'],
  ['DEPTH_ZERO_SELF_SIGNED_CERT', 'its TLS certificate is self-signed'],
  ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'its TLS certificate could not be verified'],
]);

/** The API takes a public key line of at most 16 KiB; a file may add a newline or two. */
const MAX_KEY_FILE_BYTES = 16_384 + 2;

/** A token goes into an Authorization header: anything else would make fetch quote it in an error. */
const TOKEN_SHAPE = /^[\x21-\x7e]{1,512}$/;
const CERTIFICATE_LINE = /^[a-z0-9-]+-cert-v01@openssh\.com [A-Za-z0-9+/]+={0,2}$/;

function readPublicKey(keyFile: string): string {
  let text: string;
  try {
    // A device or a huge file is no key: refuse it before reading (--key /dev/zero would never end).
    const stat = fs.statSync(keyFile);
    if (stat.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    if (!stat.isFile()) throw new CertificateRefused(`${keyFile} is not a regular file. Pass --key the .pub file of your SSH key, such as ~/.ssh/id_ed25519.pub.`);
    if (stat.size > MAX_KEY_FILE_BYTES)
      throw new CertificateRefused(`${keyFile} is ${stat.size} bytes, too large to be an SSH public key (at most ${MAX_KEY_FILE_BYTES}). Pass --key the .pub file of your SSH key.`);
    text = fs.readFileSync(keyFile, 'utf8');
  } catch (err) {
    if (err instanceof CertificateRefused) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new CertificateRefused(`Cannot read ${keyFile}: ${READ_ERRORS.get(code) ?? 'it could not be opened'}. Pass --key the .pub file of your SSH key, such as ~/.ssh/id_ed25519.pub.`);
  }
  try {
    parseSshPublicKey(text);
  } catch (err) {
    if (!(err instanceof SshKeyError)) throw err;
    // The parser's sentences name what is wrong without quoting the input (a private key stays unseen).
    throw new CertificateRefused(`${keyFile} is not an SSH public key: ${err.message}`);
  }
  return text.trim();
}

function baseUrlOf(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CertificateRefused(`--url must be Keysmith's address, such as https://keys.example.com; "${url.slice(0, 100)}" is not a URL.`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new CertificateRefused(`--url must start with https:// or http://, not ${parsed.protocol}.`);
  if (parsed.username || parsed.password) throw new CertificateRefused('--url must not hold a user name or password; the token comes from KEYSMITH_TOKEN.');
  return parsed;
}

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string } }).cause;
  const code = cause?.code ?? (err as { code?: string }).code ?? '';
  return NETWORK_ERRORS.get(code) ?? 'the request failed before an answer came';
}

interface IssuedBody {
  serial: number;
  key_id: string;
  principals: string[];
  valid_after: string;
  valid_before: string;
  certificate: string;
}

function isIssued(body: unknown): body is IssuedBody {
  const b = body as Partial<IssuedBody> | null;
  return (
    typeof b === 'object' &&
    b !== null &&
    typeof b.serial === 'number' &&
    typeof b.key_id === 'string' &&
    Array.isArray(b.principals) &&
    b.principals.every((p) => typeof p === 'string') &&
    typeof b.valid_after === 'string' &&
    typeof b.valid_before === 'string' &&
    typeof b.certificate === 'string' &&
    CERTIFICATE_LINE.test(b.certificate) &&
    !Number.isNaN(Date.parse(b.valid_before)) &&
    !Number.isNaN(Date.parse(b.valid_after))
  );
}

/** The sentence of a native /v1 error ({error: {message, remedy}}), or one made from the status. */
function refusalOf(status: number, statusText: string, body: unknown, origin: string): string {
  const error = (body as { error?: { message?: unknown; remedy?: unknown } } | null)?.error;
  if (error && typeof error.message === 'string') {
    const remedy = typeof error.remedy === 'string' ? ` ${error.remedy}` : '';
    const hint = status === 401 ? ' Set KEYSMITH_TOKEN to one of your user API keys (ksu_…).' : '';
    return `Keysmith refused (${status}): ${error.message}${remedy}${hint}`.replace(/\s*\n\s*/g, ' ');
  }
  return `${origin} answered ${status} ${statusText}, not a certificate: is --url Keysmith's address?`;
}

function writeAtomically(file: string, text: string): void {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    fs.writeFileSync(temporary, text, { mode: 0o644, flag: 'wx' });
    fs.chmodSync(temporary, 0o644); // the umask may have taken bits away
    fs.renameSync(temporary, file);
  } catch (err) {
    fs.rmSync(temporary, { force: true });
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new CertificateRefused(`Cannot write ${file}: ${READ_ERRORS.get(code) ?? (err as Error).message}. Nothing was written.`);
  }
}

export async function requestSshCertificate(request: SshCertificateRequest): Promise<WrittenCertificate> {
  if (!TOKEN_SHAPE.test(request.token)) {
    throw new CertificateRefused('KEYSMITH_TOKEN does not hold an API key (it is empty or has spaces or control characters); set it to one of your user API keys (ksu_…).');
  }
  const base = baseUrlOf(request.url);
  const keyFile = path.resolve(request.keyFile);
  const publicKey = readPublicKey(keyFile);
  const target = certificatePathFor(keyFile);
  const endpoint = new URL('v1/user/ssh-certificates', base.href.endsWith('/') ? base.href : `${base.href}/`);

  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: 'POST',
      headers: { authorization: `Bearer ${request.token}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ public_key: publicKey, account: request.account, ttl_seconds: request.ttlSeconds }),
      // A redirect is not followed: the token would go wherever it points.
      redirect: 'manual',
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    const why = (err as Error).name === 'TimeoutError' ? 'it did not answer within 30 seconds' : describeNetworkError(err);
    throw new CertificateRefused(`Cannot reach Keysmith at ${base.origin}: ${why}. Check --url and that Keysmith is running.`);
  }
  if (response.status >= 300 && response.status < 400) {
    const location = response.headers.get('location');
    const where = location ? ` to ${location.slice(0, 200)}` : '';
    throw new CertificateRefused(`${base.origin} answered ${response.status}, a redirect${where}, which is not followed (the token would go with it): pass Keysmith's own address as --url.`);
  }
  const text = await response.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (response.status !== 201) throw new CertificateRefused(refusalOf(response.status, response.statusText, body, base.origin));
  if (!isIssued(body)) throw new CertificateRefused(`${base.origin} answered 201 without a certificate ssh could read: is --url Keysmith's address? Nothing was written.`);

  writeAtomically(target, `${body.certificate}\n`);
  return {
    file: target,
    serial: body.serial,
    keyId: body.key_id,
    principals: body.principals,
    validAfter: new Date(body.valid_after),
    validBefore: new Date(body.valid_before),
  };
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `2026-12-02 21:40:00 +01:00`: the machine's local time with its offset. */
export function localTime(date: Date): string {
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())} ${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/** The one line the command prints. */
export function describeCertificate(c: WrittenCertificate): string {
  return `Wrote ${c.file} (serial ${c.serial}): valid until ${localTime(c.validBefore)} (${c.validBefore.toISOString()}) for principals ${c.principals.join(', ')}.`;
}
