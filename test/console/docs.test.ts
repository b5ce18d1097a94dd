// The served docs in Chromium under their Content-Security-Policy: swagger-ui renders every
// operation and opens one, and the error catalogue shows its styled entries, with no CSP violation
// and no script error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { appFor } from '../harness.ts';
import { CHROMIUM } from './browser.ts';

test('swagger-ui and the error catalogue render under their CSP with a clean browser console', async (t) => {
  const app = await appFor(t, 'sqlite', { listen: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  await page.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation on ${location.pathname}: ${e.violatedDirective}`)));

  await page.goto(`${app.url}/docs`);
  await page.locator('.opblock').first().waitFor();
  assert.ok((await page.locator('.opblock').count()) > 10, 'every operation is listed');
  await page.locator('.opblock-summary').first().click();
  await page.locator('.opblock-body').first().waitFor();

  await page.goto(`${app.url}/docs/errors#grant_required`);
  await page.locator('h2#grant_required').waitFor();
  assert.equal(await page.evaluate(() => getComputedStyle(document.body).maxWidth), '768px', 'the page style applies (allowed by its hash)');
  assert.deepEqual(problems, []);
});
