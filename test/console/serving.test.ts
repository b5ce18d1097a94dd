// How Keysmith serves the console: its pages answer with index.html (so a grant_url opens the right
// page), its assets are cached for good, every answer carries a strict CSP, and an unknown path is
// still the API's JSON 404.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CONSOLE_DIR } from '../../src/http/console.ts';
import { appFor, forEachDatabase } from '../harness.ts';

forEachDatabase('console serving', (kind) => {
  test('console pages answer with index.html and a strict Content-Security-Policy; assets are immutable', async (t) => {
    const app = await appFor(t, kind);
    const index = readFileSync(path.join(CONSOLE_DIR, 'index.html'), 'utf8');
    for (const url of ['/', '/sign-in', '/settings/permissions?grant=write:public_key', '/accounts/acme/projects/gh/web', '/settings', '/admin/users', '/admin', '/set-password?token=abc']) {
      // A credential, even a broken one, is not looked at: the page itself carries no data.
      const res = await app.request({ method: 'GET', url, headers: { authorization: 'Bearer not-a-key' } });
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.body, index, url);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.equal(res.headers['cache-control'], 'no-cache');
      assert.match(String(res.headers['content-security-policy']), /default-src 'self'; script-src 'self'; style-src 'self'.*frame-ancestors 'none'/);
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['cross-origin-opener-policy'], 'same-origin');
    }
    const assets = [...index.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    assert.ok(assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css')), `index.html names its script and stylesheet: ${assets.join(', ')}`);
    for (const asset of assets) {
      const res = await app.request({ method: 'GET', url: asset });
      assert.equal(res.statusCode, 200, asset);
      assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable', asset);
    }
    assert.equal((await app.request({ method: 'GET', url: '/assets/no-such-file.js' })).statusCode, 404);
  });

  test('anything else is still the API: a JSON 404, and the console is not in /openapi.json', async (t) => {
    const app = await appFor(t, kind);
    for (const url of ['/nope', '/v1/nope', '/api/v3/nope']) {
      const res = await app.request({ method: 'GET', url });
      assert.equal(res.statusCode, 404, url);
      assert.match(String(res.headers['content-type']), /application\/json/, url);
    }
    const paths = Object.keys((await app.request({ method: 'GET', url: '/openapi.json' })).json().paths);
    assert.ok(!paths.some((p) => p.startsWith('/settings') || p.startsWith('/accounts/') || p.startsWith('/assets') || p === '/'), paths.join(', '));
  });

  test('an unbuilt console answers its pages with how to build it, and the API keeps working', async (t) => {
    const app = await appFor(t, kind, { consoleDir: mkdtempSync(path.join(os.tmpdir(), 'keysmith-no-console-')) });
    const res = await app.request({ method: 'GET', url: '/settings/api-keys' });
    assert.equal(res.statusCode, 503);
    assert.match(res.body, /npm run build:web/);
    assert.equal((await app.request({ method: 'GET', url: '/healthz' })).statusCode, 200);
    assert.ok(app.logs.some((line) => line.includes('the web console is not built')));
  });
});
