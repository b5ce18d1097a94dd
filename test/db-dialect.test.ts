// The database errors the services turn into sentences are told apart the same way on both databases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isForeignKeyViolation, isUniqueViolation } from '../src/db/dialect.ts';
import { seed } from './factories.ts';
import { appFor, forEachDatabase } from './harness.ts';

forEachDatabase('database errors', (kind) => {
  test('a write naming a row that does not exist is a foreign-key violation, not a unique one', async (t) => {
    const app = await appFor(t, kind);
    await seed(app);
    const err = await app.services.db
      .insertInto('service_key_projects')
      .values({ api_key_id: 999_999, project_id: 999_999 })
      .execute()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err, 'the insert was refused');
    assert.equal(isForeignKeyViolation(err), true);
    assert.equal(isUniqueViolation(err), false);
  });
});
