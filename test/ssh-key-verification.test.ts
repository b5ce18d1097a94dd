// Proof of possession of a user's SSH key, on SQLite and PostgreSQL: the challenge, the command run
// literally through sh with OpenSSH's ssh-keygen, the key marked verified in every list (native and
// GitHub), each refusal as a 422 sentence that writes nothing, a challenge used once even by two
// racing answers, only the owner, and the policy require_verified_ssh_keys end to end at the lookup.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { addProject, addServiceKey, addUser, rowCount, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase, testClock, type TestApp } from './harness.ts';
import { keygen, needSshKeygen, softwareKey, tempDir } from './sshsig-helpers.ts';

const run = promisify(execFile);
const needsSshKeygen = needSshKeygen('the proof-of-possession tests with ssh-keygen');
type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

async function world(t: Parameters<typeof appFor>[0], kind: Parameters<typeof appFor>[1]) {
  const clock = testClock();
  const app = await appFor(t, kind, { clock });
  const alice = await seed(app);
  const bob = await addUser(app, 'bob', { account: 'acme', role: 'read_write', by: alice.key });
  const call = (key: string) => (method: Method, url: string, payload?: unknown) =>
    app.request({ method, url, headers: bearer(key), ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
  return { app, clock, alice, bob, asAlice: call(alice.key), asBob: call(bob.key) };
}

/** ssh_key.verify rows in the audit trail (of one key, when given). */
async function verifyEvents(t: TestApp, id?: number): Promise<number> {
  let q = t.services.db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('action', '=', 'ssh_key.verify');
  if (id !== undefined) q = q.where('target_id', '=', String(id));
  return Number((await q.executeTakeFirstOrThrow()).n);
}

type Res = { statusCode: number; body: string; json(): unknown };
function refused(res: Res, status: number, code: string, pattern?: RegExp) {
  assert.equal(res.statusCode, status, res.body);
  const error = (res.json() as { error: { code: string; message: string; remedy?: string } }).error;
  assert.equal(error.code, code, res.body);
  assert.ok(error.message.length > 20 && error.message.endsWith('.'), `a sentence: ${error.message}`);
  if (pattern) assert.match(error.message, pattern);
  return error;
}

forEachDatabase('proof of possession of SSH keys', (kind) => {
  for (const type of [
    { name: 'ed25519', args: ['-t', 'ed25519'], file: 'id_ed25519', algorithm: 'ssh-ed25519' },
    { name: 'ecdsa', args: ['-t', 'ecdsa', '-b', '384'], file: 'id_ecdsa', algorithm: 'ecdsa-sha2-nistp384' },
    { name: 'rsa', args: ['-t', 'rsa', '-b', '2048'], file: 'id_rsa', algorithm: 'rsa-sha2-512' },
  ]) {
    test(`${type.name}: the command given, run literally by sh with ssh-keygen, signs what PUT accepts; the key is verified everywhere it is listed`, needsSshKeygen, async (t) => {
      const { app, clock, alice, asAlice } = await world(t, kind);
      const home = tempDir('keysmith-home-');
      dirs.push(home);
      fs.mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
      const key = keygen(path.join(home, '.ssh'), type.file, type.args);
      const added = await asAlice('POST', '/v1/user/ssh-keys', { key: key.publicLine });
      assert.equal(added.statusCode, 201, added.body);
      const id = (added.json() as { id: number }).id;
      assert.equal((added.json() as { verified: boolean }).verified, false);
      assert.equal((added.json() as { verified_at: null }).verified_at, null);

      const issued = await asAlice('POST', `/v1/user/ssh-keys/${id}/verification`);
      assert.equal(issued.statusCode, 201, issued.body);
      const c = issued.json() as { challenge: string; namespace: string; expires_at: string; command: string };
      assert.equal(c.namespace, 'keysmith');
      assert.equal(c.expires_at, new Date(clock.now().getTime() + 600_000).toISOString());
      assert.match(c.challenge, /^keysmith-ssh-key-verification:\d+:[A-Za-z0-9]{40}$/);
      assert.equal(c.command, `printf '%s' '${c.challenge}' | ssh-keygen -Y sign -n keysmith -f ~/.ssh/${type.file}`);
      // Only hashes of the challenge are stored.
      const stored = await app.services.db.selectFrom('ssh_key_challenges').selectAll().where('ssh_key_id', '=', id).executeTakeFirstOrThrow();
      assert.ok(!JSON.stringify(stored).includes(c.challenge.split(':').at(-1)!), 'the raw challenge is not stored');
      assert.equal(stored.challenge_sha256, createHash('sha256').update(c.challenge).digest('hex'));

      const signature = execFileSync('sh', ['-c', c.command], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home }, stdio: ['ignore', 'pipe', 'ignore'] }).toString('utf8');
      assert.match(signature, /^-----BEGIN SSH SIGNATURE-----\n/);
      clock.advance(60_000);
      const verified = await asAlice('PUT', `/v1/user/ssh-keys/${id}/verification`, { signature });
      assert.equal(verified.statusCode, 200, verified.body);
      const body = verified.json() as { id: number; verified: boolean; verified_at: string };
      assert.equal(body.id, id);
      assert.equal(body.verified, true);
      assert.equal(body.verified_at, clock.now().toISOString());

      const one = (await asAlice('GET', `/v1/user/ssh-keys/${id}`)).json() as { verified: boolean; verified_at: string };
      assert.deepEqual([one.verified, one.verified_at], [true, body.verified_at]);
      const list = (await asAlice('GET', '/v1/user/ssh-keys')).json() as Array<{ id: number; verified: boolean }>;
      assert.deepEqual(
        list.map((k) => [k.id, k.verified]),
        [[id, true]],
      );
      const gh = (await asAlice('GET', '/api/v3/user/keys')).json() as Array<{ id: number; verified: boolean; verified_at: string }>;
      assert.deepEqual(
        gh.map((k) => [k.id, k.verified, k.verified_at]),
        [[id, true, body.verified_at.replace('.000Z', 'Z')]],
      );
      const ghOne = (await asAlice('GET', `/api/v3/user/keys/${id}`)).json() as { verified: boolean };
      assert.equal(ghOne.verified, true);

      const audit = await app.request({ method: 'GET', url: '/v1/user/audit-events?action=ssh_key.verify', headers: bearer(alice.key) });
      assert.equal(audit.statusCode, 200, audit.body);
      const events = audit.json() as Array<{ target: { id: string }; details: Record<string, unknown> }>;
      assert.equal(events.length, 1);
      assert.equal(String(events[0]!.target.id), String(id));
      assert.equal(events[0]!.details.algorithm, type.algorithm);
      assert.ok(!audit.body.includes('BEGIN SSH SIGNATURE'), 'the signature is not kept in the audit');
    });
  }

  test('refusals: each a 422 sentence, none writes anything, and a challenge counts once', async (t) => {
    const { app, clock, asAlice } = await world(t, kind);
    const key = softwareKey();
    const id = ((await asAlice('POST', '/v1/user/ssh-keys', { key: key.line })).json() as { id: number }).id;
    const put = (signature: unknown) => asAlice('PUT', `/v1/user/ssh-keys/${id}/verification`, { signature });
    const notVerified = async () => {
      assert.equal(((await asAlice('GET', `/v1/user/ssh-keys/${id}`)).json() as { verified_at: string | null }).verified_at, null);
      assert.equal(await verifyEvents(app), 0);
    };

    refused(await put(key.signSshsig('anything')), 422, 'challenge_invalid', /No challenge is waiting for SSH key \d+/);
    const first = ((await asAlice('POST', `/v1/user/ssh-keys/${id}/verification`)).json() as { challenge: string }).challenge;
    const other = softwareKey();
    refused(await put(other.signSshsig(first)), 422, 'signature_invalid', /made with another key/);
    refused(await put(key.signSshsig(first, 'git')), 422, 'signature_invalid', /another namespace/);
    refused(await put(key.signSshsig(`${first}\n`)), 422, 'signature_invalid', /does not match the challenge.*printf, not echo/);
    refused(await put('-----BEGIN SSH SIGNATURE-----\nAAAA\n'), 422, 'signature_invalid', /line is missing/);
    refused(await put(key.line), 422, 'signature_invalid', /must start with the line -----BEGIN SSH SIGNATURE-----/);
    // Bad bodies are 400s naming the field.
    for (const payload of [{}, { signature: '' }, { signature: 7 }, { signature: 'x'.repeat(16_385) }, { signature: key.signSshsig(first), extra: 1 }]) {
      const res = await asAlice('PUT', `/v1/user/ssh-keys/${id}/verification`, payload);
      assert.equal(res.statusCode, 400, res.body);
    }
    await notVerified();

    // Asking again replaces the challenge: an answer to the first no longer counts.
    const second = ((await asAlice('POST', `/v1/user/ssh-keys/${id}/verification`)).json() as { challenge: string }).challenge;
    assert.notEqual(second, first);
    refused(await put(key.signSshsig(first)), 422, 'signature_invalid', /does not match the challenge/);
    // Stale: ten minutes and it is gone.
    clock.advance(600_000);
    refused(await put(key.signSshsig(second)), 422, 'challenge_invalid', /expired at .* \(challenges last 10 minutes\)/);
    await notVerified();

    // Used once: the same good answer twice.
    const third = ((await asAlice('POST', `/v1/user/ssh-keys/${id}/verification`)).json() as { challenge: string }).challenge;
    const good = key.signSshsig(third);
    assert.equal((await put(good)).statusCode, 200);
    refused(await put(good), 422, 'challenge_invalid', /answered already/);
    assert.equal(await verifyEvents(app), 1);

    // Deleting the key takes its challenge with it.
    assert.equal((await asAlice('DELETE', `/v1/user/ssh-keys/${id}`)).statusCode, 204);
    assert.equal(await rowCount(app, 'ssh_key_challenges'), 0);
  });

  test('two answers racing for one challenge: exactly one wins', async (t) => {
    const { app, asAlice } = await world(t, kind);
    for (let round = 0; round < 3; round++) {
      const key = softwareKey();
      const id = ((await asAlice('POST', '/v1/user/ssh-keys', { key: key.line })).json() as { id: number }).id;
      const challenge = ((await asAlice('POST', `/v1/user/ssh-keys/${id}/verification`)).json() as { challenge: string }).challenge;
      const signature = key.signSshsig(challenge);
      const results = await Promise.all([0, 1, 2].map(() => asAlice('PUT', `/v1/user/ssh-keys/${id}/verification`, { signature })));
      const statuses = results.map((r) => r.statusCode).sort();
      assert.deepEqual(statuses, [200, 422, 422], results.map((r) => r.body).join('\n'));
      for (const r of results.filter((x) => x.statusCode === 422)) refused(r, 422, 'challenge_invalid');
      const audited = await verifyEvents(app, id);
      assert.equal(audited, 1);
    }
  });

  test("only the key's owner: another person's key is a 404, a service key a 403", async (t) => {
    const { app, alice, asAlice, asBob } = await world(t, kind);
    const key = softwareKey();
    const id = ((await asAlice('POST', '/v1/user/ssh-keys', { key: key.line })).json() as { id: number }).id;
    refused(await asBob('POST', `/v1/user/ssh-keys/${id}/verification`), 404, 'not_found');
    const challenge = ((await asAlice('POST', `/v1/user/ssh-keys/${id}/verification`)).json() as { challenge: string }).challenge;
    refused(await asBob('PUT', `/v1/user/ssh-keys/${id}/verification`, { signature: key.signSshsig(challenge) }), 404, 'not_found');
    const service = await addServiceKey(app, alice.key, 'acme', 'admin');
    const res = await app.request({ method: 'POST', url: `/v1/user/ssh-keys/${id}/verification`, headers: bearer(service.key) });
    refused(res, 403, 'user_key_required');
    for (const bad of ['0', '01', '__proto__', 'constructor', '99999999999']) {
      const r = await asAlice('POST', `/v1/user/ssh-keys/${bad}/verification`);
      assert.ok(r.statusCode === 400 || r.statusCode === 404, `${bad}: ${r.body}`);
    }
    // The challenge still works for its owner after all that.
    assert.equal((await asAlice('PUT', `/v1/user/ssh-keys/${id}/verification`, { signature: key.signSshsig(challenge) })).statusCode, 200);
  });

  test('require_verified_ssh_keys: the lookup refuses an unverified key and accepts it once verified', async (t) => {
    const { app, alice, asAlice, asBob } = await world(t, kind);
    const server = await addServiceKey(app, alice.key, 'acme', 'ssh_server');
    const key = softwareKey();
    const added = (await asBob('POST', '/v1/user/ssh-keys', { key: key.line })).json() as { id: number; fingerprint_sha256: string };
    const lookup = () =>
      app.request({ method: 'GET', url: `/v1/ssh/authorized-keys?${new URLSearchParams({ user: 'bob', fingerprint: added.fingerprint_sha256, mode: 'login' })}`, headers: bearer(server.key) });
    assert.match((await lookup()).body, /ssh-ed25519 /, 'no policy: the key matches');
    assert.equal((await asAlice('PUT', '/v1/accounts/acme/policy', { require_verified_ssh_keys: true })).statusCode, 200);
    const before = await lookup();
    assert.equal(before.statusCode, 200, before.body);
    assert.equal(before.body, '', 'unverified: refused');
    const challenge = ((await asBob('POST', `/v1/user/ssh-keys/${added.id}/verification`)).json() as { challenge: string }).challenge;
    assert.equal((await asBob('PUT', `/v1/user/ssh-keys/${added.id}/verification`, { signature: key.signSshsig(challenge) })).statusCode, 200);
    const afterwards = await lookup();
    assert.match(afterwards.body, new RegExp(key.line.split(' ')[1]!.replace(/[+/]/g, '\\$&')), 'verified: accepted');

    // A deploy key has no person to prove possession: the rule leaves it alone (and lists it nowhere).
    await addProject(app, alice.key, 'acme', 'web');
    const deploy = (await asAlice('POST', '/v1/projects/gh/acme/web/deploy-keys', { key: softwareKey().line })).json() as { fingerprint_sha256: string };
    const git = await app.request({
      method: 'GET',
      url: `/v1/ssh/authorized-keys?${new URLSearchParams({ user: 'git', fingerprint: deploy.fingerprint_sha256, mode: 'git', command: '/usr/local/lib/keysmith/keysmith-git-serve' })}`,
      headers: bearer(server.key),
    });
    assert.match(git.body, /key-\d+/, git.body);
    const violations = (await asAlice('GET', '/v1/accounts/acme/policy/violations')).json() as Array<{ kind: string }>;
    assert.deepEqual(violations, [], 'the verified user key and the deploy key break nothing');
  });
});

forEachDatabase('proof of possession: the README', (kind) => {
  test('the curl lines of README "Proof of possession", run as pasted by sh with curl and ssh-keygen, verify the key', needsSshKeygen, async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    const home = tempDir('keysmith-readme-home-');
    dirs.push(home);
    fs.mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
    const key = keygen(path.join(home, '.ssh'), 'id_ed25519', ['-t', 'ed25519']);
    const added = await app.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bearer(alice.key), payload: { key: key.publicLine } });
    const id = (added.json() as { id: number }).id;
    const readme = fs.readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### Proof of possession'));
    const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!.replaceAll('http://127.0.0.1:8080', app.url).replace('KEY_ID=42', `KEY_ID=${id}`);
    // Asynchronously: the server answering curl runs in this process.
    const { stdout: out } = await run('sh', ['-c', block], { cwd: home, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, KEY: alice.key }, timeout: 60_000 });
    assert.equal((JSON.parse(out) as { verified: boolean }).verified, true, out);
  });
});
