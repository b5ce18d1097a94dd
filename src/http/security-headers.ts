// Response headers every answer carries:
// - X-Content-Type-Options: nosniff, always;
// - Strict-Transport-Security when the public URL is https (a year; subdomains are not ours to bind);
// - Cache-Control: no-store on every response that has not said how it may be cached. API answers
//   carry secrets (a new key, a session, private keys) or per-caller data, so none is cacheable;
//   static files (the console's assets, /docs' files) set their own Cache-Control, which replaces it;
// - /docs (swagger-ui): a Content-Security-Policy allowing only its own files, and no framing.
// They are set as defaults when the request arrives, first in each route's own onRequest hook (app.ts
// passes them to registerAuth), before the route, a refusal or an error handler runs (Fastify keeps a
// reply's headers through its error handler), so whatever a route or plugin sets later wins. Answers
// no route saw (not found, an unreadable request) get them from the error senders
// (reply.setDefaultHeaders()). No separate hook runs for them on any request.
import type { FastifyReply, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyReply {
    /** Sets the default headers below (app.ts decorates every reply with it); for the error senders. */
    setDefaultHeaders(): void;
  }
}

/**
 * What @fastify/swagger-ui serves: an HTML page loading its scripts and styles from /docs/static/
 * (no inline script or style element), the description from /docs/json, and data: images (its icons).
 * "Try it out" calls the API at the public URL. swagger-ui-bundle.js itself adds one <style> element
 * with fixed content at start-up; its hash (what Chromium reports for it, the same on every load of
 * @fastify/swagger-ui 6.1) is the one inline style allowed. Should a new version change it, the page
 * still works and the browser's console names the new hash.
 */
const SWAGGER_UI_STYLE_HASH = "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='";

export function docsContentSecurityPolicy(publicUrl: string): string {
  const api = new URL(publicUrl).origin;
  return [
    "default-src 'self'",
    "script-src 'self'",
    "script-src-attr 'none'",
    `style-src 'self' ${SWAGGER_UI_STYLE_HASH}`,
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self' ${api}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Whether a request URL's path (before any query) is /docs or lies under /docs/, without splitting it. */
function isDocsPath(url: string): boolean {
  if (!url.startsWith('/docs')) return false;
  const next = url.charCodeAt(5);
  // End of the URL, "/" or "?".
  return Number.isNaN(next) || next === 0x2f || next === 0x3f;
}

/** Sets the default headers on a reply; called first in the root onRequest hook, so on every answer. */
export function securityHeaders({ publicUrl }: { publicUrl: string }): (request: FastifyRequest, reply: FastifyReply) => void {
  const hsts = publicUrl.startsWith('https:') ? 'max-age=31536000' : undefined;
  const docsCsp = docsContentSecurityPolicy(publicUrl);
  return (request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('cache-control', 'no-store');
    if (hsts) reply.header('strict-transport-security', hsts);
    if (isDocsPath(request.url)) {
      reply.header('content-security-policy', docsCsp);
      reply.header('x-frame-options', 'DENY');
    }
  };
}
