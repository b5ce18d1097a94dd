// Refused authentications are counted, not queued: one row per (reason, scheme, address, login tried)
// and window, whose counts add up to every refusal — none dropped, however many or however varied.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_REFUSAL_KEYS } from '../src/modules/audit/audit.service.ts';
import { seed } from './factories.ts';
import { appFor, bearer, forEachDatabase, type TestApp } from './harness.ts';

type Refused = { reason: string; scheme: string; login: string | null; remote_addr: string | null; count: number };

async function refusedRows(app: TestApp): Promise<Refused[]> {
  const rows = await app.services.db.selectFrom('audit_events').select(['details', 'remote_addr', 'count']).where('action', '=', 'auth.refused').execute();
  return rows.map((r) => {
    const details = JSON.parse(r.details!) as { reason: string; scheme: string; login?: string };
    return { reason: details.reason, scheme: details.scheme, login: details.login ?? null, remote_addr: r.remote_addr, count: Number(r.count) };
  });
}

/** Sums the counts per key, over however many windows the key's refusals were written in. */
function totals(rows: Refused[]): Map<string, number> {
  const sums = new Map<string, number>();
  for (const r of rows) {
    const key = `${r.reason}|${r.scheme}|${r.remote_addr}|${r.login}`;
    sums.set(key, (sums.get(key) ?? 0) + r.count);
  }
  return sums;
}

forEachDatabase('refused authentications are counted', (kind) => {
  test('a flood of 26,000 refusals, more distinct keys than one window holds, is written as counted rows with nothing dropped', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const audit = app.services.audit;
    const expected = new Map<string, number>();
    const refuse = (reason: string, scheme: string, remoteAddr: string, login: string | null = null) => {
      audit.refusedAuthentication({ reason, scheme, remoteAddr, userAgent: 'flood/1', login });
      const key = `${reason}|${scheme}|${remoteAddr}|${login}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    };
    // 14,000 refusals from a few addresses, then 12,000 from as many distinct addresses (more than
    // one window may hold), then a few real requests with bad credentials.
    for (let i = 0; i < 14_000; i++) refuse(i % 2 ? 'bad_checksum' : 'not_a_keysmith_token', 'bearer', `10.0.0.${i % 7}`);
    for (let i = 0; i < 12_000; i++) refuse('wrong_login_or_password', 'password', `10.1.${i >> 8}.${i & 255}`, 'alice');
    assert.ok(expected.size > MAX_REFUSAL_KEYS);
    const wrong = alice.key.slice(0, -1) + (alice.key.endsWith('A') ? 'B' : 'A');
    for (let i = 0; i < 3; i++) {
      const res = await app.request({ method: 'GET', url: '/v1/user', headers: bearer(wrong), remoteAddress: '192.0.2.9' });
      assert.equal(res.statusCode, 401);
    }
    const notOurs = await app.request({ method: 'GET', url: '/v1/user', headers: bearer('ghp_notakey'), remoteAddress: '192.0.2.9' });
    assert.equal(notOurs.statusCode, 401);
    await app.services.flush();

    const rows = await refusedRows(app);
    const sum = rows.reduce((n, r) => n + r.count, 0);
    assert.equal(sum, 26_004, 'every refusal is counted exactly once');
    const sums = totals(rows);
    assert.equal(sums.get('bad_checksum|bearer|192.0.2.9|null'), 3);
    assert.equal(sums.get('not_a_keysmith_token|bearer|192.0.2.9|null'), 1);
    for (const [key, n] of expected) assert.equal(sums.get(key), n, key);
    assert.equal(sums.size, expected.size + 2);
    assert.ok(rows.length < 26_004 / 2, `far fewer rows (${rows.length}) than refusals`);
    assert.ok(!JSON.stringify(rows).includes(wrong.slice(4, 20)), 'no part of the credential is kept');
  });

  test('different addresses, reasons and logins make different rows, with the login tried but never a secret', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const signIn = (login: string, remoteAddress: string) => app.request({ method: 'POST', url: '/v1/session', payload: { login, password: 'wrong-password' }, remoteAddress });
    for (let i = 0; i < 3; i++) assert.equal((await signIn('alice', '198.51.100.1')).statusCode, 401);
    assert.equal((await signIn('alice', '198.51.100.2')).statusCode, 401);
    assert.equal((await signIn('mallory', '198.51.100.1')).statusCode, 401);
    // Basic: the user name beside a key is kept as the login tried; a key given as the user name is not.
    const wrong = alice.key.slice(0, -1) + (alice.key.endsWith('A') ? 'B' : 'A');
    const basic = (text: string) => ({ authorization: `Basic ${Buffer.from(text).toString('base64')}` });
    assert.equal((await app.request({ method: 'GET', url: '/v1/user', headers: basic(`octocat:${wrong}`), remoteAddress: '198.51.100.1' })).statusCode, 401);
    assert.equal((await app.request({ method: 'GET', url: '/v1/user', headers: basic(`${wrong}:`), remoteAddress: '198.51.100.1' })).statusCode, 401);
    await app.services.flush();

    // The once-a-second flush may split a key's refusals over two windows; summed per key they are exact.
    const sums = [...totals(await refusedRows(app))].sort();
    assert.deepEqual(sums, [
      ['bad_checksum|basic|198.51.100.1|null', 1],
      ['bad_checksum|basic|198.51.100.1|octocat', 1],
      ['wrong_login_or_password|password|198.51.100.1|alice', 3],
      ['wrong_login_or_password|password|198.51.100.1|mallory', 1],
      ['wrong_login_or_password|password|198.51.100.2|alice', 1],
    ]);
    const all = JSON.stringify(await app.services.db.selectFrom('audit_events').selectAll().execute());
    assert.ok(!all.includes('wrong-password') && !all.includes(wrong.slice(4, 20)), 'no password and no key in the trail');
  });

  test('closing the app writes the window being counted', async (t) => {
    const app = await appFor(t, kind);
    for (let i = 0; i < 5; i++) app.services.audit.refusedAuthentication({ reason: 'bad_checksum', scheme: 'bearer', remoteAddr: '203.0.113.5', userAgent: null });
    await app.app.close();
    assert.deepEqual(await refusedRows(app), [{ reason: 'bad_checksum', scheme: 'bearer', login: null, remote_addr: '203.0.113.5', count: 5 }]);
    const row = await app.services.db.selectFrom('audit_events').select(['occurred_at', 'last_occurred_at']).where('action', '=', 'auth.refused').executeTakeFirstOrThrow();
    assert.ok(row.last_occurred_at !== null && row.last_occurred_at >= row.occurred_at, 'the row spans its first and last refusal');
  });

  test('the audit lists show the count of every row', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const res = await app.request({ method: 'GET', url: '/v1/audit-events', headers: bearer(alice.key) });
    assert.equal(res.statusCode, 200, res.body);
    const events = res.json() as Array<{ count: number; last_occurred_at: string | null }>;
    assert.ok(events.length > 0);
    for (const e of events) assert.deepEqual([e.count, e.last_occurred_at], [1, null]);
  });
});
