// The invalidation announcement's vocabulary: what a node evicts for each payload, and that anything
// unreadable (or hostile) means "clear all", never "nothing".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeEviction, encodeEviction } from '../src/modules/api-keys/credential-invalidation.ts';

test('each eviction survives the trip through a NOTIFY payload', () => {
  for (const e of [{ all: true } as const, { key: 42 }, { user: 7 }, { account: 3 }]) assert.deepEqual(decodeEviction(encodeEviction(e)), e);
  assert.ok(Buffer.byteLength(encodeEviction({ key: Number.MAX_SAFE_INTEGER })) < 8000);
});

test('an unreadable or unknown payload clears everything', () => {
  for (const payload of ['', 'not json', 'null', '[]', '42', '{}', '{"key":"42"}', '{"key":1.5}', '{"key":1,"user":2}', '{"__proto__":1}', '{"constructor":1}', '{"toString":1}', '{"keys":[1]}']) {
    assert.deepEqual(decodeEviction(payload), { all: true }, payload);
  }
});
