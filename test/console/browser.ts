// Browser tests of the console: Debian's Chromium driven by playwright-core against a real Keysmith
// listening on 127.0.0.1. Each page is checked the same way: axe-core finds no accessibility
// violation, nothing is wider than the window, and a screenshot is kept under test-artifacts/console/
// at 1280 and 390 px. The browser console must stay clean: a JavaScript error, a CSP violation or an
// HTTP error the test did not expect fails the test. The console speaks only the native API: a request
// of the page to any /api/ path fails the test too.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, type TestContext } from 'node:test';
import axe from 'axe-core';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CONSOLE_DIR } from '../../src/http/console.ts';
import type { TestApp } from '../harness.ts';

export const CHROMIUM = process.env.KEYSMITH_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = path.resolve('test-artifacts/console');
export const WIDE = 1280;
export const NARROW = 390;

let launched: Promise<Browser> | undefined;

function browser(): Promise<Browser> {
  if (!existsSync(path.join(CONSOLE_DIR, 'index.html'))) {
    throw new Error(`The console is not built (${CONSOLE_DIR} has no index.html): run npm run build:web, or npm test, which builds it.`);
  }
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not at ${CHROMIUM}: install Debian's chromium package (.ci/run does).`);
  launched ??= chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  return launched;
}

/** The processes descended from this one whose command is `name` (Playwright starts Chromium as our child). */
function descendantsNamed(name: string): number[] {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: the command may hold spaces or parentheses, so read after the last ')'.
      names.set(Number(entry), stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')));
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  const isOurs = (pid: number): boolean => {
    for (let at = parents.get(pid); at !== undefined && at > 1; at = parents.get(at)) if (at === process.pid) return true;
    return false;
  };
  return [...names].filter(([pid, comm]) => comm === name && isOurs(pid)).map(([pid]) => pid);
}

// Chromium has been seen to hang (no page left, its GPU process waiting on a futex), and Playwright
// then waits for it for ever, in browser.close() and context.close() alike. A close that has not
// finished within 20 s kills every Chromium process this one started, and the next test launches a
// new browser: the test still passes or fails on what it checked, and the run does not stall.
const CLOSE_DEADLINE_MS = 20_000;

async function closeWithin(what: string, close: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), CLOSE_DEADLINE_MS)));
  const outcome = await Promise.race([close.then(() => 'closed' as const), late]);
  clearTimeout(timer);
  if (outcome === 'closed') return;
  console.error(`Chromium did not finish ${what} within ${CLOSE_DEADLINE_MS / 1000} s; killing it.`);
  launched = undefined;
  for (const pid of descendantsNamed('chromium')) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  // Killed, the browser's connection ends and Playwright settles the close; never wait on it again.
  await Promise.race([close.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, CLOSE_DEADLINE_MS).unref())]);
}

after(async () => {
  if (!launched) return;
  const browser = await launched;
  await closeWithin('browser.close()', browser.close());
});

export interface Console {
  page: Page;
  /** The flow is about to cause this HTTP error on purpose (a refusal it tests), from a URL containing `path`. */
  expectHttpError(status: number, path: string): void;
  /** Accessibility, layout at both widths, and a screenshot of each: call once per page. */
  checkPage(name: string): Promise<void>;
  /** Fails on anything the browser console reported that the test did not expect, and on any request to /api/. */
  finish(): Promise<void>;
}

export async function openConsole(t: TestContext, app: TestApp, prefix: string): Promise<Console> {
  const context = await (await browser()).newContext({ baseURL: app.url, viewport: { width: WIDE, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.url });
  context.setDefaultTimeout(15_000);
  t.after(() => closeWithin('context.close()', context.close()));
  const page = await context.newPage();
  const problems: string[] = [];
  const expected: Array<{ status: number; path: string }> = [];
  const requested: string[] = [];

  page.on('request', (request) => requested.push(request.url()));

  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error' && message.type() !== 'warning') return;
    const status = /the server responded with a status of (\d{3})/.exec(message.text());
    const url = message.location().url;
    if (status) {
      const at = expected.findIndex((e) => e.status === Number(status[1]) && url.includes(e.path));
      if (at !== -1) {
        expected.splice(at, 1);
        return;
      }
    }
    problems.push(`console ${message.type()}: ${message.text()} (${url})`);
  });

  mkdirSync(ARTIFACTS, { recursive: true });

  async function checkAt(name: string, width: number): Promise<void> {
    await page.setViewportSize({ width, height: 900 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${name} at ${width} px is ${overflow} px wider than the window`);
    await page.evaluate(axe.source);
    const violations = await page.evaluate(async () => {
      const result = await (window as unknown as { axe: typeof axe }).axe.run(document, { resultTypes: ['violations'] });
      return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    });
    assert.deepEqual(violations, [], `${name} at ${width} px: accessibility violations`);
    await page.screenshot({ path: path.join(ARTIFACTS, `${prefix}-${name}-${width}.png`), fullPage: true });
  }

  return {
    page,
    expectHttpError: (status, path) => expected.push({ status, path }),
    async checkPage(name) {
      await checkAt(name, WIDE);
      await checkAt(name, NARROW);
      await page.setViewportSize({ width: WIDE, height: 900 });
    },
    async finish() {
      assert.deepEqual(problems, [], 'the browser console reported problems');
      assert.deepEqual(expected, [], 'HTTP errors the test expected did not happen');
      const dialect = requested.filter((url) => new URL(url).pathname.startsWith('/api/'));
      assert.deepEqual(dialect, [], 'the console called a dialect API instead of /v1');
      assert.ok(
        requested.some((url) => new URL(url).pathname.startsWith('/v1/')),
        'the page was seen calling /v1',
      );
    },
  };
}

/** Signs in through the form and waits for the page it leads to. */
export async function signIn(ui: Console, login: string, password: string, landing = 'API keys'): Promise<void> {
  const { page } = ui;
  if (!page.url().includes('/sign-in')) await page.goto('/sign-in');
  await page.getByLabel('Login').fill(login);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: landing }).waitFor();
}
