// The login-time lookup is one read that only searches indexes: the key by its unique SHA256
// fingerprint, then primary keys (owner, membership of the server's account, project, and the account's
// and the instance's credential policies). A scan would
// make a login's cost grow with the number of keys stored.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { keyByFingerprint } from '../src/modules/ssh-access/ssh-access.repo.ts';
import { appFor, forEachDatabase } from './harness.ts';

forEachDatabase('SSH lookup plan', (kind) => {
  test('the fingerprint lookup searches indexes only', async (t) => {
    const app = await appFor(t, kind);
    const query = keyByFingerprint(app.services.db, 1, 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s', '2026-12-03T00:00:00.000Z').compile();
    if (kind === 'sqlite') {
      const { rows } = await app.services.db.executeQuery<{ detail: string }>({ ...query, sql: `explain query plan ${query.sql}` });
      const steps = rows.map((r) => r.detail);
      // ssh_keys, then owner, membership, project and the two policies, each by its key.
      assert.equal(steps.length, 6, steps.join('\n'));
      assert.ok(
        steps.every((s) => s.startsWith('SEARCH ')),
        `no SCAN step:\n${steps.join('\n')}`,
      );
      assert.match(steps[0]!, /^SEARCH ssh_keys USING INDEX \S+ \(fingerprint_sha256=\?\)/);
      return;
    }
    // PostgreSQL plans a sequential scan over tiny tables; forbid it to see which indexes serve the read.
    const plan = await app.services.db.connection().execute(async (conn) => {
      await sql`set enable_seqscan = off`.execute(conn);
      const { rows } = await conn.executeQuery<{ 'QUERY PLAN': string }>({ ...query, sql: `explain ${query.sql}` });
      await sql`reset enable_seqscan`.execute(conn);
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    assert.doesNotMatch(plan, /Seq Scan/, plan);
    assert.match(plan, /Index Scan using ssh_keys_fingerprint_sha256_key on ssh_keys/, plan);
  });
});
