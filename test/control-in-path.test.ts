// The request-path check for control characters (src/http/control-in-path.ts) is a character loop;
// it must refuse exactly what the plain regex over the path (the URL before any "?") refuses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { controlInPath } from '../src/http/control-in-path.ts';

const REFERENCE = /[\u0000-\u001f\u007f]|%(?:[01][0-9a-f]|7f)/i;
const reference = (url: string): boolean => REFERENCE.test(url.split('?')[0]!);

test('known paths: plain, encoded and raw controls, and controls only in the query', () => {
  const cases: Array<[string, boolean]> = [
    ['/v1/user', false],
    ['/v1/projects/gh/acme/web%20site', false],
    ['/v1/user%00', true],
    ['/v1/user%1F', true],
    ['/v1/user%1f/x', true],
    ['/v1/user%7F', true],
    ['/v1/user%7', false],
    ['/v1/user%', false],
    ['/v1/us\u0000er', true],
    ['/v1/us\u007fer', true],
    ['/v1/user?q=%00', false],
    ['/v1/user?q=\u0001', false],
    ['/v1/%25%30%30', false],
    ['', false],
  ];
  for (const [url, refused] of cases) {
    assert.equal(controlInPath(url), refused, JSON.stringify(url));
    assert.equal(reference(url), refused, `reference: ${JSON.stringify(url)}`);
  }
});

test('random URLs over a hostile alphabet: the loop and the regex agree', () => {
  const alphabet = ['/', '%', '0', '1', '7', 'f', 'F', 'a', 'g', '?', '\u0000', '\u001f', '\u0020', '\u007f', '\u0080', 'é', 'x'];
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  for (let i = 0; i < 20_000; i++) {
    let url = '/';
    const length = next() % 12;
    for (let j = 0; j < length; j++) url += alphabet[next() % alphabet.length];
    assert.equal(controlInPath(url), reference(url), JSON.stringify(url));
  }
});
