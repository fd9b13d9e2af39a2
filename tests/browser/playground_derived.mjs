#!/usr/bin/env node
// The player's derived media in headless Chromium (Debian's, driven by playwright-core):
//
//   node tests/browser/playground_derived.mjs <playground-url-with-token> <video-id> <screenshot-dir>
//
// The video is PLAYABLE already and has no downloads. Signs in by the link, opens it, then
//   - the thumbnail strip shows 8 loaded images 160 px wide (the image API), on screen; clicking one
//     seeks the player to its time;
//   - the clip tool: currentTime set to 1 s, "Mark start", 5 s, "Mark end", "Create clip"
//     (instant) shows the new clip's id, and the library lists it;
//   - "Make downloads" ends with download links; the first one's href answers 200;
//   - "Open in the player" plays the clip.
// Saves derived.png in the screenshot dir. Exits 0 printing PASS; otherwise prints
// FAIL: <reason> and exits 1. Errors thrown in the page, console errors and error toasts
// are failures.
import { mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const STEP_TIMEOUT = 20_000;
// Made on demand by workers (images, the remux): allow them longer.
const WORK_TIMEOUT = 90_000;
const TOTAL_TIMEOUT = 300_000;
const STRIP = 8;

const [url, videoId, shotDir] = process.argv.slice(2);
if (!url || !videoId || !shotDir) {
  console.error('usage: node tests/browser/playground_derived.mjs <playground-url-with-token> <video-id> <screenshot-dir>');
  process.exit(2);
}
if (!existsSync(CHROMIUM)) {
  console.error(`FAIL: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
  process.exit(1);
}

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
const log = (msg) => console.log(`[${elapsed()}] ${msg}`);
const redact = (u) => u.replace(/(token=)[^&]+/, '$1…');

class Failure extends Error {}
const fail = (reason) => {
  throw new Failure(reason);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const pageErrors = [];
const consoleErrors = [];
let browser;
let currentPage = null;

/** Polls `probe` until it returns a truthy value (returned), or null after `timeout`. */
async function until(what, timeout, probe) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (pageErrors.length) fail(`the page threw while waiting for ${what}: ${pageErrors[0]}`);
    if (consoleErrors.length) fail(`a console error while waiting for ${what}: ${consoleErrors[0]}`);
    if (currentPage) {
      const problem = await pageProblem(currentPage).catch(() => null);
      if (problem) fail(`${problem} (while waiting for ${what})`);
    }
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) return null;
    await sleep(250);
  }
}

/** A sign-in prompt, an error toast or a player error message, in words; else null. */
async function pageProblem(page) {
  return page.evaluate(() => {
    const dialog = document.querySelector('#signin-dialog');
    if (dialog?.open) return 'signed out: the page asks for a token (none in the URL, or it was refused)';
    const toast = document.querySelector('#toasts .toast-error');
    if (toast) return `an error toast: ${toast.textContent.trim()}`;
    const message = document.querySelector('#player-message.player-message-error');
    if (message && !message.hidden) return `the player says: ${message.textContent}`;
    return null;
  });
}

/** The library card of `id`, once it says `status`. */
async function card(page, id, status = 'PLAYABLE') {
  const el = page.locator(`[data-testid=video-card][data-video-id="${id}"]`);
  const seen = await until(`the card of video ${id}`, STEP_TIMEOUT, () =>
    el.evaluate((c) => c.querySelector('[data-testid=video-status]')?.textContent?.trim()).catch(() => null));
  if (!seen) fail(`the library shows no card for video ${id}`);
  if (seen !== status) fail(`the card of video ${id} says ${seen}, not ${status}`);
  return el;
}

/** Seeks the (paused) player to `t` seconds. */
const seekTo = (page, t) => page.evaluate((t) => {
  const v = document.querySelector('#player');
  v.pause();
  v.currentTime = t;
}, t);

async function run() {
  await mkdir(shotDir, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.on('pageerror', (err) => {
    pageErrors.push(err.stack || String(err));
    console.error(`  page error: ${err.message}`);
  });
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const where = msg.location()?.url ? ` (${redact(msg.location().url)})` : '';
    if (/^Failed to load resource/.test(msg.text())) {
      console.error(`  note: ${msg.text()}${where}`);
      return;
    }
    consoleErrors.push(`${msg.text()}${where}`);
    console.error(`  console error: ${msg.text()}${where}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) console.error(`  HTTP ${res.status()} ${res.request().method()} ${redact(res.url())}`);
  });

  log(`open ${redact(url)}`);
  const res = await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 30_000 });
  if (!res || !res.ok()) fail(`the playground did not load: HTTP ${res?.status()} for ${redact(url)}`);
  await page.waitForSelector('#library-grid', { state: 'attached', timeout: 15_000 })
    .catch(() => fail('the page has no #library-grid (did app.js load?)'));
  currentPage = page;
  await (await card(page, videoId)).locator('[data-testid=play]').click();
  const playing = await until('playback', STEP_TIMEOUT, () => page.evaluate(() => document.querySelector('#player').currentTime > 0.3));
  if (!playing) fail('the video did not start playing');

  // --- the thumbnail strip --------------------------------------------------------------
  const strip = await until(`${STRIP} loaded strip images`, WORK_TIMEOUT, () => page.evaluate(() => {
    const imgs = [...document.querySelectorAll('[data-testid=strip-thumb] img')];
    return imgs.length && imgs.every((i) => i.complete && i.naturalWidth > 0)
      && imgs.map((i) => ({ w: i.naturalWidth, h: i.naturalHeight, shown: i.getBoundingClientRect().width > 0 }));
  }));
  if (!strip) fail('the thumbnail strip did not load');
  if (strip.length !== STRIP || strip.some((s) => s.w !== 160)) fail(`the strip has ${JSON.stringify(strip)}, not ${STRIP} images 160 px wide`);
  if (strip.some((s) => !s.shown)) fail(`the strip's images are loaded but not shown: ${JSON.stringify(strip)}`);
  log(`strip: ${strip.length} images ${strip[0].w}×${strip[0].h}`);
  await seekTo(page, 0);
  const thumb = page.locator('[data-testid=strip-thumb]').nth(5);
  const at = Number(await thumb.getAttribute('data-time'));
  await thumb.click();
  const sought = await until(`the player at ${at} s`, STEP_TIMEOUT, () => page.evaluate((at) =>
    Math.abs(document.querySelector('#player').currentTime - at) < 0.5, at));
  if (!sought) fail(`clicking the thumbnail at ${at} s did not seek there`);
  log(`a strip click seeks to ${at} s`);

  // --- the clip tool --------------------------------------------------------------------
  await seekTo(page, 1);
  await page.click('#mark-start');
  await seekTo(page, 5);
  await page.click('#mark-end');
  const marks = await page.evaluate(() => [document.querySelector('#clip-start').textContent, document.querySelector('#clip-end').textContent]);
  log(`marks: ${marks.join(' → ')}`);
  await page.click('#create-clip');
  const clipId = await until('the clip id', STEP_TIMEOUT, () =>
    page.evaluate(() => document.querySelector('[data-testid=clip-id]')?.textContent?.trim()));
  if (!clipId) fail(`no clip id after "Create clip" (marks ${marks.join(' → ')})`);
  const status = await page.locator('[data-testid=clip-status]').textContent();
  log(`clip ${clipId} (${status})`);
  await card(page, clipId, status);

  // --- downloads ------------------------------------------------------------------------
  const make = page.locator('#make-downloads');
  await until('the "Make downloads" button', STEP_TIMEOUT, () => make.isVisible());
  await make.click();
  const link = await until('a download link', WORK_TIMEOUT, () => page.evaluate(() =>
    document.querySelector('[data-testid=download-link]')?.href));
  if (!link) fail('no download link appeared after "Make downloads"');
  const links = await page.$$eval('[data-testid=download-link]', (as) => as.map((a) => `${a.dataset.definition} ${a.hasAttribute('download')}`));
  const fetched = await page.evaluate(async (href) => {
    const r = await fetch(href);
    return { status: r.status, size: (await r.arrayBuffer()).byteLength };
  }, link);
  if (fetched.status !== 200 || !fetched.size) fail(`the download link answered ${JSON.stringify(fetched)}`);
  log(`downloads: ${links.join(', ')}; the first answers 200 (${fetched.size} bytes)`);
  await page.locator('#derived').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(shotDir, 'derived.png') });

  // --- the clip plays -------------------------------------------------------------------
  await page.click('[data-testid=open-clip]');
  const opened = await until('the clip in the player', STEP_TIMEOUT, () => page.evaluate((id) =>
    document.querySelector('#player-subtitle').textContent.includes(id) && document.querySelector('#player').currentTime > 0.3, clipId));
  if (!opened) fail(`the clip ${clipId} did not play in the player`);
  log(`clip ${clipId} plays`);

  const problem = await pageProblem(page);
  if (problem) fail(problem);
  if (pageErrors.length) fail(`the page threw: ${pageErrors.join('\n')}`);
  if (consoleErrors.length) fail(`console errors: ${consoleErrors.join('\n')}`);
}

let code = 0;
const guard = setTimeout(() => {
  console.error(`FAIL: timed out after ${elapsed()}`);
  process.exit(1);
}, TOTAL_TIMEOUT);
try {
  await run();
  console.log(`PASS: the thumbnail strip, a clip and downloads in ${elapsed()}`);
} catch (err) {
  code = 1;
  console.error(`FAIL: ${err instanceof Failure ? err.message : err.stack || err}`);
} finally {
  await browser?.close().catch(() => {});
  clearTimeout(guard);
}
process.exit(code);
