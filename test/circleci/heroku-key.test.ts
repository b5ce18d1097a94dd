// The Heroku API key of the CircleCI v1.1 API: stored, shown as its last 4 characters, removed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bearer, forEachDatabase } from '../harness.ts';
import { v1, started } from './helpers.ts';

forEachDatabase('CircleCI-compatible keys and grants', (kind) => {
  test('the Heroku key: stored, shown as its last 4 characters, removed', async (t) => {
    const { app, alice } = await started(t, kind);
    const heroku = 'abcd1234-5678-90ef-aaaa-bbbbccccdddd';
    await v1(app, alice.key).addHerokuKey({ apikey: heroku } as never);
    const status = await app.request({ method: 'GET', url: '/v1/user/integrations/heroku', headers: bearer(alice.key) });
    assert.deepEqual(status.json(), { configured: true, last4: 'dddd' });
    const deleted = await app.request({ method: 'DELETE', url: '/v1/user/integrations/heroku', headers: bearer(alice.key) });
    assert.deepEqual(deleted.json(), { configured: false, last4: null });
    const bad = await app.request({ method: 'POST', url: '/api/v1.1/user/heroku-key', headers: bearer(alice.key), payload: { apikey: 'has spaces in it' } });
    assert.equal(bad.statusCode, 400);
    assert.ok(!bad.body.includes('has spaces'), 'not echoed');
  });
});
