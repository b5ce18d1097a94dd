// Leaked credentials (README: Credential lifecycle → Leaked credentials), on SQLite and PostgreSQL:
// anyone may report strings; every Keysmith API key among them stops working at once and is audited
// with reason `leaked` and the reporter's address; the answer never says which strings were real;
// 60 reports an hour per address; bad input is a sentence and revokes nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mintToken } from '../src/crypto/token.ts';
import { sql } from 'kysely';
import { keysByHashes } from '../src/modules/api-keys/api-keys.repo.ts';
import { createLeakedKeyRevocation, type ApiKeyRevoked } from '../src/modules/api-keys/leaked-keys.ts';
import { addServiceKey, addUser, rowCount, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase, testClock, type TestApp } from './harness.ts';

const URL = '/v1/credentials/revoke';
const REPORTER = '203.0.113.7';

type Res = Awaited<ReturnType<TestApp['request']>>;

const report = (app: TestApp, credentials: unknown, remoteAddress = REPORTER) =>
  app.request({ method: 'POST', url: URL, payload: { credentials } as Record<string, unknown>, remoteAddress, headers: { 'user-agent': 'scanner/1.0' } });

const works = async (app: TestApp, key: string) => (await app.request({ method: 'GET', url: '/v1/user', headers: bearer(key) })).statusCode === 200;

function refusedWithSentence(res: Res, status: number, mention: RegExp) {
  assert.equal(res.statusCode, status, res.body);
  const body = res.json() as { error: { code: string; message: string } };
  assert.ok(body.error.message.length > 20 && /[.!]$/.test(body.error.message), `a sentence: ${body.error.message}`);
  assert.match(body.error.message, mention);
}

async function revokeEvents(app: TestApp) {
  return app.services.db.selectFrom('audit_events').selectAll().where('action', '=', 'api_key.revoke').orderBy('id').execute();
}

forEachDatabase('leaked credentials', (kind) => {
  test('a reported user key and service key answer 401 at once, even after being cached; other keys keep working', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const bob = await addUser(app, 'bob', { account: 'acme', role: 'read_write', by: alice.key });
    const service = await addServiceKey(app, alice.key, 'acme', 'read_only');
    // Used once, so both sit in the credential cache: the report must evict them.
    assert.ok(await works(app, bob.key));
    assert.ok(await works(app, service.key));

    const res = await report(app, ['hello', bob.key, service.key, mintToken('user').token]);
    assert.equal(res.statusCode, 202, res.body);

    for (const key of [bob.key, service.key]) {
      const after = await app.request({ method: 'GET', url: '/v1/user', headers: bearer(key) });
      assert.equal(after.statusCode, 401, after.body);
      assert.equal(after.json().error.code, 'token_invalid');
    }
    assert.ok(await works(app, alice.key), 'a key that was not reported still works');
    const keys = await app.request({ method: 'GET', url: '/v1/service-api-keys', headers: { ...bearer(alice.key), 'x-keysmith-account': 'acme' } });
    assert.deepEqual(
      (keys.json() as { id: number }[]).map((k) => k.id),
      [],
      'the service key is gone from its account',
    );
  });

  test('the answer is byte-identical whether the list held real keys, unknown keys or garbage', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const bob = await addUser(app, 'bob', { account: 'acme', role: 'read_only', by: alice.key });
    const service = await addServiceKey(app, alice.key, 'acme', 'admin');
    const lists = {
      real: [bob.key, service.key],
      unknown: [mintToken('user').token, mintToken('service').token],
      garbage: ['ghp_notours', 'ksu_short', `${bob.key.slice(0, -1)}${bob.key.endsWith('0') ? '1' : '0'}`, ''],
      already_revoked: [bob.key],
    };
    const answers = new Map<string, Res>();
    for (const [name, list] of Object.entries(lists)) answers.set(name, await report(app, list));
    const shape = (r: Res) => ({
      status: r.statusCode,
      body: r.rawPayload.toString('base64'),
      headers: Object.fromEntries(Object.entries(r.headers).filter(([h]) => h !== 'date' && h !== 'x-request-id')),
    });
    const real = shape(answers.get('real')!);
    assert.equal(real.status, 202);
    assert.match(answers.get('real')!.json().message, /revoked/);
    for (const [name, r] of answers) assert.deepEqual(shape(r), real, `${name} answers as a list of real keys does`);
    assert.equal(await works(app, bob.key), false);
  });

  test('each revoked key is audited as api_key.revoke with reason leaked and the reporter’s address, never the secret', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const bob = await addUser(app, 'bob', { account: 'acme', role: 'read_write', by: alice.key });
    const service = await addServiceKey(app, alice.key, 'acme', 'runner');
    const acme = await app.services.db.selectFrom('accounts').select('id').where('name', '=', 'acme').executeTakeFirstOrThrow();

    // Listed twice: revoked and audited once.
    assert.equal((await report(app, [bob.key, service.key, bob.key])).statusCode, 202);
    const events = await revokeEvents(app);
    assert.equal(events.length, 2);
    const [user, svc] = events as [(typeof events)[0], (typeof events)[0]];
    for (const e of events) {
      assert.equal(e.actor_type, 'anonymous');
      assert.equal(e.remote_addr, REPORTER);
      assert.equal(e.user_agent, 'scanner/1.0');
      assert.equal(e.target_type, 'api_key');
      assert.equal(JSON.parse(e.details!).reason, 'leaked');
    }
    assert.equal(user.target_label, "bob's key");
    assert.deepEqual(JSON.parse(user.details!), { reason: 'leaked', kind: 'user', start: bob.key.slice(0, 8), user: 'bob' });
    assert.equal(user.account_id, null);
    assert.equal(svc.target_id, String(service.id));
    assert.equal(svc.account_id, acme.id, "the account's owners see it in their audit log");
    assert.deepEqual(JSON.parse(svc.details!), { reason: 'leaked', kind: 'service', start: service.key.slice(0, 8), account: 'acme' });

    const log = await app.request({ method: 'GET', url: '/v1/audit-events?action=api_key.revoke', headers: { ...bearer(alice.key), 'x-keysmith-account': 'acme' } });
    assert.equal(log.statusCode, 200, log.body);
    assert.equal(log.json().length, 1, 'the service key’s revocation is in the account’s trail');

    await app.services.flush();
    const everything = JSON.stringify(await app.services.db.selectFrom('audit_events').selectAll().execute()) + app.logs.join('\n');
    for (const secret of [bob.key, service.key]) assert.ok(!everything.includes(secret.slice(8)), 'no secret in the audit trail or the logs');
    // The notifications hook point logs each revocation at info level for now.
    const hookLines = app.logs.filter((l) => l.includes('revoked as leaked'));
    assert.equal(hookLines.length, 2, app.logs.join('\n'));
  });

  test('the 61st report from one address within the hour is a 429 with Retry-After and revokes nothing; other addresses are counted apart', async (t) => {
    const clock = testClock(new Date('2026-11-22T12:00:00.000Z'));
    const app = await appFor(t, kind, { clock });
    const alice = await seed(app);
    const bob = await addUser(app, 'bob');
    for (let i = 0; i < 60; i++) assert.equal((await report(app, [mintToken('user').token])).statusCode, 202, `report ${i + 1}`);
    clock.advance(15 * 60 * 1000);
    const refused = await report(app, [bob.key]);
    refusedWithSentence(refused, 429, /60 an hour.*45 minutes/);
    assert.equal(refused.json().error.code, 'rate_limited');
    assert.equal(refused.headers['retry-after'], String(45 * 60));
    assert.ok(await works(app, bob.key), 'a refused report revokes nothing');
    assert.equal((await revokeEvents(app)).length, 0);
    refusedWithSentence(await app.request({ method: 'POST', url: URL, payload: 'not json', remoteAddress: REPORTER, headers: { 'content-type': 'application/json' } }), 400, /JSON/);

    assert.equal((await report(app, [mintToken('user').token], '198.51.100.1')).statusCode, 202, 'another address has its own allowance');
    clock.advance(45 * 60 * 1000);
    assert.equal((await report(app, [bob.key])).statusCode, 202, 'a new hour, a new allowance');
    assert.equal(await works(app, bob.key), false);
    assert.ok(await works(app, alice.key));
  });

  test('bad input is a 400 with a sentence naming the field, and revokes nothing', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const bob = await addUser(app, 'bob');
    const raw = (payload: unknown) => app.request({ method: 'POST', url: URL, payload: payload as Record<string, unknown>, remoteAddress: REPORTER });
    const cases: [string, Promise<Res>, RegExp][] = [
      ['an empty list', report(app, []), /credentials.*at least one item/],
      ['1001 items', report(app, [bob.key, ...Array.from({ length: 1000 }, () => mintToken('user').token)]), /credentials.*1000/],
      ['a number among the strings', report(app, [bob.key, 42]), /credentials/],
      ['null among the strings', report(app, [bob.key, null]), /credentials/],
      ['an object among the strings', report(app, [bob.key, { key: bob.key }]), /credentials/],
      ['an absurdly long string', report(app, [bob.key, 'x'.repeat(513)]), /credentials.*512/],
      ['a string instead of a list', report(app, bob.key), /credentials/],
      ['no credentials field', raw({}), /credentials/],
      ['an unknown field beside it', raw({ credentials: [bob.key], keys: [bob.key] }), /keys/],
      ['a list as the body', raw([bob.key]), /object|body/],
    ];
    for (const [what, pending, mention] of cases) {
      const res = await pending;
      assert.ok(res.statusCode === 400 || res.statusCode === 422, `${what}: ${res.statusCode} ${res.body}`);
      refusedWithSentence(res, res.statusCode, mention);
      assert.ok(!res.body.includes(bob.key), `${what}: the answer does not echo a secret`);
    }
    assert.ok(await works(app, bob.key), 'nothing was revoked');
    assert.equal((await revokeEvents(app)).length, 0);
    assert.equal(await rowCount(app, 'api_keys'), 2);
    assert.ok(await works(app, alice.key));
  });

  test('__proto__, constructor and other names of Object.prototype are strings like any other', async (t) => {
    const app = await appFor(t, kind);
    await seed(app);
    const bob = await addUser(app, 'bob');
    const res = await report(app, ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'ksu___proto__', bob.key]);
    assert.equal(res.statusCode, 202, res.body);
    assert.equal(await works(app, bob.key), false, 'the real key among them is revoked');
    // A body whose own keys are hostile is refused before anything runs.
    const hostile = await app.request({
      method: 'POST',
      url: URL,
      payload: `{"credentials": ["${mintToken('user').token}"], "__proto__": {"credentials": []}}`,
      headers: { 'content-type': 'application/json' },
      remoteAddress: REPORTER,
    });
    assert.equal(hostile.statusCode, 400, hostile.body);
    const constructor = await app.request({ method: 'POST', url: URL, payload: { constructor: { prototype: {} }, credentials: ['x'] }, remoteAddress: REPORTER });
    assert.equal(constructor.statusCode, 400, constructor.body);
    assert.equal(({} as Record<string, unknown>).credentials, undefined, 'Object.prototype is untouched');
    assert.equal((await app.request({ method: 'GET', url: '/healthz' })).statusCode, 200);
  });

  test('a full report of 1000 strings revokes the real keys among them, surrounding whitespace aside', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const bob = await addUser(app, 'bob');
    const service = await addServiceKey(app, alice.key, 'acme', 'read_only');
    const list = Array.from({ length: 998 }, (_, i) => (i % 3 ? mintToken('service').token : `not a key ${i}`));
    list.splice(500, 0, ` ${bob.key}\n`);
    list.push(service.key);
    assert.equal(list.length, 1000);
    assert.equal((await report(app, list)).statusCode, 202);
    assert.equal(await works(app, bob.key), false);
    assert.equal(await works(app, service.key), false);
    assert.ok(await works(app, alice.key));
    assert.equal((await revokeEvents(app)).length, 2);
  });

  test('the look-up of a whole report searches the token_hash index, never scans the keys', async (t) => {
    const app = await appFor(t, kind);
    const hashes = Array.from({ length: 50 }, () => mintToken('user').hash);
    const query = keysByHashes(app.services.db, hashes).compile();
    if (kind === 'sqlite') {
      const { rows } = await app.services.db.executeQuery<{ detail: string }>({ ...query, sql: `explain query plan ${query.sql}` });
      const steps = rows.map((r) => r.detail);
      assert.match(steps.join('\n'), /SEARCH api_keys USING INDEX \S+ \(token_hash=\?\)/, steps.join('\n'));
      assert.ok(!steps.some((s) => /^SCAN (api_keys|users|accounts)\b/.test(s)), `no scan of a table:\n${steps.join('\n')}`);
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
    assert.match(plan, /Index Scan on api_keys_token_hash_\w+|Index Scan using api_keys_token_hash_\w+ on api_keys/, plan);
  });

  test('two reports of the same key at once revoke and audit it once', async (t) => {
    const app = await appFor(t, kind);
    await seed(app);
    const bob = await addUser(app, 'bob');
    const [a, b] = await Promise.all([report(app, [bob.key]), report(app, [bob.key], '198.51.100.2')]);
    assert.equal(a.statusCode, 202);
    assert.equal(b.statusCode, 202);
    assert.equal((await revokeEvents(app)).length, 1);
    assert.equal(await works(app, bob.key), false);
  });

  test('the revocation hook sees each revoked key inside the transaction and after commit, without the secret', async (t) => {
    const app = await appFor(t, kind);
    const alice = await seed(app);
    const service = await addServiceKey(app, alice.key, 'acme', 'read_write');
    const seen: { phase: string; revoked: readonly ApiKeyRevoked[]; auditRowsVisible?: number }[] = [];
    const revocation = createLeakedKeyRevocation({
      db: app.services.db,
      invalidation: app.services.invalidation,
      audit: app.services.audit,
      clock: app.services.clock,
      logger: { error: () => {} },
      hooks: {
        async inTransaction(trx, revoked) {
          // Inside the transaction the audit row is already written: an outbox row would commit with it.
          const rows = await trx.selectFrom('audit_events').select('id').where('action', '=', 'api_key.revoke').execute();
          seen.push({ phase: 'in', revoked, auditRowsVisible: rows.length });
        },
        afterCommit(revoked) {
          seen.push({ phase: 'after', revoked });
          throw new Error('a failing subscriber');
        },
      },
    });
    const count = await revocation.revokeLeaked({ anonymous: true, remoteAddr: REPORTER, userAgent: null }, [service.key, 'nothing']);
    assert.equal(count, 1);
    assert.deepEqual(
      seen.map((s) => [s.phase, s.auditRowsVisible]),
      [
        ['in', 1],
        ['after', undefined],
      ],
    );
    const [event] = seen[1]!.revoked;
    assert.deepEqual(
      { ...event!, revokedAt: undefined },
      {
        event: 'credential.revoked',
        reason: 'leaked',
        key: { id: service.id, kind: 'service', name: service.name, start: service.key.slice(0, 8) },
        owner: { type: 'account', accountId: event!.owner.type === 'account' ? event!.owner.accountId : -1, name: 'acme' },
        revokedAt: undefined,
        reportedFrom: REPORTER,
      },
    );
    assert.ok(!JSON.stringify(seen).includes(service.key.slice(8)), 'no secret reaches a subscriber');
    assert.equal(await works(app, service.key), false, 'a failing subscriber does not undo the revocation');
    assert.equal(await revocation.revokeLeaked({ anonymous: true, remoteAddr: REPORTER, userAgent: null }, [service.key]), 0, 'gone keys are not revoked again');
    assert.equal(seen.length, 2, 'no event for a report that revoked nothing');
  });
});
