// The published error catalogue: every code of src/errors.ts has a meaning and a remedy, an anchor on
// /docs/errors, and is the closed enum of the native error schema; an error's docs_url lands on it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorCatalogue, errorCodes, errorStatus } from '../src/errors.ts';
import { seed } from './factories.ts';
import { appFor, bearer } from './harness.ts';

test('every code has a one-sentence meaning and what to do', () => {
  assert.deepEqual(Object.keys(errorCatalogue).sort(), Object.keys(errorStatus).sort());
  for (const code of errorCodes) {
    const entry = errorCatalogue[code];
    assert.ok(Object.hasOwn(errorCatalogue, code), code);
    for (const text of [entry.meaning, entry.remedy]) {
      assert.match(text, /^[A-Z`].{10,300}[.]$/s, `${code}: "${text}" is a sentence`);
    }
  }
});

test('/docs/errors has an anchor per code, and the schema enum is exactly the codes', async (t) => {
  const app = await appFor(t, 'sqlite');
  const res = await app.request({ method: 'GET', url: '/docs/errors' });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/html/);
  assert.match(String(res.headers['content-security-policy']), /default-src 'none'.*frame-ancestors 'none'/);
  const ids = [...res.body.matchAll(/<h2 id="([a-z_]+)">/g)].map((m) => m[1]);
  assert.deepEqual(ids, errorCodes);
  for (const code of errorCodes) assert.ok(res.body.includes(`${code} <span>(HTTP ${errorStatus[code]})</span>`), code);
  assert.ok(!res.body.includes('`'), 'inline code is rendered, not left as backticks');

  const spec = (await app.request({ method: 'GET', url: '/openapi.json' })).json() as {
    components: { schemas: Record<string, { properties: { error: { properties: { code: { enum?: string[]; anyOf?: Array<{ const?: string; enum?: string[] }> } } } } }> };
  };
  const schema = Object.values(spec.components.schemas).find((s) => s.properties?.error?.properties?.code);
  assert.ok(schema, 'the native error schema is in the description');
  const code = schema.properties.error.properties.code;
  const listed = code.enum ?? code.anyOf?.flatMap((a) => a.enum ?? (a.const ? [a.const] : []));
  assert.deepEqual(listed, errorCodes);
});

test("an error's docs_url points at its code's anchor on the served catalogue", async (t) => {
  const app = await appFor(t, 'sqlite');
  const alice = await seed(app);
  const page = (await app.request({ method: 'GET', url: '/docs/errors' })).body;
  const errors = [
    await app.request({ method: 'GET', url: '/v1/user' }),
    await app.request({ method: 'GET', url: '/v1/nothing-here', headers: bearer(alice.key) }),
    await app.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(alice.key), payload: { name: '' } }),
  ];
  assert.deepEqual(
    errors.map((r) => r.json().error.code),
    ['credentials_required', 'not_found', 'validation_failed'],
  );
  for (const res of errors) {
    const { code, docs_url } = res.json().error as { code: string; docs_url: string };
    const url = new URL(docs_url);
    assert.equal(`${url.origin}${url.pathname}`, `${app.config.publicUrl}/docs/errors`);
    assert.equal(url.hash, `#${code}`);
    assert.ok(page.includes(`<h2 id="${code}">`), `the anchor for ${code} exists`);
    assert.equal((await app.request({ method: 'GET', url: url.pathname })).statusCode, 200);
  }
});
