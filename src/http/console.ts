// The web console: the static files Vite builds into web/dist, served at `/`. The console's own
// addresses (/sign-in, /set-password, /settings/…, /accounts/…, /admin/…) all answer with its index.html, so a link such as a
// grant_url opens the right page; every other unknown path keeps the API's JSON 404.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';

export const CONSOLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');

/** The console's client-side addresses; each serves index.html and the page picks itself. */
const PAGES = ['/', '/sign-in', '/set-password', '/settings', '/settings/*', '/accounts', '/accounts/*', '/admin', '/admin/*'];

// The console loads nothing but its own files and talks to nothing but this server.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function secureHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('x-frame-options', 'DENY');
  reply.header('referrer-policy', 'same-origin');
  reply.header('cross-origin-opener-policy', 'same-origin');
}

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Keysmith</title>
<p>The Keysmith console has not been built. Run <code>npm run build:web</code> (or <code>npm ci</code>, which builds it) and restart.
The API is running: see <a href="/docs">/docs</a>.</p></html>`;

export async function consoleRoutes(app: FastifyInstance, { dir = CONSOLE_DIR, logger }: { dir?: string; logger: Pick<Logger, 'warn'> }): Promise<void> {
  // Everything here is public: the files carry no data, and the API checks every call the page makes.
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, auth: 'none' };
    route.schema = { ...route.schema, hide: true };
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    secureHeaders(reply);
    return payload;
  });

  const built = existsSync(path.join(dir, 'index.html'));
  if (!built) {
    logger.warn({ dir }, 'the web console is not built: run npm run build:web');
    for (const url of PAGES) app.get(url, async (_request, reply) => reply.type('text/html; charset=utf-8').status(503).send(NOT_BUILT));
    return;
  }

  // Vite names every asset after a hash of its content, so those may be cached for good; index.html
  // names the current ones and must be checked every time.
  await app.register(fastifyStatic, {
    root: path.join(dir, 'assets'),
    prefix: '/assets/',
    wildcard: false,
    index: false,
    immutable: true,
    maxAge: '365d',
  });
  for (const url of PAGES) {
    app.get(url, async (_request, reply) => reply.header('cache-control', 'no-cache').sendFile('index.html', dir, { cacheControl: false }));
  }
}
