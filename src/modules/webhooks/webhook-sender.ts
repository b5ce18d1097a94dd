// Sends one delivery: a POST of the exact stored body, signed, through an undici Agent whose DNS
// lookup refuses link-local answers (webhook-url.ts), with one time-out of 10 s for the whole exchange.
// Redirects are not followed: a 3xx is a failed attempt, like any other non-2xx.
import { createHmac } from 'node:crypto';
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import { isForbiddenAddress } from './webhook-url.ts';

export const DELIVERY_TIMEOUT_MS = 10_000;

export const signatureOf = (secret: string, body: string): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, options, (err, address, family) => {
    if (err) return callback(err, address, family);
    const addresses = Array.isArray(address) ? address.map((a: { address: string }) => a.address) : [address];
    const forbidden = addresses.find((a) => isForbiddenAddress(a));
    if (forbidden) return callback(Object.assign(new Error(`${hostname} resolves to ${forbidden}, in the link-local range; not sent`), { code: 'EFORBIDDEN' }), address, family);
    callback(null, address, family);
  });
};

export interface AttemptResult {
  statusCode: number | null;
  /** Why no status came back (refused, timed out, …), in words for the deliveries list. */
  error: string | null;
  durationMs: number;
}

export function createWebhookSender({ timeoutMs = DELIVERY_TIMEOUT_MS }: { timeoutMs?: number } = {}) {
  const agent = new Agent({ connect: { lookup: guardedLookup, timeout: timeoutMs }, keepAliveTimeout: 4_000 });
  return {
    async send(url: string, headers: Record<string, string>, body: string): Promise<AttemptResult> {
      const started = performance.now();
      const took = () => Math.round(performance.now() - started);
      try {
        const response = await request(url, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/json', 'user-agent': 'Keysmith-Hookshot', ...headers },
          body,
          signal: AbortSignal.timeout(timeoutMs),
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        // The answer's body is not kept; it is read (up to the time-out) so the connection can be reused.
        await response.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
        return { statusCode: response.statusCode, error: null, durationMs: took() };
      } catch (err) {
        return { statusCode: null, error: describe(err, timeoutMs), durationMs: took() };
      }
    },
    close: () => agent.close(),
  };
}

export type WebhookSender = ReturnType<typeof createWebhookSender>;

function describe(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code ?? e.code;
  if (e.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return `no answer within ${timeoutMs / 1000} s`;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the host name does not resolve';
  if (code === 'EFORBIDDEN') return (e.cause?.message ?? e.message ?? 'refused').slice(0, 200);
  return `${code ?? 'error'}: ${(e.cause?.message ?? e.message ?? '').slice(0, 200)}`;
}
