// People the console tests sign in as: made over the API, as a site admin would.
import assert from 'node:assert/strict';
import { bearer, type TestApp } from '../harness.ts';

/** A user with a console password, created by the site admin over the API, and a session over HTTP. */
export async function userWithPassword(app: TestApp, adminKey: string, login: string, password: string) {
  const created = await app.request({ method: 'POST', url: '/v1/admin/users', headers: bearer(adminKey), payload: { login, password } });
  assert.equal(created.statusCode, 201, created.body);
  const session = await app.request({ method: 'POST', url: '/v1/session', payload: { login, password } });
  assert.equal(session.statusCode, 200, session.body);
  const cookie = String(session.headers['set-cookie']).split(';')[0]!;
  const key = await app.request({ method: 'POST', url: '/v1/user/api-keys', headers: { cookie, 'x-csrf-token': session.json().csrf_token }, payload: { name: `${login}'s key` } });
  assert.equal(key.statusCode, 201, key.body);
  return { login, password, key: key.json().key as string };
}
