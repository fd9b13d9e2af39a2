#!/usr/bin/env node
// Plays a chunked ladder's rung in headless Chromium (Debian's, through playwright-core)
// with hls.js, across a chunk boundary, then seeks over another and plays on:
//
//   node tests/browser/hls_chunks.mjs <page-url> <play-url> <hls.min.js> <rung> <cut1,cut2,…>
//
// <page-url> is any page of the server (so requests are same-origin), <rung> the
// rendition to hold (e.g. SD: a rung encoded in chunks), cuts the chunk boundaries in
// seconds. Exits 0 when the video played past the first cut, then past the last one after
// a seek over the ones between, with no media or fatal hls.js error; otherwise prints the
// reason and exits 1.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const [pageUrl, playUrl, hlsPath, rung, cutList] = process.argv.slice(2);
if (!pageUrl || !playUrl || !hlsPath || !rung || !cutList) {
  console.error('usage: node tests/browser/hls_chunks.mjs <page-url> <play-url> <hls.min.js> <rung> <cuts>');
  process.exit(2);
}
for (const file of [CHROMIUM, hlsPath]) {
  if (!existsSync(file)) {
    console.error(`FAIL: ${file} does not exist`);
    process.exit(1);
  }
}
const cuts = cutList.split(',').map(Number);

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--autoplay-policy=no-user-gesture-required', '--no-sandbox'],
});
try {
  const page = await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(pageUrl);
  await page.setContent('<video id="v" muted playsinline width="640"></video>');
  await page.addScriptTag({ path: hlsPath });
  const result = await page.evaluate(
    async ({ playUrl, rung, cuts }) => {
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      const video = document.getElementById('v');
      const hls = new Hls({ autoStartLoad: true });
      const errors = [];
      const fragments = [];
      hls.on(Hls.Events.ERROR, (_, d) => d.fatal && errors.push(`${d.type}: ${d.details}`));
      hls.on(Hls.Events.FRAG_CHANGED, (_, d) => fragments.push({ level: d.frag.level, start: d.frag.start }));
      const parsed = new Promise((resolve) => hls.on(Hls.Events.MANIFEST_PARSED, (_, d) => resolve(d)));
      hls.loadSource(playUrl);
      hls.attachMedia(video);
      const manifest = await Promise.race([parsed, sleep(20000).then(() => null)]);
      if (!manifest) return { error: `no manifest: ${errors.join('; ')}` };
      const names = hls.levels.map((l) => l.name || l.url?.[0] || '');
      const level = hls.levels.findIndex((l) => (l.url?.[0] || l.uri || '').includes(`${rung}/`));
      if (level < 0) return { error: `no ${rung} rung in ${JSON.stringify(names)}` };
      hls.currentLevel = level;
      video.playbackRate = 4;
      await video.play();
      const reach = async (t, what) => {
        const deadline = Date.now() + 30000;
        while (video.currentTime < t) {
          if (errors.length || video.error) return `${what}: ${errors.join('; ') || video.error.message}`;
          if (Date.now() > deadline) return `${what}: stuck at ${video.currentTime.toFixed(2)} s`;
          await sleep(100);
        }
        return null;
      };
      const across = await reach(cuts[0] + 1, `playing across ${cuts[0]} s`);
      if (across) return { error: across };
      const last = cuts[cuts.length - 1];
      video.currentTime = last + 0.5;
      const seeked = await reach(last + 2, `playing on after seeking over to ${last + 0.5} s`);
      if (seeked) return { error: seeked };
      const decoded = video.getVideoPlaybackQuality().totalVideoFrames;
      const held = fragments.filter((f) => f.level === level);
      return {
        time: video.currentTime,
        decoded,
        before: held.some((f) => f.start < cuts[0]),
        after: held.some((f) => f.start >= last),
      };
    },
    { playUrl, rung, cuts },
  );
  if (pageErrors.length) throw new Error(`the page threw: ${pageErrors[0]}`);
  if (result.error) throw new Error(result.error);
  if (!result.before || !result.after) {
    throw new Error(`the ${rung} rung did not play on both sides of the cuts: ${JSON.stringify(result)}`);
  }
  if (result.decoded < 30) throw new Error(`only ${result.decoded} frames decoded`);
  console.log(`OK: played ${rung} to ${result.time.toFixed(2)} s across ${cutList}, ${result.decoded} frames`);
} catch (e) {
  console.error(`FAIL: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
