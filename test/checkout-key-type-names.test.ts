// Checkout-key `type` is a closed vocabulary: a prototype name is an unknown type (400 with the list),
// never a 5xx and never a key (on PostgreSQL `__proto__` once made a key of kind "{}").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addProject, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase } from './harness.ts';

forEachDatabase('checkout-key type names', (kind) => {
  test('type __proto__, constructor, hasOwnProperty or toString is refused on v1.1 and v2, and nothing is written', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme');
    const count = async (table: 'checkout_keys' | 'ssh_keys' | 'audit_events') =>
      Number(
        (
          await app.services.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = [await count('checkout_keys'), await count('ssh_keys'), await count('audit_events')];
    for (const type of ['__proto__', 'constructor', 'hasOwnProperty', 'toString']) {
      for (const url of ['/api/v1.1/project/gh/acme/web/checkout-key', '/api/v2/project/gh/acme/web/checkout-key']) {
        const res = await app.request({ method: 'POST', url, headers: bearer(alice.key), payload: { type } });
        assert.equal(res.statusCode, 400, `${url} ${type}: ${res.body}`);
        assert.match(res.json().message, /type/, `${url} ${type}`);
      }
    }
    assert.deepEqual([await count('checkout_keys'), await count('ssh_keys'), await count('audit_events')], before);
  });
});
