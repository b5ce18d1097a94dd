// The published error catalogue as a page of the docs: GET /docs/errors, one <h2 id="<code>"> per
// code, so every native error's docs_url (<public url>/docs/errors#<code>) lands on its entry.
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { errorCatalogue, errorCodes, errorStatus } from '../errors.ts';

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** `code` in the catalogue's sentences becomes <code>code</code>. */
const inline = (text: string) => escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');

const STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}h2{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:1.1rem;margin:2rem 0 .25rem}h2 span{font-weight:normal;color:#555}dt{font-weight:600}dd{margin:0 0 .5rem}';
const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

/** No script, one inline style (allowed by its hash), no framing. */
export const ERROR_DOCS_CSP = `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

export function renderErrorCatalogue(): string {
  const entries = errorCodes
    .map((code) => {
      const { meaning, remedy } = errorCatalogue[code];
      return `<h2 id="${code}">${code} <span>(HTTP ${errorStatus[code]})</span></h2>
<dl><dt>What it means</dt><dd>${inline(meaning)}</dd><dt>What to do</dt><dd>${inline(remedy)}</dd></dl>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Keysmith error codes</title><style>${STYLE}</style></head>
<body><h1>Keysmith error codes</h1>
<p>Every error of the native <code>/v1</code> API is <code>{"error": {"code", "message", "remedy", "field", "docs_url"}, "request_id"}</code>.
The <code>code</code> is one of those below; <code>message</code> and <code>remedy</code> say what happened in this request.
The full API description is at <a href="/docs">/docs</a>.</p>
${entries}
</body></html>
`;
}

export function errorDocsRoute(app: FastifyInstance): void {
  const page = renderErrorCatalogue();
  app.get('/docs/errors', { config: { auth: 'none' }, schema: { hide: true } }, async (_request, reply) =>
    reply.header('content-security-policy', ERROR_DOCS_CSP).header('cache-control', 'public, max-age=300').type('text/html; charset=utf-8').send(page),
  );
}
