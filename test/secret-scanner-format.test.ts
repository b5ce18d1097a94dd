// The README's "Token format for secret scanners" is what scanners outside this repository will
// copy: its regular expression and its checksum code must accept every key Keysmith mints and
// refuse any one-character change, exactly as the server's own check (crypto/token.ts) does.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { mintToken, parseToken } from '../src/crypto/token.ts';

const readme = fs.readFileSync(path.resolve(import.meta.dirname, '../README.md'), 'utf8');
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The README section, up to the next heading of the same or a higher level. */
function section(title: string): string {
  const start = readme.indexOf(`### ${title}\n`);
  assert.ok(start >= 0, `README has a "${title}" section`);
  const rest = readme.slice(start + title.length + 5);
  const end = rest.search(/^#{2,3} /m);
  return end === -1 ? rest : rest.slice(0, end);
}

function fencedBlocks(text: string, language: string): string[] {
  return [...text.matchAll(new RegExp('^```' + language + '\\n([\\s\\S]*?)^```$', 'gm'))].map((m) => m[1]!);
}

const scanner = section('Token format for secret scanners');
const [regexText] = fencedBlocks(scanner, 'text');
const [jsCode] = fencedBlocks(scanner, 'js');
const minted = Array.from({ length: 200 }, (_, i) => mintToken(i % 2 ? 'user' : 'service').token);

/** Every token differing from `token` in exactly one character (each position, a few replacements). */
function oneCharChanges(token: string): string[] {
  const out: string[] = [];
  for (let i = 4; i < token.length; i++) {
    for (const c of ['0', 'Z', 'z', BASE62[(BASE62.indexOf(token[i]!) + 1) % 62]!]) {
      if (c !== token[i]) out.push(token.slice(0, i) + c + token.slice(i + 1));
    }
  }
  return out;
}

test("the README's regular expression finds freshly minted keys in text, and nothing longer or shorter", () => {
  assert.ok(regexText, 'a ```text block holds the regular expression');
  const pattern = new RegExp(regexText.trim(), 'g');
  for (const token of minted) {
    const found = `config: API_KEY=${token}; other="${token}"\n`.match(pattern);
    assert.deepEqual(found, [token, token], token);
  }
  const [one] = minted as [string];
  for (const near of [one.slice(0, -1), `${one}x`, `x${one}`, `ksx_${one.slice(4)}`, one.replace('_', '-')]) {
    assert.equal(near.match(pattern), null, `not a key: ${near}`);
  }
});

test("the README's checksum steps and code accept minted keys and refuse every one-character change", async () => {
  assert.ok(jsCode, 'a ```js block holds the checksum code');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-readme-')), 'is-keysmith-key.mjs');
  fs.writeFileSync(file, jsCode);
  const { isKeysmithKey } = (await import(pathToFileURL(file).href)) as { isKeysmithKey: (token: string) => boolean };
  // The alphabet the steps name is the one the tokens are written in.
  assert.ok(scanner.includes(`\`${BASE62}\``), 'the steps name the base62 digits in order');
  for (const token of minted) {
    assert.equal(isKeysmithKey(token), true, token);
    assert.equal(parseToken(token).ok, true);
    for (const changed of oneCharChanges(token)) {
      assert.equal(isKeysmithKey(changed), false, `the README's check refuses ${changed}`);
      assert.equal(parseToken(changed).ok, false, `the server refuses ${changed}`);
    }
  }
  assert.equal(isKeysmithKey('__proto__'), false);
  assert.equal(isKeysmithKey(`${minted[0]} `), false);
});
