// `keysmith users …` as an operator runs it: real processes on real databases, exactly one JSON value
// on standard output with --json, exit 0 / 1 (refused, one line on stderr) / 2 (usage), the same
// rules as the API, audited with the CLI as the actor.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { describeDatabase } from '../src/cli/shared.ts';
import { freshDatabase, keysmith } from './cli-helpers.ts';
import { databases } from './harness.ts';

interface UserView {
  login: string;
  name: string | null;
  email: string | null;
  site_admin: boolean;
  disabled: boolean;
  has_password: boolean;
}

/** One line of JSON on stdout, parsed. */
function jsonOut<T>(result: { code: number | null; stdout: string; stderr: string }): T {
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim().split('\n').length, 1, `exactly one line of JSON: ${result.stdout}`);
  return JSON.parse(result.stdout) as T;
}

function refused(result: { code: number | null; stdout: string; stderr: string }, pattern: RegExp): void {
  assert.equal(result.code, 1, result.stdout + result.stderr);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr.trim().split('\n').length, 1, `one line: ${result.stderr}`);
  assert.match(result.stderr, pattern);
}

test('the database init names loses a PostgreSQL password; a SQLite file is named by its absolute path', () => {
  assert.equal(describeDatabase('postgres://keysmith:s3cret@db.internal:5432/keysmith?sslmode=require'), 'postgres://keysmith@db.internal:5432/keysmith?sslmode=require');
  assert.equal(describeDatabase('postgresql://db.internal/keysmith'), 'postgresql://db.internal/keysmith');
  assert.equal(describeDatabase('sqlite:data/keysmith.db'), `sqlite:${path.resolve('data/keysmith.db')}`);
});

for (const kind of databases) {
  test(`keysmith users on ${kind}: create, list, disable, enable, make-admin, set-password, delete, with the API's rules`, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-cli-users-'));
    const db = await freshDatabase(kind, dir);
    t.after(() => db.drop());
    const env = { KEYSMITH_DATABASE_URL: db.url, KEYSMITH_MASTER_KEY: randomBytes(32).toString('base64'), KEYSMITH_PUBLIC_URL: 'https://keys.example.com' };
    const run = (args: string[], input?: string) => keysmith(args, env, dir, input);

    const init = jsonOut<{ database: string }>(run(['init', '--login', 'alice', '--account', 'acme', '--password-stdin', '--json'], 'alices long password\n'));
    if (kind === 'sqlite') assert.equal(init.database, `sqlite:${path.join(dir, 'data', 'keysmith.db')}`);
    else {
      const expected = new URL(db.url);
      expected.password = '';
      assert.equal(init.database, expected.toString());
    }

    // Without --password-stdin: a set-password link from the public URL.
    const bob = jsonOut<{ user: UserView; set_password_url: string; expires_at: string }>(run(['users', 'create', 'bob', '--name', 'Bob B', '--email', 'bob@example.com', '--json']));
    assert.deepEqual(
      { ...bob.user, id: undefined, created_at: undefined },
      {
        id: undefined,
        login: 'bob',
        name: 'Bob B',
        email: 'bob@example.com',
        site_admin: false,
        disabled: false,
        has_password: false,
        created_at: undefined,
      },
    );
    assert.match(bob.set_password_url, /^https:\/\/keys\.example\.com\/set-password\?token=[A-Za-z0-9_-]{43}$/);
    const carol = jsonOut<{ user: UserView; set_password_url?: string }>(run(['users', 'create', 'carol', '--site-admin', '--password-stdin', '--json'], 'carols long password\n'));
    assert.equal(carol.user.site_admin, true);
    assert.equal(carol.user.has_password, true);
    assert.equal(carol.set_password_url, undefined);
    const text = run(['users', 'create', 'dave']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /Created user dave \[no password\]\.\nThey set their console password at .*\n {2}https:\/\/keys\.example\.com\/set-password\?token=/);

    const list = jsonOut<UserView[]>(run(['users', 'list', '--json']));
    assert.deepEqual(
      list.map((u) => u.login),
      ['alice', 'bob', 'carol', 'dave'],
    );
    const prefixed = jsonOut<UserView[]>(run(['users', 'list', '--prefix', 'C', '--json']));
    assert.deepEqual(
      prefixed.map((u) => u.login),
      ['carol'],
    );

    assert.equal(jsonOut<UserView>(run(['users', 'disable', 'bob', '--json'])).disabled, true);
    assert.equal(jsonOut<UserView>(run(['users', 'enable', 'bob', '--json'])).disabled, false);
    assert.equal(jsonOut<UserView>(run(['users', 'make-admin', 'bob', '--json'])).site_admin, true);
    assert.equal(jsonOut<UserView>(run(['users', 'make-admin', 'bob', '--revoke', '--json'])).site_admin, false);
    assert.deepEqual(jsonOut(run(['users', 'set-password', 'bob', '--password-stdin', '--json'], 'bobs long password\n')), { login: 'bob', sessions_ended: 0 });

    // The same rules as the API.
    refused(run(['users', 'delete', 'alice', '--json']), /alice is the only owner of account acme.*Make another owner first or delete the account\./);
    refused(run(['users', 'set-password', 'bob', '--password-stdin'], 'short\n'), /at least 12 characters/);
    refused(run(['users', 'disable', 'nobody']), /no user with the login "nobody"/);
    refused(run(['users', 'create', 'Bob']), /already taken/);
    refused(run(['users', 'create', 'erin', '--email', 'not-an-email']), /not an email address/);
    assert.equal(run(['users', 'make-admin', 'carol', '--revoke']).code, 0);
    refused(run(['users', 'make-admin', 'alice', '--revoke']), /alice is the last site admin who is not disabled, so they cannot be demoted/);
    refused(run(['users', 'disable', 'alice']), /cannot be disabled/);

    // Usage errors exit 2.
    for (const args of [['users'], ['users', 'frob'], ['users', 'create'], ['users', 'list', '--revoke'], ['users', 'delete', 'a', 'b'], ['users', 'set-password', 'bob']]) {
      const res = run(args);
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
      assert.equal(res.stdout, '');
    }

    assert.deepEqual(jsonOut(run(['users', 'delete', 'dave', '--json'])), { deleted: 'dave' });
    assert.deepEqual(
      jsonOut<UserView[]>(run(['users', 'list', '--json'])).map((u) => u.login),
      ['alice', 'bob', 'carol'],
    );
    const help = run(['--help']);
    assert.match(help.stdout, /users set-password <login> --password-stdin/);

    // Audited with the CLI as the actor, never with the token of a link.
    const rows = await auditRows(kind, db.url, dir);
    const actions = rows.filter((r) => r.action.startsWith('user.')).map((r) => `${r.action} ${r.target_label}`);
    assert.deepEqual(actions, [
      'user.create alice',
      'user.create bob',
      'user.password_reset_issue bob',
      'user.create carol',
      'user.create dave',
      'user.password_reset_issue dave',
      'user.disable bob',
      'user.enable bob',
      'user.update bob',
      'user.update bob',
      'user.password_set bob',
      'user.update carol',
      'user.delete dave',
    ]);
    assert.ok(
      rows.filter((r) => r.action.startsWith('user.')).every((r) => r.actor_label === 'keysmith cli'),
      'the CLI is the actor',
    );
    assert.ok(!JSON.stringify(rows).includes(new URL(bob.set_password_url).searchParams.get('token')!));
  });
}

async function auditRows(kind: string, url: string, dir: string): Promise<{ action: string; actor_label: string; target_label: string }[]> {
  const query = 'select action, actor_label, target_label from audit_events order by id';
  if (kind === 'postgres') {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(query)).rows;
    } finally {
      await client.end();
    }
  }
  const { default: Sqlite } = await import('better-sqlite3');
  const sqlite = new Sqlite(path.join(dir, 'data', 'keysmith.db'), { readonly: true });
  try {
    return sqlite.prepare(query).all() as { action: string; actor_label: string; target_label: string }[];
  } finally {
    sqlite.close();
  }
}
