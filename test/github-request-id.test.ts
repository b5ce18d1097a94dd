// GitHub dialect: every /api/v3 response carries X-GitHub-Request-Id (Octokit reports it), and a body
// of the wrong JSON types is refused in GitHub's 422 shape rather than coerced.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Octokit } from '@octokit/rest';
import { RequestError } from '@octokit/request-error';
import { addProject, seed, rowCount } from './factories.ts';
import { appFor, bearer, forEachDatabase } from './harness.ts';
import { ed25519Line } from './ssh-fixtures.ts';

forEachDatabase('GitHub request id and types', (kind) => {
  test('Octokit sees X-GitHub-Request-Id on answers and on errors, and it is the request id', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    const warnings: string[] = [];
    const octokit = new Octokit({ baseUrl: `${app.url}/api/v3`, auth: alice.key, log: { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} } });
    const listed = await octokit.rest.users.listPublicSshKeysForAuthenticatedUser();
    assert.equal(listed.status, 200);
    assert.match(String(listed.headers['x-github-request-id']), /^[0-9a-f]{12}-[0-9a-z]+$/);
    let refused: RequestError | undefined;
    try {
      await octokit.rest.users.getPublicSshKeyForAuthenticatedUser({ key_id: 999_999 });
    } catch (err) {
      refused = err as RequestError;
    }
    assert.ok(refused instanceof RequestError, 'a 404 is an Octokit RequestError');
    assert.equal(refused.status, 404);
    const id = refused.response?.headers['x-github-request-id'];
    assert.match(String(id), /^[0-9a-f]{12}-[0-9a-z]+$/);
    assert.notEqual(id, listed.headers['x-github-request-id'], 'one id per request');
    // The id Octokit reports is the one the server logged for that request.
    assert.ok(
      app.logs.some((line) => line.includes(`"reqId":"${id}"`)),
      'the server logged this id',
    );
    // A path outside the API, and an unauthenticated request, carry it too.
    const stray = await app.request({ method: 'GET', url: '/api/v3/nothing' });
    assert.ok(stray.headers['x-github-request-id']);
    assert.ok((await app.request({ method: 'GET', url: '/api/v3/user' })).headers['x-github-request-id']);
  });

  test('wrong JSON types are refused with 422 Validation Failed and code "invalid", never coerced', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    await addProject(app, alice.key, 'acme');
    const count = async () => rowCount(app, 'ssh_keys');
    const cases: Array<{ url: string; payload: Record<string, unknown>; field: string }> = [
      { url: '/api/v3/user/keys', payload: { title: 123, key: ed25519Line() }, field: 'title' },
      { url: '/api/v3/user/keys', payload: { title: 'x', key: 12345 }, field: 'key' },
      { url: '/api/v3/repos/acme/web/keys', payload: { title: 'x', key: ed25519Line(), read_only: 'yes' }, field: 'read_only' },
      { url: '/api/v3/repos/acme/web/keys', payload: { title: ['x'], key: ed25519Line() }, field: 'title' },
    ];
    for (const c of cases) {
      const res = await app.request({ method: 'POST', url: c.url, headers: bearer(alice.key), payload: c.payload });
      assert.equal(res.statusCode, 422, `${JSON.stringify(c.payload)}: ${res.body}`);
      const body = res.json();
      assert.equal(body.message, 'Validation Failed');
      assert.equal(body.errors[0].code, 'invalid');
      assert.equal(body.errors[0].field, c.field);
      assert.match(body.errors[0].message, new RegExp(`The field "${c.field}" must be a (string|boolean)\\.`));
    }
    assert.equal(await count(), 0, 'no key was added with a coerced value');
    // Through Octokit: the same refusal, as a RequestError with GitHub's errors array.
    const octokit = new Octokit({ baseUrl: `${app.url}/api/v3`, auth: alice.key, log: { debug() {}, info() {}, warn() {}, error() {} } });
    await assert.rejects(
      octokit.request('POST /repos/{owner}/{repo}/keys', { owner: 'acme', repo: 'web', key: ed25519Line(), read_only: 'yes' as unknown as boolean }),
      (err: unknown) => err instanceof RequestError && err.status === 422 && (err.response?.data as { errors: Array<{ code: string }> }).errors[0]!.code === 'invalid',
    );
  });
});

forEachDatabase('GitHub unknown fields', (kind) => {
  test('an unknown body field is ignored, as GitHub ignores it (Octokit sends extra options in the body)', async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    const octokit = new Octokit({ baseUrl: `${app.url}/api/v3`, auth: alice.key, log: { debug() {}, info() {}, warn() {}, error() {} } });
    const created = await octokit.request('POST /user/keys', { title: 'laptop', key: ed25519Line(), colour: 'blue' } as never);
    assert.equal(created.status, 201);
    assert.equal((created.data as { title: string }).title, 'laptop');
  });
});
