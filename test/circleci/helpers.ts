// Shared by test/circleci/*.test.ts: the two CircleCI clients pointed at a test app, the error they
// threw, curl, a key file for ssh-keygen, and a listening app with alice and gh/acme/web.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CircleCI as V1, GitType } from 'circleci-api';
import circleClient from 'circle-client';
import { addProject, seed } from '../factories.ts';
import { appFor, type TestApp } from '../harness.ts';

export type CheckoutKey = { public_key: string; type: string; fingerprint: string; fingerprint_sha256: string; preferred: boolean; time: string };

const execFileAsync = promisify(execFile);

export const v1 = (t: TestApp, token: string, repo = 'web') => new V1({ token, vcs: { type: GitType.GITHUB, owner: 'acme', repo }, circleHost: `${t.url}/api/v1.1` });

// circle-client is CommonJS with `exports.default`; under Node's ESM its class sits one level down.
type V2Class = (typeof import('circle-client'))['default'];
export const V2 = (circleClient as unknown as { default: V2Class }).default;

export function v2(t: TestApp, token: string, slug = 'gh/acme/web') {
  (V2 as unknown as { baseUrl: string }).baseUrl = `${t.url}/api/v2`;
  return new V2(token, slug);
}

/** The error a client threw: axios (circleci-api) keeps the body in response.data. */
export async function refusal(promise: Promise<unknown>): Promise<{ status: number; body: Record<string, string> }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { response?: { status: number; data: Record<string, string> }; status?: number; message: string };
    if (e.response && 'data' in e.response) return { status: e.response.status, body: e.response.data };
    return { status: e.status ?? 0, body: { message: e.message } };
  }
  assert.fail('the request was expected to fail');
}

/** curl, exactly as CircleCI's documentation writes it, with the host replaced (async: the server runs in this process). */
export async function curl(args: string[]): Promise<{ status: number; body: string }> {
  const { stdout: out } = await execFileAsync('curl', ['-s', '-w', '\n%{http_code}', ...args], { encoding: 'utf8' });
  const cut = out.lastIndexOf('\n');
  return { status: Number(out.slice(cut + 1)), body: out.slice(0, cut) };
}

export function keyFile(contents: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-ck-'));
  const file = path.join(dir, 'key');
  fs.writeFileSync(file, contents, { mode: 0o600 });
  return file;
}

export async function started(t: Parameters<typeof appFor>[0], kind: Parameters<typeof appFor>[1]) {
  const app = await appFor(t, kind, { listen: true });
  const alice = await seed(app);
  await addProject(app, alice.key, 'acme', 'web');
  return { app, alice };
}
