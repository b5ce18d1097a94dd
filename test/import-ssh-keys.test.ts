// `keysmith import ssh-keys` as an operator runs it: a real process on a real SQLite file or PostgreSQL
// database, keys made by ssh-keygen, results read back through the GitHub-compatible API and the audit trail.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { sql } from 'kysely';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { connectDatabase } from '../src/db/connect.ts';
import { loadKeyRing } from '../src/crypto/master-key.ts';
import { createLogger } from '../src/logger.ts';
import { OPTIONS_NOT_KEPT, readAuthorizedKeys } from '../src/modules/ssh-keys/authorized-keys.ts';
import type { KeyImportReport } from '../src/modules/ssh-keys/ssh-keys.service.ts';
import { createServices } from '../src/services.ts';
import { databases } from './harness.ts';
import { sshKeygen } from './ssh-fixtures.ts';
import { freshDatabase, keysmith } from './cli-helpers.ts';

/**
 * A fresh database where `keysmith init` made alice, and the app over it (to read keys back as API
 * clients do); closed and dropped when the test ends.
 */
async function setUp(t: TestContext, kind: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-import-'));
  const database = await freshDatabase(kind, dir);
  const env = { KEYSMITH_DATABASE_URL: database.url, KEYSMITH_MASTER_KEY: randomBytes(32).toString('base64') };
  const init = keysmith(['init', '--login', 'alice', '--account', 'acme', '--json'], env, dir);
  assert.equal(init.code, 0, init.stderr);
  const config = loadConfig({ ...env, KEYSMITH_PUBLIC_URL: 'http://keysmith.test' });
  const handle = connectDatabase(config.databaseUrl);
  const logger = createLogger('warn', process.stderr as never);
  const services = createServices({ db: handle.db, ring: loadKeyRing(config).ring, config, logger });
  const app = await buildApp({ config, services, logger });
  t.after(async () => {
    await app.close();
    await handle.close();
    await database.drop();
  });
  return { dir, env, app, services, db: handle.db };
}

/** An ssh-dss line from ssh-keygen, or a crafted one where ssh-keygen was built without DSA. */
function dssLine(): string {
  try {
    return sshKeygen('dsa', undefined, 'old@dsa').publicLine;
  } catch {
    const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
    const mpint = (n: number) => field(Buffer.concat([Buffer.from([0]), randomBytes(n)]));
    const blob = Buffer.concat([field(Buffer.from('ssh-dss')), mpint(128), mpint(20), mpint(128), mpint(128)]);
    return `ssh-dss ${blob.toString('base64')} old@dsa`;
  }
}

for (const kind of databases) {
  test(`import ssh-keys on ${kind}: every accepted key in one go, refused lines and duplicates reported, exit codes 0/1/2`, async (t) => {
    const { dir, env, app, services, db } = await setUp(t, kind);

    // bob holds a key already; alice's file carries it too.
    const write = await services.users.prepare({ login: 'bob' });
    const bob = await db.transaction().execute((trx) => write(trx, { cli: true }));
    const bobs = sshKeygen('ed25519', undefined, 'bob@laptop');
    await services.sshKeys.importUserKeys({ cli: true }, bob.id, [{ key: bobs.publicLine }]);

    const ed = sshKeygen('ed25519', undefined, 'alice@laptop');
    const ecdsa = sshKeygen('ecdsa', undefined, 'alice@desktop');
    const rsa = sshKeygen('rsa', 3072, 'alice@old-box');
    const pasted = sshKeygen('ed25519', undefined, 'oops');
    const privateLines = pasted.privateKey.trim().split('\n');
    const lines = [
      '# alice, from her ~/.ssh/authorized_keys', // 1
      ed.publicLine, // 2
      '', // 3
      ecdsa.publicLine, // 4
      dssLine(), // 5
      'this is not a key', // 6
      ...privateLines, // 7 .. 6 + n
      rsa.publicLine, // 7 + n
      bobs.publicLine, // 8 + n
      `no-pty,command="/usr/bin/backup" ${sshKeygen('ed25519').publicLine}`, // 9 + n
    ];
    const n = privateLines.length;
    const file = path.join(dir, 'authorized_keys');
    fs.writeFileSync(file, lines.join('\n') + '\n');

    const run = keysmith(['import', 'ssh-keys', '--user', 'alice', '--json', file], env, dir);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.stderr.trim().split('\n').length, 1, 'one-line reason on stderr');
    assert.match(run.stderr, /5 lines were not imported \(4 refused, 1 in use elsewhere\)/);
    for (const secret of privateLines.slice(1, -1)) {
      assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret), 'no line of the private key is echoed');
    }
    assert.ok(!run.stdout.includes('this is not a key'), 'a refused line is not echoed');
    const report = JSON.parse(run.stdout) as KeyImportReport;
    assert.equal(report.user, 'alice');
    assert.deepEqual(
      report.imported.map((k) => [k.line, k.type, k.title]),
      [
        [2, 'ssh-ed25519', 'alice@laptop'],
        [4, 'ecdsa-sha2-nistp256', 'alice@desktop'],
        [7 + n, 'ssh-rsa', 'alice@old-box'],
      ],
    );
    assert.deepEqual(report.skipped, { blank: 1, comments: 1 });
    assert.deepEqual(
      report.refused.map((r) => [r.line, r.last_line, r.code]),
      [
        [5, 5, 'key_type_refused'],
        [6, 6, 'key_malformed'],
        [7, 6 + n, 'key_is_private'],
        [9 + n, 9 + n, 'key_malformed'],
      ],
    );
    assert.match(report.refused[0]!.message, /DSA \(ssh-dss\) keys are refused/);
    assert.match(report.refused[2]!.message, /This is a private key/);
    assert.equal(report.refused[3]!.message, OPTIONS_NOT_KEPT);
    assert.deepEqual(
      report.duplicates.map((d) => [d.line, d.of]),
      [[8 + n, 'elsewhere']],
    );
    assert.match(report.duplicates[0]!.message, /already in use elsewhere/);
    assert.ok(!report.duplicates[0]!.message.includes('bob'), 'the other owner is not named');

    // The keys are alice's, as any client reads them; bob's key stays his.
    const listed = await app.inject({ method: 'GET', url: '/api/v3/users/alice/keys' });
    assert.equal(listed.statusCode, 200, listed.body);
    const keys = listed.json() as { id: number; key: string }[];
    assert.deepEqual(
      keys.map((k) => k.key),
      [ed, ecdsa, rsa].map((g) => g.publicLine.split(' ').slice(0, 2).join(' ')),
    );
    assert.deepEqual(
      keys.map((k) => k.id),
      report.imported.map((k) => k.id),
    );
    const bobsKeys = (await app.inject({ method: 'GET', url: '/api/v3/users/bob/keys' })).json() as unknown[];
    assert.equal(bobsKeys.length, 1);

    // One audit row per imported key, attributed to the CLI.
    const audited = await db
      .selectFrom('audit_events')
      .select(['actor_type', 'actor_label', 'target_id', 'target_label', 'details'])
      .where('action', '=', 'ssh_key.create')
      .where('target_label', '=', 'alice')
      .orderBy('id')
      .execute();
    assert.deepEqual(
      audited.map((a) => [a.actor_type, a.actor_label, a.target_id, JSON.parse(a.details!).fingerprint]),
      report.imported.map((k) => ['system', 'keysmith cli', String(k.id), k.fingerprint]),
    );

    // The text of github.com/<login>.keys on stdin, all of it already hers: exit 0, nothing written twice.
    const githubKeys = [ed, ecdsa, rsa].map((g) => g.publicLine.split(' ').slice(0, 2).join(' ')).join('\n') + '\n';
    const again = keysmith(['import', 'ssh-keys', '--user', 'alice', '-'], env, dir, `# kept\n\n${githubKeys}`);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stderr, '');
    assert.match(again.stdout, /^Imported 0 keys for alice\.\nSkipped 1 blank line and 1 comment\.\n3 duplicates:\n {2}line 3: SHA256:\S+: Already alice's key \d+; skipped\./);
    const alice = (await services.users.findByLogin(db, 'alice'))!;
    assert.equal((await db.selectFrom('ssh_keys').select('id').where('user_id', '=', alice.id).execute()).length, 3);
    assert.equal((await db.selectFrom('audit_events').select('id').where('action', '=', 'ssh_key.create').where('target_label', '=', 'alice').execute()).length, 3);

    // Unknown user: exit 1, one line, nothing written. Usage errors: exit 2.
    const before = await db.selectFrom('ssh_keys').select('id').execute();
    const nobody = keysmith(['import', 'ssh-keys', '--user', 'carol', file], env, dir);
    assert.equal(nobody.code, 1);
    assert.equal(nobody.stdout, '');
    assert.equal(nobody.stderr, 'keysmith: There is no user with the login "carol"; check the spelling, or create the user first.\n');
    assert.equal(keysmith(['import', 'ssh-keys', file], env, dir).code, 2, 'no --user');
    assert.equal(keysmith(['import', 'ssh-keys', '--user', 'alice'], env, dir).code, 2, 'no file');
    assert.equal(keysmith(['import', 'ssh-keys', '--user', 'alice', file, file], env, dir).code, 2, 'two files');
    assert.equal(keysmith(['import', 'gpg-keys', '--user', 'alice', file], env, dir).code, 2, 'unknown import');
    assert.equal(keysmith(['import', 'ssh-keys', '--user', 'alice', '--bogus', file], env, dir).code, 2, 'unknown option');
    const missing = keysmith(['import', 'ssh-keys', '--user', 'alice', path.join(dir, 'nope')], env, dir);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Cannot read .*nope: there is no such file\.\n$/);
    assert.deepEqual(await db.selectFrom('ssh_keys').select('id').execute(), before);
  });

  test(`import ssh-keys on ${kind}: an unexpected database failure after some keys were written leaves nothing behind`, async (t) => {
    const { dir, env, db } = await setUp(t, kind);
    // The keys' insert succeeds; the audit rows written after it in the same transaction fail.
    if (kind === 'sqlite') {
      await sql`create trigger refuse_key_audit before insert on audit_events when new.action = 'ssh_key.create' begin select raise(abort, 'refused by the test'); end`.execute(db);
    } else {
      await sql`create function refuse_key_audit() returns trigger language plpgsql as $$ begin if new.action = 'ssh_key.create' then raise exception 'refused by the test'; end if; return new; end $$`.execute(
        db,
      );
      await sql`create trigger refuse_key_audit before insert on audit_events for each row execute function refuse_key_audit()`.execute(db);
    }
    const file = path.join(dir, 'keys');
    fs.writeFileSync(file, [sshKeygen('ed25519').publicLine, sshKeygen('ecdsa').publicLine].join('\n'));
    const run = keysmith(['import', 'ssh-keys', '--user', 'alice', file], env, dir);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr.trim().split('\n').length, 1);
    assert.match(run.stderr, /refused by the test/);
    assert.deepEqual(await db.selectFrom('ssh_keys').select('id').execute(), []);
    assert.deepEqual(await db.selectFrom('audit_events').select('id').where('action', '=', 'ssh_key.create').execute(), []);
  });
}

test('the reader: CRLF line ends, a PuTTY private key and an unterminated PEM block are each one refused range, never quoted', () => {
  const key = sshKeygen('ed25519', undefined, 'crlf@host').publicLine;
  const putty = ['PuTTY-User-Key-File-3: ssh-ed25519', 'Encryption: none', 'Comment: x', 'Public-Lines: 1', 'AAAAC3NzaC1lZDI1NTE5', 'Private-Lines: 1', 'AAAAIPRIVATEPRIVATE', 'Private-MAC: 0123abcd'];
  const text = [
    '\t# indented comment',
    `  ${key}  `,
    ...putty,
    'host.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB',
    '-----BEGIN OPENSSH PRIVATE KEY-----',
    'b3BlbnNzaC1rZXktdjEAAAAABG5vbmU=',
    'c2VjcmV0',
  ].join('\r\n');
  const read = readAuthorizedKeys(text);
  assert.deepEqual([read.blank, read.comments], [0, 1]);
  assert.deepEqual(
    read.lines.map((l) => (l.kind === 'key' ? [l.line, 'key', l.parsed.comment] : [l.line, l.lastLine, l.code])),
    [
      [2, 'key', 'crlf@host'],
      [3, 10, 'key_is_private'],
      [11, 11, 'key_malformed'],
      [12, 14, 'key_is_private'],
    ],
  );
  const messages = read.lines.flatMap((l) => (l.kind === 'refused' ? [l.message] : []));
  assert.equal(messages[1], OPTIONS_NOT_KEPT, 'anything before the key type is treated as options');
  for (const secret of ['PRIVATEPRIVATE', 'c2VjcmV0', 'host.example.com']) assert.ok(!messages.some((m) => m.includes(secret)));
});
