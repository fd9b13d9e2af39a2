#!/usr/bin/env node
// GraphiQL as Reel serves it, in headless Chromium on a machine without the internet:
//
//   node tests/browser/graphiql.mjs <base-url> <token>
//
// Opens <base-url>/graphiql, fails if the page asks any other host for anything, waits
// for the editor, types the token into the headers pane, runs the default query and
// waits for its answer. Prints PASS and exits 0, or the reason and exits 1.
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const [base, token] = process.argv.slice(2);
if (!base || !token) {
  console.error('usage: node tests/browser/graphiql.mjs <base-url> <token>');
  process.exit(2);
}
const origin = new URL(base).origin;
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const fail = async (why) => {
  console.error(`FAIL: ${why}`);
  await browser.close();
  process.exit(1);
};
try {
  const page = await browser.newPage();
  const elsewhere = [];
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (!['data:', 'blob:'].includes(url.protocol) && url.origin !== origin) elsewhere.push(req.url());
  });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${base}/graphiql`, { waitUntil: 'load' });
  await page.waitForSelector('.graphiql-container', { timeout: 20_000 });
  // The headers pane: replace its text with the token.
  await page.getByText('Headers', { exact: true }).first().click();
  const headers = page.locator('.graphiql-editor-tool .CodeMirror').last();
  await headers.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.type(`{"Authorization": "Bearer ${token}"}`);
  await page.locator('.graphiql-execute-button').click();
  await page.waitForFunction(
    () => document.querySelector('.graphiql-response')?.textContent?.includes('"edges"'),
    null,
    { timeout: 20_000 },
  );
  if (elsewhere.length) await fail(`the page asked other hosts: ${elsewhere.join(', ')}`);
  if (errors.length) await fail(`errors in the page: ${errors.join('; ')}`);
  console.log('PASS: GraphiQL rendered from Reel alone and ran a query');
  await browser.close();
} catch (e) {
  await fail(e.message);
}
