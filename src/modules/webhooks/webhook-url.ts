// Which URLs a webhook may point at. Keysmith runs next to private services, so private and loopback
// addresses are allowed (a receiver on the same network is the common case), but never the link-local
// range (169.254.0.0/16, fe80::/10), where clouds serve instance metadata and credentials. The check is
// made when the webhook is created and again on every address the name resolves to when a delivery is
// sent, so a DNS answer that changes later cannot reach the metadata service either.
import net from 'node:net';
import { AppError } from '../../errors.ts';

export const WEBHOOK_URL_MAX_LENGTH = 2000;

const refuse = (message: string) => new AppError('validation_failed', message, undefined, { field: 'url' });

// The link-local ranges, and the "any" addresses that reach the machine itself under another name.
// BlockList also matches IPv4 rules against IPv4-mapped IPv6 addresses (::ffff:169.254.0.1, ::ffff:a9fe:1).
const forbidden = new net.BlockList();
forbidden.addSubnet('169.254.0.0', 16, 'ipv4');
forbidden.addSubnet('fe80::', 10, 'ipv6');
forbidden.addAddress('0.0.0.0', 'ipv4');
forbidden.addAddress('::', 'ipv6');

/** True for an address no webhook may reach. */
export function isForbiddenAddress(address: string): boolean {
  const family = net.isIP(address);
  return family !== 0 && forbidden.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/** The URL to store, or a 400 saying what to change. */
export function checkWebhookUrl(text: string): string {
  if (text.length > WEBHOOK_URL_MAX_LENGTH) throw refuse(`The webhook URL is ${text.length} characters long; use one of at most ${WEBHOOK_URL_MAX_LENGTH}.`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw refuse(`The webhook URL ${JSON.stringify(text.slice(0, 100))} is not an absolute URL; give one such as https://hooks.example.com/keysmith.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw refuse(`A webhook is delivered over HTTP, so its URL must start with https:// (or http://), not ${url.protocol}//.`);
  }
  if (url.username || url.password) {
    throw refuse('The webhook URL carries a user name or password; leave them out: the receiver checks the X-Keysmith-Signature-256 header instead.');
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isForbiddenAddress(host)) {
    throw refuse(`The webhook URL points at ${host}, in the link-local range (169.254.0.0/16, fe80::/10) where cloud metadata services answer; Keysmith does not send there.`);
  }
  if (host.toLowerCase() === 'metadata.google.internal') throw refuse('The webhook URL points at a cloud metadata service; Keysmith does not send there.');
  url.hash = '';
  return url.toString();
}
