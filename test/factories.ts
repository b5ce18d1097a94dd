// Builders for the people, accounts and keys tests need. They go through the real services and
// storage; what a test is about goes through HTTP.
import assert from 'node:assert/strict';
import { initialise } from '../src/cli/init.ts';
import type { Database } from '../src/db/schema.ts';
import type { MemberRole, ServiceRole } from '../src/modules/access/roles.ts';
import { bearer, type TestApp } from './harness.ts';

const cli = { cli: true as const };

/** The first user (site admin) `alice`, owner of account `acme`, with a user API key. */
export async function seed(t: TestApp, login = 'alice', account = 'acme') {
  const { user, key } = await initialise(t.services, { login, account, password: 'correct horse battery staple' });
  return { userId: user.id, login, account, key: key.key, password: 'correct horse battery staple' };
}

/** Another user with a user API key, optionally a member of `account` with `role`. */
export async function addUser(t: TestApp, login: string, membership?: { account: string; role: MemberRole; by: string }) {
  const write = await t.services.users.prepare({ login });
  const user = await t.services.db.transaction().execute((trx) => write(trx, cli));
  const writeKey = t.services.apiKeys.prepareUserKey({ name: `${login}'s key` });
  const key = await t.services.db.transaction().execute((trx) => writeKey(trx, cli, user.id));
  if (membership) {
    const res = await t.request({
      method: 'PUT',
      url: `/v1/accounts/${membership.account}/members/${login}`,
      headers: bearer(membership.by),
      payload: { role: membership.role },
    });
    assert.equal(res.statusCode, 201, res.body);
  }
  return { userId: user.id, login, key: key.key };
}

let serviceKeySerial = 0;

export async function addServiceKey(t: TestApp, ownerKey: string, account: string, role: ServiceRole, extra: Record<string, unknown> = {}) {
  const res = await t.request({
    method: 'POST',
    url: '/v1/service-api-keys',
    headers: { ...bearer(ownerKey), 'x-keysmith-account': account },
    // Names are unique per account: number them.
    payload: { name: `${role} key ${++serviceKeySerial}`, role, ...extra },
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json() as { id: number; name: string; key: string; role: ServiceRole };
}

export async function addProject(t: TestApp, key: string, account: string, name = 'web') {
  const res = await t.request({ method: 'POST', url: '/v1/projects', headers: { ...bearer(key), 'x-keysmith-account': account }, payload: { vcs_type: 'gh', name } });
  assert.equal(res.statusCode, 201, res.body);
  return res.json() as { slug: string };
}

/** How many rows a table holds: tests check that a refused request wrote nothing. */
export async function rowCount(t: TestApp, table: keyof Database): Promise<number> {
  const row = await t.services.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
