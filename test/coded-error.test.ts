import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodedError } from '../src/crypto/coded-error.ts';
import { EnvelopeError, open } from '../src/crypto/envelope.ts';
import { parseSshPrivateKey, SshPrivateKeyError } from '../src/crypto/ssh-private-key.ts';
import { parseSshPublicKey, SshKeyError } from '../src/crypto/ssh-public-key.ts';
import { masterKeyFrom } from '../src/crypto/envelope.ts';
import { randomBytes } from 'node:crypto';

const caught = (f: () => unknown): unknown => {
  try {
    f();
  } catch (err) {
    return err;
  }
  assert.fail('expected a throw');
};

test('the crypto errors share one CodedError base, each with its own name and a code', () => {
  const ring = { current: masterKeyFrom(randomBytes(32)), previous: [] };
  const cases: Array<[unknown, new (...a: never[]) => CodedError<string>, string]> = [
    [caught(() => open(ring, 'not sealed', 'aad')), EnvelopeError, 'EnvelopeError'],
    [caught(() => parseSshPublicKey('ssh-ed25519 !!!')), SshKeyError, 'SshKeyError'],
    [caught(() => parseSshPrivateKey('nope')), SshPrivateKeyError, 'SshPrivateKeyError'],
  ];
  for (const [err, cls, name] of cases) {
    assert.ok(err instanceof cls, name);
    assert.ok(err instanceof CodedError);
    assert.equal((err as Error).name, name);
    assert.match((err as CodedError<string>).code, /^[a-z_]+$/);
  }
});
