// The headers every response carries (src/http/security-headers.ts): nosniff always, HSTS behind an
// https public URL, no-store on anything that has not said how it may be cached (every answer with a
// secret among them), and a CSP with no framing on /docs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addServiceKey, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase } from './harness.ts';

forEachDatabase('security headers', (kind) => {
  test('every response that carries a secret says no-store, and every response says nosniff', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const secrets = [
      await app.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(alice.key), payload: { name: 'laptop' } }),
      await app.request({ method: 'POST', url: '/v1/service-api-keys', headers: { ...bearer(alice.key), 'x-keysmith-account': 'acme' }, payload: { name: 'ci', role: 'runner' } }),
      await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'alice', password: alice.password } }),
    ];
    for (const res of secrets) {
      assert.ok(res.statusCode === 200 || res.statusCode === 201, res.body);
      assert.equal(res.headers['cache-control'], 'no-store', res.body.slice(0, 80));
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
    }
    const runner = secrets[1]!.json().key as string;
    assert.equal(
      (await app.request({ method: 'POST', url: '/v1/projects', headers: { ...bearer(alice.key), 'x-keysmith-account': 'acme' }, payload: { vcs_type: 'gh', name: 'web' } })).statusCode,
      201,
    );
    const credentials = await app.request({ method: 'GET', url: '/v1/projects/gh/acme/web/checkout-credentials', headers: bearer(runner) });
    assert.equal(credentials.statusCode, 200, credentials.body);
    assert.equal(credentials.headers['cache-control'], 'no-store');

    // Errors, refusals, other dialects and unknown paths too.
    const others = [
      await app.request({ method: 'GET', url: '/v1/user' }),
      await app.request({ method: 'GET', url: '/v1/user', headers: bearer(alice.key) }),
      await app.request({ method: 'GET', url: '/api/v3/user/keys', headers: bearer(alice.key) }),
      await app.request({ method: 'GET', url: '/api/v2/me', headers: { 'circle-token': (await addServiceKey(app, alice.key, 'acme', 'read_only')).key } }),
      await app.request({ method: 'GET', url: '/no/such/thing' }),
      await app.request({ method: 'GET', url: '/healthz' }),
      // Answers no route's hook saw: unknown paths of each dialect, a body that cannot be read on an
      // unknown path, a control character in a path no route has.
      await app.request({ method: 'GET', url: '/api/v3/no/such/thing' }),
      await app.request({ method: 'GET', url: '/api/v1.1/no/such/thing' }),
      await app.request({ method: 'POST', url: '/no/such/thing', headers: { 'content-type': 'application/json' }, payload: '{' }),
      await app.request({ method: 'GET', url: '/api/v2/no%00such' }),
      // A refusal of the body on a route.
      await app.request({ method: 'POST', url: '/v1/user/api-keys', headers: { ...bearer(alice.key), 'content-type': 'application/json' }, payload: '{' }),
    ];
    for (const res of others) {
      assert.equal(res.headers['x-content-type-options'], 'nosniff', res.body.slice(0, 80));
      assert.equal(res.headers['cache-control'], 'no-store', res.body.slice(0, 80));
      assert.equal(res.headers['strict-transport-security'], undefined, 'no HSTS on an http public URL');
    }
  });
});

test('HSTS for a year when the public URL is https', async (t) => {
  const app = await appFor(t, 'sqlite', { env: { KEYSMITH_PUBLIC_URL: 'https://keys.example.com' } });
  for (const url of ['/healthz', '/v1/user', '/docs', '/openapi.json']) {
    const res = await app.request({ method: 'GET', url });
    assert.equal(res.headers['strict-transport-security'], 'max-age=31536000', url);
    assert.equal(res.headers['x-content-type-options'], 'nosniff', url);
  }
});

test('/docs has a CSP that allows only its own files and forbids framing; static files keep their own caching', async (t) => {
  const app = await appFor(t, 'sqlite');
  let res = await app.request({ method: 'GET', url: '/docs' });
  if (res.statusCode === 302) res = await app.request({ method: 'GET', url: String(res.headers.location) });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /text\/html/);
  const csp = String(res.headers['content-security-policy']);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/, 'no inline scripts');
  assert.match(csp, /style-src 'self' 'sha256-[A-Za-z0-9+/=]+'(;|$)/, "no inline style but the one swagger-ui's bundle adds, by its hash");
  assert.match(csp, /object-src 'none'/);
  assert.equal(res.headers['x-frame-options'], 'DENY');
  // The page swagger-ui serves has no inline script or style that this policy would block.
  assert.doesNotMatch(res.body, /<script(?![^>]*\bsrc=)[^>]*>/, 'every script is a file');
  assert.doesNotMatch(res.body, /<style|\sstyle=/, 'no inline style');
  for (const src of [...res.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)) {
    assert.ok(!/^(https?:)?\/\//.test(src), `${src} is served by this origin`);
  }

  const css = await app.request({ method: 'GET', url: '/docs/static/swagger-ui.css' });
  assert.equal(css.statusCode, 200);
  assert.notEqual(css.headers['cache-control'], 'no-store', 'a static file keeps the caching it declares');
  assert.equal(css.headers['x-frame-options'], 'DENY');
  assert.equal(css.headers['x-content-type-options'], 'nosniff');
});
