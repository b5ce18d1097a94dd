import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from '../src/crypto/password.ts';

test('scrypt hashes verify the right password only, and never contain it', async () => {
  const hash = await hashPassword('correct horse battery staple');
  assert.match(hash, /^scrypt\$16384\$8\$1\$/);
  assert.ok(!hash.includes('correct horse'));
  assert.equal(await verifyPassword('correct horse battery staple', hash), true);
  assert.equal(await verifyPassword('correct horse battery stapler', hash), false);
  assert.notEqual(await hashPassword('correct horse battery staple'), hash, 'salted');
});

test('the dummy hash used for unknown logins matches no password, and junk hashes fail closed', async () => {
  assert.equal(await verifyPassword('', DUMMY_PASSWORD_HASH), false);
  assert.equal(await verifyPassword('anything at all', DUMMY_PASSWORD_HASH), false);
  assert.equal(await verifyPassword('x', 'md5$abc'), false);
});
