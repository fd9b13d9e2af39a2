#!/usr/bin/env node
// The playground's tracks in headless Chromium (Debian's, driven by playwright-core):
//
//   node tests/browser/playground_tracks.mjs <playground-url-with-token> <languages-video-id> <encrypted-video-id> <subtitle.srt> <screenshot-dir>
//
// Both videos are PLAYABLE already: the first with two audio languages (eng, then fre),
// the second encrypted (AES-128). Signs in by the link, then
//   - plays the first video: the audio menu shows both languages; choosing the French one
//     makes hls.js load that rendition (its playlist and a fragment, the URI the master
//     playlist gives for LANGUAGE="fre") and play on;
//   - adds the .srt through the "Text tracks" form (fr, Français): the row appears, the
//     player reloads its source, keeps French audio, and the subtitle menu lists the new
//     track; choosing it shows a text track on the <video> (mode 'showing') whose cues,
//     paused at 2 s, hold the active "Bonjour";
//   - opens the second video: its card and the player show the encrypted badge, and it
//     plays (hls.js fetches the key) past 0.5 s.
// Saves subtitles.png and tracks.png in the screenshot dir. Exits 0 printing PASS;
// otherwise prints FAIL: <reason> and exits 1. Errors thrown in the page, console errors
// and error toasts are failures (Chromium's "Failed to load resource" lines are only printed).
import { mkdir } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const STEP_TIMEOUT = 20_000;
const TOTAL_TIMEOUT = 180_000;
const CUE_TEXT = 'Bonjour';

const [url, languagesId, encryptedId, srtFile, shotDir] = process.argv.slice(2);
if (!url || !languagesId || !encryptedId || !srtFile || !shotDir) {
  console.error('usage: node tests/browser/playground_tracks.mjs <playground-url-with-token> <languages-video-id> <encrypted-video-id> <subtitle.srt> <screenshot-dir>');
  process.exit(2);
}
if (!existsSync(srtFile) || !statSync(srtFile).isFile()) {
  console.error(`FAIL: the subtitle file ${srtFile} does not exist`);
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
// Every request's path (no query: signed URLs), in order, and the audio renditions of
// the last master playlist hls.js loaded: [{ lang, name, dir }] with dir a path prefix.
const requests = [];
let audioRenditions = [];
// The AES-128 key URIs (paths) the media playlists name.
const keyPaths = new Set();
let browser;
let currentPage = null;

async function shot(page, name) {
  const path = join(shotDir, name);
  await page.screenshot({ path });
  log(`screenshot ${path}`);
}

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
    if (dialog?.open) {
      const note = document.querySelector('#signin-message');
      return `signed out: ${note && !note.hidden ? note.textContent : 'the page asks for a token (none in the URL, or it was refused)'}`;
    }
    const toast = document.querySelector('#toasts .toast-error');
    if (toast) return `an error toast: ${toast.textContent.trim()}`;
    const message = document.querySelector('#player-message.player-message-error');
    if (message && !message.hidden) return `the player says: ${message.textContent}`;
    return null;
  });
}

/** What the player is doing, for failure messages. */
async function playerState(page) {
  return page.evaluate(() => {
    const v = document.querySelector('#player');
    const m = document.querySelector('#player-message');
    return {
      currentTime: v.currentTime,
      duration: v.duration,
      readyState: v.readyState,
      paused: v.paused,
      ended: v.ended,
      error: v.error ? `${v.error.code} ${v.error.message}` : null,
      message: m && !m.hidden ? m.textContent : null,
      audio: [...document.querySelectorAll('#audio-select option')].map((o) => `${o.value}:${o.textContent}${o.selected ? '*' : ''}`),
      subtitles: [...document.querySelectorAll('#subtitle-select option')].map((o) => `${o.value}:${o.textContent}${o.selected ? '*' : ''}`),
      textTracks: Array.from(v.textTracks, (t) => ({ kind: t.kind, label: t.label, language: t.language, mode: t.mode, cues: t.cues?.length ?? null })),
    };
  });
}

/** Parses the EXT-X-MEDIA TYPE=AUDIO lines of a master playlist fetched from `base`. */
function parseAudio(body, base) {
  const attr = (line, name) => new RegExp(`${name}="([^"]*)"`).exec(line)?.[1];
  return body.split(/\r?\n/)
    .filter((l) => l.startsWith('#EXT-X-MEDIA:') && l.includes('TYPE=AUDIO'))
    .map((l) => {
      const uri = attr(l, 'URI');
      const path = uri ? new URL(uri, base).pathname : null;
      return { lang: attr(l, 'LANGUAGE') || '', name: attr(l, 'NAME') || '', dir: path && path.slice(0, path.lastIndexOf('/') + 1) };
    });
}

async function card(page, id) {
  const el = page.locator(`[data-testid=video-card][data-video-id="${id}"]`);
  const status = await until(`the card of video ${id}`, STEP_TIMEOUT, () =>
    el.evaluate((c) => c.querySelector('[data-testid=video-status]')?.textContent?.trim()).catch(() => null));
  if (!status) fail(`the library shows no card for video ${id}`);
  if (status !== 'PLAYABLE') fail(`the card of video ${id} says ${status}, not PLAYABLE`);
  await el.scrollIntoViewIfNeeded();
  return el;
}

const badgeShown = (locator) => locator.evaluate((el) => !el.hidden && el.getBoundingClientRect().width > 0);

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
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
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
  page.on('request', (req) => {
    try {
      requests.push(new URL(req.url()).pathname);
    } catch {
      /* data: and the like */
    }
  });
  page.on('response', async (res) => {
    if (res.status() >= 400) console.error(`  HTTP ${res.status()} ${res.request().method()} ${redact(res.url())}`);
    if (!new URL(res.url()).pathname.endsWith('.m3u8') || !res.ok()) return;
    const body = await res.text().catch(() => '');
    if (body.includes('#EXT-X-STREAM-INF')) {
      const audio = parseAudio(body, res.url());
      if (audio.length) audioRenditions = audio;
    }
    for (const line of body.split(/\r?\n/).filter((l) => l.startsWith('#EXT-X-KEY:') && l.includes('METHOD=AES-128'))) {
      const uri = /URI="([^"]*)"/.exec(line)?.[1];
      if (uri) keyPaths.add(new URL(uri, res.url()).pathname);
    }
  });

  // --- sign in by the link ------------------------------------------------------------
  log(`open ${redact(url)}`);
  const res = await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 30_000 });
  if (!res || !res.ok()) fail(`the playground did not load: HTTP ${res?.status()} for ${redact(url)}`);
  await page.waitForSelector('#library-grid', { state: 'attached', timeout: 15_000 })
    .catch(() => fail('the page has no #library-grid (did app.js load?)'));
  currentPage = page;

  // --- two audio languages ------------------------------------------------------------
  const languages = await card(page, languagesId);
  if (await badgeShown(languages.locator('[data-testid=encrypted-badge]'))) fail(`the card of the unencrypted video ${languagesId} shows the encrypted badge`);
  log(`play ${languagesId}`);
  await languages.locator('[data-testid=play]').click();
  const audio = await until('the audio menu with two languages', STEP_TIMEOUT, () => page.evaluate(() => {
    const select = document.querySelector('#audio-select');
    const field = document.querySelector('#audio-field');
    if (!select || select.hidden || field.hidden || !select.getBoundingClientRect().width) return null;
    const options = [...select.options].map((o) => ({ value: o.value, label: o.textContent }));
    return options.length === 2 ? { options, value: select.value } : null;
  }));
  if (!audio) fail(`the audio menu did not show two languages: ${JSON.stringify(await playerState(page))}`);
  log(`audio menu: ${audio.options.map((o) => o.label).join(' | ')} (selected ${audio.value})`);
  const english = audio.options.find((o) => /\beng\b|english/i.test(o.label));
  const french = audio.options.find((o) => /\bfre\b|\bfra\b|\bfr\b|french|fran[cç]ais/i.test(o.label));
  if (!english || !french) fail(`the audio menu does not name English and French: ${JSON.stringify(audio.options)}`);
  if (audio.value !== english.value) fail(`the audio menu starts on ${audio.value}, not the default English track ${english.value}`);
  if (await badgeShown(page.locator('#encrypted-badge'))) fail('the player shows the encrypted badge for an unencrypted video');

  const playing = await until('playback', STEP_TIMEOUT, () => page.evaluate(() => document.querySelector('#player').currentTime > 0.3));
  if (!playing) fail(`the video did not start playing: ${JSON.stringify(await playerState(page))}`);
  const frDir = audioRenditions.find((r) => /^(fre|fra|fr)$/i.test(r.lang))?.dir;
  if (!frDir) fail(`the master playlist has no French audio rendition: ${JSON.stringify(audioRenditions)}`);
  const from = requests.length;
  const switchedAt = await page.evaluate(() => document.querySelector('#player').currentTime);
  log(`switch the audio to "${french.label}" at ${switchedAt.toFixed(2)} s (rendition ${frDir})`);
  await page.selectOption('#audio-select', french.value);
  const switched = await until('hls.js to load the French rendition', STEP_TIMEOUT, async () => {
    const after = requests.slice(from).filter((p) => p.startsWith(frDir));
    const fragment = after.some((p) => !p.endsWith('.m3u8'));
    const v = await page.evaluate(() => {
      const el = document.querySelector('#player');
      return { t: el.currentTime, ended: el.ended, value: document.querySelector('#audio-select').value };
    });
    if (v.value !== french.value) fail(`the audio menu went back to ${v.value} after choosing French (${french.value})`);
    return fragment && (v.t >= switchedAt + 1 || v.ended) ? after : null;
  });
  if (!switched) {
    fail(`hls.js did not load the French audio and play on: requests under ${frDir}: ${JSON.stringify(requests.slice(from).filter((p) => p.startsWith(frDir)))}; ${JSON.stringify(await playerState(page))}`);
  }
  log(`French audio: ${switched.length} request(s) under ${frDir}, e.g. ${switched.at(-1)}`);

  // --- add a subtitle through the form --------------------------------------------------
  const panel = page.locator('#text-tracks');
  await until('the text track panel', STEP_TIMEOUT, () => panel.isVisible());
  const before = await page.locator('#text-track-list li[data-testid=text-track]').count();
  if (before) fail(`the video has ${before} text track(s) already`);
  log(`add ${srtFile} as fr, Français`);
  const masters = audioRenditions;
  await page.setInputFiles('#text-track-file', resolve(srtFile));
  await page.fill('#text-track-language', 'fr');
  await page.fill('#text-track-name', 'Français');
  await page.selectOption('#text-track-kind', 'SUBTITLES');
  await page.locator('#text-track-submit').click();
  const row = page.locator('#text-track-list li[data-testid=text-track][data-language=fr]');
  const listed = await until('the fr row in the text track list', STEP_TIMEOUT, async () => (await row.count()) === 1
    && row.evaluate((li) => [...li.children].map((c) => c.textContent.trim()).filter(Boolean).join(' · ')));
  if (!listed) fail(`no li[data-testid=text-track][data-language=fr] after adding the file: ${await page.locator('#text-tracks').textContent()}`);
  log(`text track row: ${listed}`);
  if (!(await row.locator('[data-testid=delete-text-track]').count())) fail('the fr row has no delete button');
  const option = await until('the subtitle menu to list the new track', STEP_TIMEOUT, () => page.evaluate(() => {
    const select = document.querySelector('#subtitle-select');
    if (select.hidden || document.querySelector('#subtitle-field').hidden) return null;
    const options = [...select.options].map((o) => ({ value: o.value, label: o.textContent }));
    const fr = options.find((o) => /fran[cç]ais|\(fr\)/i.test(o.label));
    return fr && options[0]?.value === '-1' ? { fr, options } : null;
  }));
  if (!option) fail(`the subtitle menu did not list the new track: ${JSON.stringify(await playerState(page))}`);
  if (audioRenditions === masters) fail('the player did not load the master playlist again after the track was added');
  log(`subtitle menu: ${option.options.map((o) => o.label).join(' | ')}`);
  // The reloaded source keeps the viewer's audio language.
  const kept = await until('French audio after the reload', 10_000, () =>
    page.evaluate((v) => document.querySelector('#audio-select').value === v, french.value));
  if (!kept) fail(`the audio menu lost the French choice after the reload: ${JSON.stringify(await playerState(page))}`);

  log(`show "${option.fr.label}"`);
  await page.selectOption('#subtitle-select', option.fr.value);
  const showing = await until('a text track showing', STEP_TIMEOUT, () => page.evaluate(() =>
    Array.from(document.querySelector('#player').textTracks).find((t) => t.mode === 'showing' && /^fr/i.test(t.language || t.label))
      && document.querySelector('#subtitle-select').value));
  if (!showing) fail(`no French text track in mode 'showing' on the video: ${JSON.stringify(await playerState(page))}`);
  if (showing !== option.fr.value) fail(`the subtitle menu shows ${showing}, not ${option.fr.value}`);
  // Paused inside the cue (1 s to 4 s): the cue is loaded and active.
  await page.evaluate(() => {
    const v = document.querySelector('#player');
    v.pause();
    v.currentTime = 2;
  });
  const cue = await until(`the cue "${CUE_TEXT}"`, STEP_TIMEOUT, () => page.evaluate((text) => {
    const track = Array.from(document.querySelector('#player').textTracks).find((t) => t.mode === 'showing');
    const has = (list) => Array.from(list || []).find((c) => c.text.includes(text));
    const active = has(track?.activeCues);
    return has(track?.cues) && active ? { text: active.text, start: active.startTime, end: active.endTime } : null;
  }, CUE_TEXT));
  if (!cue) fail(`the cue "${CUE_TEXT}" did not become active at 2 s: ${JSON.stringify(await playerState(page))}`);
  if (Math.abs(cue.start - 1) > 0.5) fail(`the cue starts at ${cue.start} s, not 1 s`);
  log(`cue "${cue.text}" active (${cue.start.toFixed(2)} s – ${cue.end.toFixed(2)} s)`);
  await page.locator('#player-panel').scrollIntoViewIfNeeded();
  await shot(page, 'subtitles.png');

  // --- the encrypted video ------------------------------------------------------------
  const locked = await card(page, encryptedId);
  if (!(await badgeShown(locked.locator('[data-testid=encrypted-badge]')))) fail(`the card of the encrypted video ${encryptedId} shows no encrypted badge`);
  log(`play the encrypted ${encryptedId}`);
  await locked.locator('[data-testid=play]').click();
  const badge = await until('the player’s encrypted badge', STEP_TIMEOUT, () => badgeShown(page.locator('#encrypted-badge')));
  if (!badge) fail('the player shows no #encrypted-badge for the encrypted video');
  const title = await page.locator('#player-subtitle').textContent();
  if (!title.includes(encryptedId)) fail(`the player shows "${title}", not the encrypted video ${encryptedId}`);
  const decrypted = await until('the encrypted video to play', STEP_TIMEOUT, () => page.evaluate(() => {
    const v = document.querySelector('#player');
    return !v.error && v.currentTime > 0.5 && v.currentTime;
  }));
  if (!decrypted) fail(`the encrypted video did not pass 0.5 s within ${STEP_TIMEOUT / 1000} s: ${JSON.stringify(await playerState(page))}`);
  const keys = [...keyPaths].filter((k) => requests.includes(k));
  if (!keys.length) fail(`the encrypted video played but hls.js fetched no AES-128 key (playlists name ${JSON.stringify([...keyPaths])})`);
  log(`encrypted video playing at ${decrypted.toFixed(2)} s (keys fetched: ${keys.join(', ')})`);
  const tracks = await page.evaluate(() => ({
    audio: !document.querySelector('#audio-field').hidden,
    subtitles: !document.querySelector('#subtitle-field').hidden,
    rows: document.querySelectorAll('#text-track-list li').length,
  }));
  if (tracks.audio || tracks.subtitles || tracks.rows) fail(`the first video’s tracks stayed on the encrypted one: ${JSON.stringify(tracks)}`);
  await page.locator('#player-panel').scrollIntoViewIfNeeded();
  await shot(page, 'tracks.png');

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
  console.log(`PASS: audio languages, an added subtitle and an encrypted video in ${elapsed()}`);
} catch (err) {
  code = 1;
  console.error(`FAIL: ${err instanceof Failure ? err.message : err.stack || err}`);
} finally {
  await browser?.close().catch(() => {});
  clearTimeout(guard);
}
process.exit(code);
