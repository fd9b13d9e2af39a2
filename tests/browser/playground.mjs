#!/usr/bin/env node
// End-to-end check of the Reel playground in headless Chromium (Debian's, not a
// downloaded one):
//
//   node tests/browser/playground.mjs <playground-url-with-token> <video-file> <screenshot-dir>
//
// Opens the page, uploads the file through the file input, waits for the upload to
// reach 100 %, waits (without reloading) for the video's card to turn PLAYABLE from
// the live events, clicks play and waits for playback to pass one second. Saves
// upload.png, library.png and player.png in the screenshot dir. Exits 0 on success;
// otherwise prints the reason and exits 1. Errors thrown in the page and console
// errors are failures (Chromium's "Failed to load resource" lines are only printed).
import { mkdir } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const UPLOAD_TIMEOUT = 120_000;
const PLAYABLE_TIMEOUT = 120_000;
const PLAYBACK_TIMEOUT = 30_000;

const [url, videoFile, shotDir] = process.argv.slice(2);
if (!url || !videoFile || !shotDir) {
  console.error('usage: node tests/browser/playground.mjs <playground-url-with-token> <video-file> <screenshot-dir>');
  process.exit(2);
}
if (!existsSync(videoFile) || !statSync(videoFile).isFile()) {
  console.error(`FAIL: the video file ${videoFile} does not exist`);
  process.exit(1);
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

async function shot(page, name) {
  const path = join(shotDir, name);
  await page.screenshot({ path });
  log(`screenshot ${path}`);
}

/** Polls `probe` until it returns a truthy value; `check` may throw a Failure early. */
async function until(what, timeout, probe) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (pageErrors.length) fail(`the page threw while waiting for ${what}: ${pageErrors[0]}`);
    const signIn = currentPage && (await signInProblem(currentPage).catch(() => null));
    if (signIn) fail(`signed out while waiting for ${what}: ${signIn}`);
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) return null;
    await sleep(250);
  }
}

async function signInProblem(page) {
  return page.evaluate(() => {
    const dialog = document.querySelector('#signin-dialog');
    if (!dialog?.open) return null;
    const note = document.querySelector('#signin-message');
    return note && !note.hidden ? note.textContent : 'the page asks for a token (none in the URL, or it was refused)';
  });
}

async function run() {
  await mkdir(shotDir, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  currentPage = page;
  page.on('pageerror', (err) => {
    pageErrors.push(err.stack || String(err));
    console.error(`  page error: ${err.message}`);
  });
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const where = msg.location()?.url ? ` (${redact(msg.location().url)})` : '';
    // Chromium's own line for every failed request (a 404, an unreachable fallback
    // CDN the player then skips) is printed but is not the page's error.
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
  await page.waitForSelector('input[type=file]#file-input', { state: 'attached', timeout: 15_000 })
    .catch(() => fail('the page has no input[type=file]#file-input (did app.js load?)'));
  await sleep(500);
  const signIn = await signInProblem(page);
  if (signIn) fail(`not signed in: ${signIn}`);
  if (page.url().includes('token=')) fail('the token is still in the address bar (expected history.replaceState to remove it)');

  // --- upload -------------------------------------------------------------------
  const name = basename(videoFile);
  log(`upload ${name} (${statSync(videoFile).size} bytes)`);
  await page.setInputFiles('#file-input', resolve(videoFile));
  const item = page.locator('[data-testid=upload-item]').first();
  let lastPct = -1;
  const uploaded = await until('the upload', UPLOAD_TIMEOUT, async () => {
    const s = await item.evaluate((el) => ({
      value: Number(el.querySelector('[data-testid=upload-progress]')?.value ?? -1),
      state: el.dataset.state,
      error: el.querySelector('.error-text:not([hidden])')?.textContent || '',
      videoId: el.dataset.videoId || null,
    })).catch(() => null);
    if (!s) return null;
    if (s.state === 'failed' || s.state === 'paused') fail(`the upload ${s.state === 'failed' ? 'failed' : 'stopped'}: ${s.error || 'no reason shown'}`);
    if (s.value !== lastPct && (s.value === 100 || s.value - lastPct >= 25)) {
      lastPct = s.value;
      log(`upload progress ${s.value} % (${s.state})`);
    }
    if (s.value >= 100 && s.state === 'done') return s;
    return null;
  });
  if (!uploaded) fail(`the upload did not reach 100 % within ${UPLOAD_TIMEOUT / 1000} s (last ${lastPct} %)`);
  let videoId = uploaded.videoId;
  if (!videoId) {
    videoId = await until('the video id', 10_000, () => item.getAttribute('data-video-id'));
  }
  if (!videoId) fail('the upload finished but no video id (Reel-Video-Id) was shown');
  log(`uploaded: video ${videoId}`);
  await shot(page, 'upload.png');

  // --- live status until PLAYABLE (no reload) -------------------------------------
  const card = page.locator(`[data-testid=video-card][data-video-id="${videoId}"]`);
  let lastStatus = null;
  const playable = await until('PLAYABLE', PLAYABLE_TIMEOUT, async () => {
    const s = await card.evaluate((el) => ({
      status: el.querySelector('[data-testid=video-status]')?.textContent?.trim(),
      progress: el.querySelector('[data-testid=transcode-progress]')?.value,
      error: el.querySelector('[data-testid=video-error]:not([hidden])')?.textContent || '',
    })).catch(() => null);
    if (!s) return null;
    if (s.status !== lastStatus) {
      lastStatus = s.status;
      log(`status ${s.status}`);
    }
    if (s.status === 'UPLOAD_FAILED' || s.status === 'TRANSCODE_FAILED') fail(`the video became ${s.status}: ${s.error || 'no reason shown'}`);
    return s.status === 'PLAYABLE';
  });
  if (!playable) {
    const live = await page.locator('#live-status').textContent().catch(() => '?');
    fail(`the card did not show PLAYABLE within ${PLAYABLE_TIMEOUT / 1000} s without a reload (last status: ${lastStatus ?? 'no card'}; live indicator: ${live})`);
  }
  // Let the refreshed card (cover, definitions) render.
  await until('the cover', 5_000, () => card.evaluate((el) => {
    const img = el.querySelector('.thumb img');
    return img && !img.hidden && img.complete && img.naturalWidth > 0;
  }));
  await card.scrollIntoViewIfNeeded();
  await shot(page, 'library.png');

  // --- play -------------------------------------------------------------------------
  log('play');
  await card.locator('[data-testid=play]').click();
  const playing = await until('playback', PLAYBACK_TIMEOUT, () => page.evaluate(() => document.querySelector('#player').currentTime > 1));
  if (!playing) {
    const s = await page.evaluate(() => {
      const v = document.querySelector('#player');
      const m = document.querySelector('#player-message');
      return {
        currentTime: v.currentTime,
        readyState: v.readyState,
        networkState: v.networkState,
        paused: v.paused,
        error: v.error ? `${v.error.code} ${v.error.message}` : null,
        message: m && !m.hidden ? m.textContent : null,
      };
    });
    fail(`the player did not pass 1 s within ${PLAYBACK_TIMEOUT / 1000} s: ${JSON.stringify(s)}`);
  }
  const t = await page.evaluate(() => document.querySelector('#player').currentTime);
  log(`playing at ${t.toFixed(2)} s`);
  // Show the scrubbing preview in the screenshot: hover the seek bar at 60 %.
  const seek = page.locator('#seek');
  const box = await seek.boundingBox();
  if (box) await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
  await sleep(300);
  await shot(page, 'player.png');

  if (pageErrors.length) fail(`the page threw: ${pageErrors.join('\n')}`);
  if (consoleErrors.length) fail(`console errors: ${consoleErrors.join('\n')}`);
}

let code = 0;
const guard = setTimeout(() => {
  console.error(`FAIL: timed out after ${elapsed()}`);
  process.exit(1);
}, UPLOAD_TIMEOUT + PLAYABLE_TIMEOUT + PLAYBACK_TIMEOUT + 60_000);
try {
  await run();
  console.log(`PASS: uploaded, PLAYABLE and playing in ${elapsed()}`);
} catch (err) {
  code = 1;
  console.error(`FAIL: ${err instanceof Failure ? err.message : err.stack || err}`);
} finally {
  await browser?.close().catch(() => {});
  clearTimeout(guard);
}
process.exit(code);
