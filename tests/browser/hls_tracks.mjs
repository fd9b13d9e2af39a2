#!/usr/bin/env node
// Plays a master playlist with alternate audio renditions and a WebVTT subtitles group in
// headless Chromium (Debian's, through playwright-core) with hls.js, switches the audio
// language while playing, then shows the subtitles and checks a cue is on screen when due:
//
//   node tests/browser/hls_tracks.mjs <page-url> <play-url> <hls.min.js> <audio-lang> <subtitle-lang> <cue-text> <cue-start>
//
// <page-url> is any page of the server (so requests are same-origin), <audio-lang> the
// LANGUAGE of the audio rendition to switch to (e.g. fre), <subtitle-lang> that of the
// subtitles rendition to show (e.g. fr), <cue-text> some text of one of its cues and
// <cue-start> that cue's start in seconds on the video's timeline. Exits 0 when
//   - hls.js found at least two audio tracks and a subtitle track in <subtitle-lang>,
//   - after switching to <audio-lang> while playing, hls.js reported the switch, loaded an
//     audio fragment of that rendition, and the video played on by at least a second,
//   - with the subtitle track showing, at <cue-start> + 0.2 s the track's active cues hold
//     one with <cue-text> that starts within 0.5 s of <cue-start> (so the X-TIMESTAMP-MAP
//     put it on the video's timeline),
// with no fatal hls.js error, media error or page error; otherwise prints the reason and
// what it saw, and exits 1.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT_MS = 60000;
const [pageUrl, playUrl, hlsPath, audioLang, subtitleLang, cueText, cueStartArg] = process.argv.slice(2);
if (!pageUrl || !playUrl || !hlsPath || !audioLang || !subtitleLang || !cueText || !cueStartArg) {
  console.error(
    'usage: node tests/browser/hls_tracks.mjs <page-url> <play-url> <hls.min.js> <audio-lang> <subtitle-lang> <cue-text> <cue-start>',
  );
  process.exit(2);
}
const cueStart = Number(cueStartArg);
if (!Number.isFinite(cueStart) || cueStart < 0) {
  console.error(`usage: <cue-start> must be a number of seconds, not ${cueStartArg}`);
  process.exit(2);
}
for (const file of [CHROMIUM, hlsPath]) {
  if (!existsSync(file)) {
    console.error(`FAIL: ${file} does not exist`);
    process.exit(1);
  }
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--autoplay-policy=no-user-gesture-required', '--no-sandbox'],
});
const pageErrors = [];
// A last resort: the page's own deadlines should fire first and say where it stuck.
const watchdog = setTimeout(() => {
  console.error(`FAIL: no result after ${TIMEOUT_MS / 1000} s`);
  process.exit(1);
}, TIMEOUT_MS + 10000);
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(pageUrl);
  await page.setContent('<video id="v" muted playsinline width="640"></video>');
  await page.addScriptTag({ path: hlsPath });
  const result = await page.evaluate(
    async ({ playUrl, audioLang, subtitleLang, cueText, cueStart, timeoutMs }) => {
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      const deadline = Date.now() + timeoutMs;
      const video = document.getElementById('v');
      const hls = new Hls({ autoStartLoad: true });
      const errors = [];
      const warnings = [];
      const events = [];
      const audioFrags = [];
      const log = (e) => events.length < 200 && events.push(`${video.currentTime.toFixed(2)}s ${e}`);
      hls.on(Hls.Events.ERROR, (_, d) => {
        const what = `${d.type}: ${d.details}${d.error ? ` (${d.error.message})` : ''}`;
        (d.fatal ? errors : warnings).push(what);
      });
      hls.on(Hls.Events.AUDIO_TRACK_SWITCHED, (_, d) => log(`audio track switched to ${d.id} (${d.lang})`));
      hls.on(Hls.Events.SUBTITLE_TRACK_SWITCH, (_, d) => log(`subtitle track switched to ${d.id}`));
      hls.on(Hls.Events.FRAG_LOADED, (_, d) => {
        if (d.frag.type === 'audio') audioFrags.push({ level: d.frag.level, sn: d.frag.sn, start: d.frag.start });
      });
      hls.on(Hls.Events.SUBTITLE_FRAG_PROCESSED, (_, d) =>
        log(`subtitle fragment ${d.frag.sn} of track ${d.frag.level} processed: ${d.success ? 'ok' : d.error}`),
      );
      const describe = () => ({
        audioTracks: hls.audioTracks.map((t) => ({ id: t.id, lang: t.lang, name: t.name, group: t.groupId, default: t.default })),
        subtitleTracks: hls.subtitleTracks.map((t) => ({ id: t.id, lang: t.lang, name: t.name, group: t.groupId })),
        textTracks: Array.from(video.textTracks, (t) => ({ kind: t.kind, label: t.label, language: t.language, mode: t.mode })),
        audioTrack: hls.audioTrack,
        subtitleTrack: hls.subtitleTrack,
        currentTime: video.currentTime,
        paused: video.paused,
        buffered: Array.from({ length: video.buffered.length }, (_, i) => [video.buffered.start(i), video.buffered.end(i)]),
        audioFragsLoaded: audioFrags.reduce((n, f) => ({ ...n, [`track ${f.level}`]: (n[`track ${f.level}`] || 0) + 1 }), {}),
        events,
        warnings: warnings.slice(-10),
      });
      const fail = (reason) => ({ error: reason, diag: describe() });
      const broken = () => {
        if (errors.length) return `fatal hls.js error: ${errors.join('; ')}`;
        if (video.error) return `media error: ${video.error.code} ${video.error.message}`;
        return null;
      };
      // Waits until check() is truthy; returns an error message otherwise.
      const until = async (check, what, ms = 20000) => {
        const end = Math.min(Date.now() + ms, deadline);
        for (;;) {
          const bad = broken();
          if (bad) return `${what}: ${bad}`;
          if (check()) return null;
          if (Date.now() > end) return `${what}: timed out at ${video.currentTime.toFixed(2)} s`;
          await sleep(100);
        }
      };

      // 1. The manifest and its tracks.
      let parsed = false;
      let audioUpdated = false;
      let subtitlesUpdated = false;
      hls.on(Hls.Events.MANIFEST_PARSED, () => (parsed = true));
      hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, () => (audioUpdated = true));
      hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, () => (subtitlesUpdated = true));
      hls.loadSource(playUrl);
      hls.attachMedia(video);
      let bad = await until(() => parsed && audioUpdated && subtitlesUpdated, 'waiting for the manifest and its tracks');
      if (bad) return fail(bad);
      if (hls.audioTracks.length < 2) return fail(`only ${hls.audioTracks.length} audio track(s)`);
      const audioIndex = hls.audioTracks.findIndex((t) => t.lang === audioLang);
      if (audioIndex < 0) return fail(`no audio track in ${audioLang}`);
      const subtitleIndex = hls.subtitleTracks.findIndex((t) => t.lang === subtitleLang);
      if (subtitleIndex < 0) return fail(`no subtitle track in ${subtitleLang}`);
      if (hls.audioTrack === audioIndex) return fail(`the ${audioLang} audio track is already selected: nothing to switch`);

      // 2. Switch the audio while playing.
      await video.play();
      bad = await until(() => video.currentTime > 0.3, 'starting to play');
      if (bad) return fail(bad);
      const audioId = hls.audioTracks[audioIndex].id;
      let switched = false;
      hls.on(Hls.Events.AUDIO_TRACK_SWITCHED, (_, d) => d.id === audioId && (switched = true));
      const fragsBefore = audioFrags.length;
      const switchedAt = video.currentTime;
      log(`switching audio to track ${audioIndex} (id ${audioId}, ${audioLang})`);
      hls.audioTrack = audioIndex;
      bad = await until(
        () =>
          switched &&
          audioFrags.slice(fragsBefore).some((f) => f.level === audioId) &&
          video.currentTime >= switchedAt + 1,
        `switching audio to ${audioLang}`,
      );
      if (bad) {
        return fail(
          `${bad} (switched: ${switched}, ${audioLang} fragments loaded: ${
            audioFrags.slice(fragsBefore).filter((f) => f.level === audioId).length
          }, played ${(video.currentTime - switchedAt).toFixed(2)} s since)`,
        );
      }
      if (hls.audioTrack !== audioIndex) return fail(`hls.audioTrack is ${hls.audioTrack}, not ${audioIndex}`);
      const playedAfterSwitch = video.currentTime - switchedAt;

      // 3. Show the subtitles and look at the cue when due.
      hls.subtitleTrack = subtitleIndex;
      hls.subtitleDisplay = true;
      const subtitle = hls.subtitleTracks[subtitleIndex];
      let textTrack = null;
      bad = await until(() => {
        const tracks = Array.from(video.textTracks).filter((t) => t.kind === 'subtitles' || t.kind === 'captions');
        textTrack =
          tracks.find((t) => t.language === subtitleLang && t.label === subtitle.name) ||
          tracks.find((t) => t.language === subtitleLang) ||
          null;
        return textTrack;
      }, `waiting for a ${subtitleLang} TextTrack`);
      if (bad) return fail(bad);
      if (textTrack.mode !== 'showing') {
        log(`TextTrack mode was ${textTrack.mode}: setting it to showing`);
        textTrack.mode = 'showing';
      }
      video.pause();
      const target = cueStart + 0.2;
      const seeked = new Promise((r) => video.addEventListener('seeked', r, { once: true }));
      log(`seeking to ${target} s`);
      video.currentTime = target;
      bad = await until(() => Math.abs(video.currentTime - target) < 0.05, `seeking to ${target} s`);
      if (bad) return fail(bad);
      await Promise.race([seeked, sleep(10000)]);
      const cueList = (list) =>
        Array.from(list || [], (c) => ({ start: c.startTime, end: c.endTime, text: c.text }));
      let shown = null;
      bad = await until(() => {
        shown = Array.from(textTrack.activeCues || []).find((c) => c.text.includes(cueText)) || null;
        return shown && textTrack.mode === 'showing';
      }, `waiting for "${cueText}" to be showing at ${target} s`);
      if (bad) {
        return fail(
          `${bad} (mode ${textTrack.mode}; active cues ${JSON.stringify(cueList(textTrack.activeCues))}; all cues ${JSON.stringify(
            cueList(textTrack.cues),
          )})`,
        );
      }
      if (Math.abs(shown.startTime - cueStart) > 0.5) {
        return fail(
          `"${cueText}" starts at ${shown.startTime.toFixed(3)} s, not near ${cueStart} s (all cues ${JSON.stringify(
            cueList(textTrack.cues),
          )})`,
        );
      }
      bad = broken();
      if (bad) return fail(bad);
      return {
        audioTracks: hls.audioTracks.map((t) => t.lang),
        subtitleTracks: hls.subtitleTracks.map((t) => t.lang),
        audioFrags: audioFrags.slice(fragsBefore).filter((f) => f.level === audioId).length,
        playedAfterSwitch,
        cue: { start: shown.startTime, end: shown.endTime, text: shown.text },
        time: video.currentTime,
      };
    },
    { playUrl, audioLang, subtitleLang, cueText, cueStart, timeoutMs: TIMEOUT_MS - 5000 },
  );
  if (result.error) {
    const err = new Error(result.error);
    err.diag = result.diag;
    throw err;
  }
  if (pageErrors.length) throw new Error(`the page threw: ${pageErrors.join('; ')}`);
  console.log(
    `audio tracks ${JSON.stringify(result.audioTracks)}, subtitle tracks ${JSON.stringify(result.subtitleTracks)}; ` +
      `${result.audioFrags} ${audioLang} audio fragment(s) loaded, played ${result.playedAfterSwitch.toFixed(2)} s after the switch; ` +
      `cue ${result.cue.start.toFixed(3)}-${result.cue.end.toFixed(3)} s ${JSON.stringify(result.cue.text)} active at ${result.time.toFixed(2)} s`,
  );
  console.log(`OK: switched audio to ${audioLang} and showed "${cueText}"`);
} catch (e) {
  console.error(`FAIL: ${e.message}`);
  for (const [key, value] of Object.entries(e.diag || {})) console.error(`  ${key}: ${JSON.stringify(value)}`);
  if (e.diag && pageErrors.length) console.error(`  page errors: ${JSON.stringify(pageErrors)}`);
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
  await browser.close();
}
