// Load driver of bench/load/run: SUBSCRIBERS live GraphQL subscribers and one tus upload
// per file of MANIFEST, all at once, spread over the API nodes; then waits until every
// video is PLAYABLE, verifies md5s (GraphQL `hash` and the stored bytes) and playlists,
// checks what every subscriber saw, and prints a Markdown report (results as JSON to OUT).
//
// Environment (set by bench/load/run):
//   API_URLS      comma-separated base URLs of the API nodes
//   REEL_TOKEN    bearer token of the app (createToken)
//   MANIFEST      JSON [{path, md5, size}] of the files to upload
//   SUBSCRIBERS   number of graphql-ws clients (each: videoEvents + videoStatus of 2U/S videos)
//   UPLOAD_SECS   pace: each upload spreads its chunks over ~UPLOAD_SECS (×0.5–1.5); 0 = full speed
//   CHUNK_MIB     tus chunk size (PATCH body)
//   DEADLINE_SECS how long to wait for every video to become PLAYABLE after the uploads
//   DATA_DIR      the servers' data dir (fs storage under DATA_DIR/storage), to md5 the stored source
//   LOAD_T0       epoch ms the run started (time origin of the report)
//   EVENTS_LOG    JSONL of notable client events (retries, reconnects, restarts)
//   FAULTS_LOG    JSONL of faults injected by run (read at the end)
//   OUT           results JSON
import fs from 'node:fs';
import crypto from 'node:crypto';
import * as tus from 'tus-js-client';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const env = process.env;
const NODES = env.API_URLS.split(',');
const TOKEN = env.REEL_TOKEN;
const AUTH = `Bearer ${TOKEN}`;
const manifest = JSON.parse(fs.readFileSync(env.MANIFEST, 'utf8'));
const UPLOADS = manifest.length;
const SUBS = Number(env.SUBSCRIBERS ?? 100);
const UPLOAD_SECS = Number(env.UPLOAD_SECS ?? 0);
const CHUNK = Math.round(Number(env.CHUNK_MIB ?? 1) * 1048576);
const DEADLINE_SECS = Number(env.DEADLINE_SECS ?? 900);
const T0 = Number(env.LOAD_T0 ?? Date.now());
const WATCHERS_PER_VIDEO = SUBS >= 2 ? 2 : SUBS;
const RETRY_DELAYS = [0, 1000, 2000, 4000, 8000, 15000, 30000, 30000, 30000, 30000];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const secs = (ms) => (ms - T0) / 1000;
const logStream = fs.createWriteStream(env.EVENTS_LOG ?? '/dev/null', { flags: 'a' });
function note(kind, fields = {}) {
  logStream.write(`${JSON.stringify({ t: Date.now(), kind, ...fields })}\n`);
}
const wsUrl = (base) => `${base.replace(/^http/, 'ws')}/graphql/ws`;

// ---------- GraphQL over HTTP, retried across nodes (nodes and Postgres may be down) ----------
const counters = { gqlRetries: 0, rateLimited: 0 };
async function gql(query, variables = {}, { node = 0, tries = 60 } = {}) {
  let lastErr;
  for (let attempt = 0; attempt < tries; attempt++) {
    const base = NODES[(node + attempt) % NODES.length];
    try {
      const res = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: AUTH },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(20000),
      });
      const body = await res.json().catch(() => null);
      const codes = (body?.errors ?? []).map((e) => e.extensions?.code);
      const limited = res.status === 429 || codes.includes('RATE_LIMITED');
      const transient = limited || res.status >= 500 || !body || codes.some((c) => c === 'UNAVAILABLE' || c === 'INTERNAL');
      if (!transient) return body;
      if (limited) {
        // The app's rate limit: wait as told.
        counters.rateLimited++;
        await sleep(1000 * Number(res.headers.get('retry-after') ?? 1));
      }
      lastErr = new Error(`HTTP ${res.status} ${JSON.stringify(body?.errors ?? '').slice(0, 200)}`);
    } catch (e) {
      lastErr = e;
    }
    counters.gqlRetries++;
    note('gql_retry', { node: base, error: String(lastErr?.message ?? lastErr).slice(0, 200) });
    await sleep(Math.min(250 * 2 ** attempt, 3000));
  }
  throw lastErr;
}

// Every video of the app (id, status), paged.
async function allVideos() {
  const out = [];
  let after = null;
  for (;;) {
    const body = await gql(
      'query($after: String) { videos(first: 100, after: $after) { edges { node { id status passthrough } } pageInfo { hasNextPage endCursor } } }',
      { after },
    );
    const conn = body.data.videos;
    for (const e of conn.edges) out.push(e.node);
    if (!conn.pageInfo.hasNextPage) return out;
    after = conn.pageInfo.endCursor;
  }
}

// ---------- subscribers ----------
const EVENT_FIELDS = 'videoId status progress error deleted at';
const deliveryLatencies = []; // ms from the event's `at` to its arrival, PLAYABLE events only
const firstPlayableSeen = new Map(); // vid -> epoch ms of the first PLAYABLE event any subscriber got

class Subscriber {
  constructor(k) {
    this.k = k;
    this.home = k % NODES.length;
    this.attempts = 0;
    this.connects = 0;
    this.reconnects = 0;
    this.live = new Map(); // videoEvents: vid -> Set of statuses seen
    this.watched = new Map(); // videoStatus: vid -> Set of statuses seen
    this.resynced = new Set(); // vids found PLAYABLE by the query after a reconnect
    this.events = 0;
    this.ready = new Promise((r) => (this.onReady = r));
    this.client = createClient({
      url: () => wsUrl(NODES[(this.home + this.attempts++) % NODES.length]), // each retry tries the next node
      webSocketImpl: WebSocket,
      connectionParams: { Authorization: AUTH },
      lazy: false,
      keepAlive: 10_000,
      retryAttempts: Infinity,
      shouldRetry: () => true,
      retryWait: async (n) => sleep(Math.min(300 * 2 ** n, 5000) * (0.75 + Math.random() / 2)),
      onNonLazyError: () => {},
      on: {
        connected: () => {
          this.connects++;
          if (this.connects > 1) {
            this.reconnects++;
            note('sub_reconnect', { sub: this.k });
            // Events may have been missed while offline: ask for the current states.
            setTimeout(() => this.resync(), 500);
          }
          this.onReady();
        },
        closed: (e) => {
          if (!this.stopping) note('sub_closed', { sub: this.k, code: e?.code, reason: String(e?.reason ?? '').slice(0, 100) });
        },
      },
    });
    this.client.subscribe(
      { query: `subscription { videoEvents { ${EVENT_FIELDS} } }` },
      this.sink(this.live, 'videoEvents'),
    );
  }

  sink(map, what) {
    return {
      next: ({ data, errors }) => {
        if (errors?.length) note('sub_error', { sub: this.k, what, errors: JSON.stringify(errors).slice(0, 300) });
        const ev = data?.videoEvents ?? data?.videoStatus;
        if (!ev) return;
        this.events++;
        const now = Date.now();
        if (!map.has(ev.videoId)) map.set(ev.videoId, new Set());
        const seen = map.get(ev.videoId);
        if (ev.status === 'PLAYABLE' && !seen.has('PLAYABLE')) {
          if (what === 'videoEvents') deliveryLatencies.push(now - Date.parse(ev.at));
          if (!firstPlayableSeen.has(ev.videoId)) firstPlayableSeen.set(ev.videoId, now);
        }
        seen.add(ev.status);
      },
      error: (err) => note('sub_error', { sub: this.k, what, error: String(err?.message ?? JSON.stringify(err)).slice(0, 300) }),
      complete: () => {},
    };
  }

  watch(vid) {
    if (this.watched.has(vid)) return;
    this.watched.set(vid, new Set());
    this.client.subscribe(
      { query: `subscription($id: ID!) { videoStatus(id: $id) { ${EVENT_FIELDS} } }`, variables: { id: vid } },
      this.sink(this.watched, 'videoStatus'),
    );
  }

  async resync() {
    try {
      for (const v of await allVideos()) if (v.status === 'PLAYABLE') this.resynced.add(v.id);
    } catch (e) {
      note('resync_failed', { sub: this.k, error: String(e?.message ?? e).slice(0, 200) });
    }
  }

  async stop() {
    this.stopping = true;
    await this.client.dispose();
  }
}

// ---------- uploads ----------
const vidOfUpload = new Map(); // every vid seen for an upload (a lost session gives a new one)
function watchers(i) {
  const out = [];
  for (let w = 0; w < WATCHERS_PER_VIDEO; w++) out.push(subscribers[(i + w * Math.floor(SUBS / WATCHERS_PER_VIDEO)) % SUBS]);
  return out;
}

async function resolveVid(rec, url) {
  const id = url.split('/').pop();
  try {
    const body = await gql('query($id: ID!) { upload(id: $id) { videoId } }', { id }, { node: rec.i });
    const vid = body.data?.upload?.videoId;
    if (!vid) return;
    if (!rec.vids.includes(vid)) rec.vids.push(vid);
    for (const s of watchers(rec.i)) s.watch(vid);
  } catch (e) {
    note('resolve_failed', { upload: rec.i, error: String(e?.message ?? e).slice(0, 200) });
  }
}

// One file: a tus upload, retried by tus-js-client (retryDelays; it also starts over with a
// new upload when a resume's HEAD answers 404). A PATCH answered 404/410 (the session is gone,
// e.g. Redis lost it) is final for tus-js-client: like an application would, start the file
// again as a new upload, up to 3 times.
function runUpload(i) {
  const m = manifest[i];
  const data = fs.readFileSync(m.path);
  const node = NODES[i % NODES.length];
  const chunks = Math.ceil(data.length / CHUNK);
  const pace = UPLOAD_SECS > 0 ? ((UPLOAD_SECS * 1000) / chunks) * (0.5 + Math.random()) : 0;
  const rec = { i, node, start: Date.now(), end: null, url: null, urls: 0, recreated: 0, vids: [], finalVid: null, retries: 0, statuses: [], error: null };
  return new Promise((resolve) => {
    const attempt = () => {
      const upload = new tus.Upload(data, {
        endpoint: `${node}/files/`,
        chunkSize: CHUNK,
        retryDelays: RETRY_DELAYS,
        headers: { Authorization: AUTH },
        metadata: { filename: `load-${i}.mp4`, filetype: 'video/mp4', passthrough: `load-${i}` },
        onBeforeRequest: async (req) => {
          if (pace && req.getMethod() === 'PATCH') await sleep(pace);
        },
        onUploadUrlAvailable: () => {
          if (upload.url === rec.url) return;
          if (rec.url && !rec.recreating) note('upload_restarted', { upload: i, old: rec.url, new: upload.url });
          rec.recreating = false;
          rec.url = upload.url;
          rec.urls++;
          resolveVid(rec, upload.url);
        },
        onShouldRetry: (err, n) => {
          const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
          // 429: the app's rate limit (tus-js-client gives up on 4xx by default).
          const retry = !(status >= 400 && status < 500) || status === 409 || status === 423 || status === 429;
          rec.retries++;
          rec.statuses.push(status);
          note('upload_retry', { upload: i, status, attempt: n, retry, error: String(err.message).slice(0, 200) });
          return retry;
        },
        onAfterResponse: (_req, res) => {
          const vid = res.getHeader('Reel-Video-Id');
          if (vid) rec.finalVid = vid;
        },
        onSuccess: () => {
          rec.end = Date.now();
          resolve(rec);
        },
        onError: (err) => {
          const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
          if ((status === 404 || status === 410) && rec.recreated < 3) {
            rec.recreated++;
            rec.recreating = true;
            note('upload_recreated', { upload: i, status, old: rec.url });
            attempt();
            return;
          }
          rec.end = Date.now();
          rec.error = String(err.message).slice(0, 300);
          note('upload_failed', { upload: i, error: rec.error });
          resolve(rec);
        },
      });
      upload.start();
    };
    attempt();
  });
}

// ---------- helpers for the report ----------
function pct(values, q) {
  if (!values.length) return null;
  const a = [...values].sort((x, y) => x - y);
  return a[Math.min(a.length - 1, Math.max(0, Math.ceil(q * a.length) - 1))];
}
const f1 = (x) => (x == null ? 'n/a' : x.toFixed(1));
const f2 = (x) => (x == null ? 'n/a' : x.toFixed(2));
function md5File(path) {
  return crypto.createHash('md5').update(fs.readFileSync(path)).digest('hex');
}

// ---------- the run ----------
const subscribers = [];
for (let k = 0; k < SUBS; k++) subscribers.push(new Subscriber(k));
await Promise.race([Promise.all(subscribers.map((s) => s.ready)), sleep(30000)]);
const connected = subscribers.filter((s) => s.connects > 0).length;
console.error(`load: ${connected}/${SUBS} subscribers connected at ${f1(secs(Date.now()))} s; starting ${UPLOADS} uploads`);
await sleep(500); // let the subscribe messages land

const uploadsStart = Date.now();
note('uploads_start');
const progress = setInterval(() => {
  const done = records.filter((r) => r.end).length;
  console.error(`load: t=${f1(secs(Date.now()))} s uploads done ${done}/${UPLOADS}, PLAYABLE seen ${firstPlayableSeen.size}`);
}, 10000);
const records = [];
const uploadsDone = Promise.all(manifest.map((_, i) => runUpload(i).then((r) => (records[i] = r))));
// Placeholder entries so the progress line can count while uploads run.
for (let i = 0; i < UPLOADS; i++) records[i] ??= { end: null };
await uploadsDone;
const uploadsEnd = Date.now();
note('uploads_end');

// Final vid of each upload: the Reel-Video-Id of its last response, else the last one resolved.
for (const r of records) if (!r.error) r.finalVid ??= r.vids.at(-1) ?? null;
const finals = records.filter((r) => !r.error && r.finalVid);

// Wait for PLAYABLE (polling, so this holds even if every event were lost).
const polledPlayable = new Map(); // vid -> epoch ms first seen PLAYABLE by polling
const deadline = Date.now() + DEADLINE_SECS * 1000;
let state = new Map();
for (;;) {
  const pending = finals.filter((r) => state.get(r.finalVid)?.status !== 'PLAYABLE');
  if (!pending.length || Date.now() > deadline) break;
  for (let b = 0; b < pending.length; b += 50) {
    const batch = pending.slice(b, b + 50);
    const q = `{ ${batch.map((r, n) => `v${n}: video(id: "${r.finalVid}") { id status error }`).join(' ')} }`;
    try {
      const body = await gql(q);
      batch.forEach((r, n) => {
        const v = body.data?.[`v${n}`];
        if (!v) return;
        state.set(r.finalVid, v);
        if (v.status === 'PLAYABLE' && !polledPlayable.has(r.finalVid)) polledPlayable.set(r.finalVid, Date.now());
      });
    } catch (e) {
      note('poll_failed', { error: String(e?.message ?? e).slice(0, 200) });
    }
  }
  await sleep(2000);
}
clearInterval(progress);
const allPlayableAt = Date.now();
await sleep(5000); // events still in flight

// ---------- verification ----------
const verify = new Map(); // vid -> {status, hashOk, storedOk, playlistOk, error}
for (let b = 0; b < finals.length; b += 25) {
  const batch = finals.slice(b, b + 25);
  const q = `{ ${batch
    .map((r, n) => `v${n}: video(id: "${r.finalVid}") { id status hash fileSize storageUri error playUrl { url } }`)
    .join(' ')} }`;
  const body = await gql(q).catch(() => null);
  for (const [n, r] of batch.entries()) {
    const v = body?.data?.[`v${n}`];
    const m = manifest[r.i];
    const out = { status: v?.status ?? 'MISSING', error: v?.error ?? null, hashOk: v?.hash === m.md5 && v?.fileSize === m.size };
    const key = v?.storageUri?.replace(/^fs:\/\//, '');
    try {
      out.storedOk = Boolean(key) && md5File(`${env.DATA_DIR}/storage/${key}`) === m.md5;
    } catch {
      out.storedOk = false;
    }
    out.playlistOk = false;
    if (v?.playUrl?.url) {
      try {
        const res = await fetch(v.playUrl.url, { signal: AbortSignal.timeout(10000) });
        out.playlistOk = res.ok && (await res.text()).startsWith('#EXTM3U');
      } catch {
        /* stays false */
      }
    }
    verify.set(r.finalVid, out);
  }
}
const everyVideo = await allVideos().catch(() => []);
const finalVids = new Set(finals.map((r) => r.finalVid));
const orphans = everyVideo.filter((v) => !finalVids.has(v.id));
await Promise.all(subscribers.map((s) => s.stop().catch(() => {})));

// ---------- report ----------
const faults = fs.existsSync(env.FAULTS_LOG ?? '') ? fs.readFileSync(env.FAULTS_LOG, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
const notes = fs.readFileSync(env.EVENTS_LOG, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

const ok = records.filter((r) => !r.error);
const bytes = ok.reduce((s, r) => s + manifest[r.i].size, 0);
const wall = (uploadsEnd - uploadsStart) / 1000;
const uploadTimes = ok.map((r) => (r.end - r.start) / 1000);
const toPlayable = finals
  .map((r) => {
    const at = firstPlayableSeen.get(r.finalVid) ?? polledPlayable.get(r.finalVid);
    return at ? (at - r.end) / 1000 : null;
  })
  .filter((x) => x != null);
const firstStartToAllPlayable = (Math.max(...finals.map((r) => firstPlayableSeen.get(r.finalVid) ?? polledPlayable.get(r.finalVid) ?? 0)) - uploadsStart) / 1000;

let liveMissing = 0, recovered = 0, silent = 0, watchMissing = 0, watchExpected = 0;
const silentBySub = [];
for (const s of subscribers) {
  let subSilent = 0;
  for (const r of finals) {
    if (s.live.get(r.finalVid)?.has('PLAYABLE')) continue;
    liveMissing++;
    if (s.resynced.has(r.finalVid)) recovered++;
    else {
      silent++;
      subSilent++;
    }
  }
  if (subSilent) silentBySub.push(`${s.k}:${subSilent}${s.reconnects ? `(reconnected ${s.reconnects}×)` : ''}`);
}
for (const r of finals)
  for (const s of watchers(r.i)) {
    watchExpected++;
    if (!s.watched.get(r.finalVid)?.has('PLAYABLE')) watchMissing++;
  }
const bad = [...verify.entries()].filter(([, v]) => v.status !== 'PLAYABLE' || !v.hashOk || !v.storedOk || !v.playlistOk);

// Per fault: client-side effects from its time until the next fault (or +120 s).
const kinds = ['upload_retry', 'upload_restarted', 'upload_recreated', 'upload_failed', 'sub_reconnect', 'gql_retry'];
const windows = faults.map((f, n) => ({ ...f, until: Math.min(faults[n + 1]?.t ?? Infinity, f.t + 120000) }));
function countIn(from, until, kind) {
  return notes.filter((e) => e.kind === kind && e.t >= from && e.t < until).length;
}
const lines = [];
const p = (s = '') => lines.push(s);
p(`| measure | value |`);
p(`|---|---:|`);
p(`| uploads completed | ${ok.length} / ${UPLOADS} (${records.filter((r) => r.error).length} failed) |`);
p(`| upload phase (first start → last finish) | ${f1(wall)} s |`);
p(`| throughput | ${f2(ok.length / wall)} uploads/s, ${f1(bytes / wall / 1e6)} MB/s |`);
p(`| upload time p50 / p99 / max | ${f1(pct(uploadTimes, 0.5))} / ${f1(pct(uploadTimes, 0.99))} / ${f1(Math.max(...uploadTimes))} s |`);
p(`| upload finished → PLAYABLE p50 / p99 / max | ${f1(pct(toPlayable, 0.5))} / ${f1(pct(toPlayable, 0.99))} / ${f1(Math.max(...toPlayable))} s |`);
p(`| first upload start → last video PLAYABLE | ${f1(firstStartToAllPlayable)} s |`);
p(`| PLAYABLE event delivery (event \`at\` → subscriber) p50 / p99 | ${f1(pct(deliveryLatencies, 0.5))} / ${f1(pct(deliveryLatencies, 0.99))} ms |`);
p(`| videos PLAYABLE, md5 (\`hash\`) right, stored bytes' md5 right, playlist served | ${[...verify.values()].filter((v) => v.status === 'PLAYABLE').length} / ${[...verify.values()].filter((v) => v.hashOk).length} / ${[...verify.values()].filter((v) => v.storedOk).length} / ${[...verify.values()].filter((v) => v.playlistOk).length} of ${finals.length} |`);
p(`| upload retries (tus-js-client) | ${ok.concat(records.filter((r) => r.error)).reduce((s, r) => s + r.retries, 0)} (statuses: ${summarizeStatuses(records)}) |`);
p(`| uploads started again from byte 0 as a new upload (session lost): by tus-js-client (HEAD 404) / by the driver (PATCH 404) | ${records.reduce((s, r) => s + r.urls - 1 - r.recreated, 0)} / ${records.reduce((s, r) => s + r.recreated, 0)} |`);
p(`| other videos left in the app (abandoned by restarted uploads) | ${orphans.length}${orphans.length ? ` (${summarize(orphans.map((v) => v.status))})` : ''} |`);
p(`| subscribers: connected / reconnects | ${connected} / ${subscribers.reduce((s, x) => s + x.reconnects, 0)} |`);
p(`| videoEvents: PLAYABLE events expected / received live | ${SUBS * finals.length} / ${SUBS * finals.length - liveMissing} |`);
p(`| videoEvents: missed live, found by the re-query after reconnect / missed silently | ${recovered} / ${silent} |`);
p(`| videoStatus (each video watched by ${WATCHERS_PER_VIDEO}): PLAYABLE expected / received | ${watchExpected} / ${watchExpected - watchMissing} |`);
p(`| subscription events received in all | ${subscribers.reduce((s, x) => s + x.events, 0)} |`);
p(`| GraphQL HTTP requests retried by the driver (of which 429) | ${counters.gqlRetries} (${counters.rateLimited}) |`);
if (faults.length) {
  p();
  p('| fault (t s after the uploads start) | upload retries | new upload by tus-js-client | new upload by the driver | uploads failed | subscriber reconnects | GraphQL retries |');
  p('|---|---:|---:|---:|---:|---:|---:|');
  const first = faults[0]?.t ?? Infinity;
  p(`| before the first fault | ${kinds.map((k) => countIn(0, first, k)).join(' | ')} |`);
  for (const w of windows) p(`| ${w.fault} (${f1((w.t - uploadsStart) / 1000)}) ${w.detail ? `— ${w.detail}` : ''} | ${kinds.map((k) => countIn(w.t, w.until, k)).join(' | ')} |`);
  const last = windows.at(-1);
  p(`| later than that | ${kinds.map((k) => countIn(last.until, Infinity, k)).join(' | ')} |`);
}
if (bad.length) {
  p();
  p(`Not verified (${bad.length}): ${bad.slice(0, 20).map(([vid, v]) => `vid ${vid} ${v.status}${v.hashOk ? '' : ' hash≠'}${v.storedOk ? '' : ' stored≠'}${v.playlistOk ? '' : ' no-playlist'}${v.error ? ` (${v.error.slice(0, 80)})` : ''}`).join('; ')}`);
}
if (silentBySub.length) {
  p();
  p(`Subscribers that silently missed PLAYABLE events (subscriber:count): ${silentBySub.slice(0, 30).join(' ')}${silentBySub.length > 30 ? ' …' : ''}`);
}
const failed = records.filter((r) => r.error);
if (failed.length) {
  p();
  p(`Failed uploads: ${failed.slice(0, 10).map((r) => `#${r.i} ${r.error}`).join('; ')}`);
}
console.log(lines.join('\n'));

function summarize(values) {
  const counts = new Map();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].map(([k, n]) => `${n} ${k}`).join(', ');
}
function summarizeStatuses(recs) {
  const all = recs.flatMap((r) => r.statuses ?? []).map((s) => (s === 0 ? 'network' : String(s)));
  return all.length ? summarize(all) : 'none';
}

const result = {
  uploads: UPLOADS, subscribers: SUBS, ok: ok.length, wall, bytes,
  uploadTimes, toPlayable, deliveryLatencies: { p50: pct(deliveryLatencies, 0.5), p99: pct(deliveryLatencies, 0.99) },
  liveMissing, recovered, silent, watchExpected, watchMissing, orphans, faults,
  records: records.map(({ i, node, start, end, urls, recreated, vids, finalVid, retries, statuses, error }) => ({ i, node, start, end, urls, recreated, vids, finalVid, retries, statuses, error })),
  verify: Object.fromEntries(verify), allPlayableAt,
};
if (env.OUT) fs.writeFileSync(env.OUT, JSON.stringify(result, null, 1));
logStream.end();
const lost = failed.length + bad.length + silent + watchMissing + (finals.length < UPLOADS ? UPLOADS - finals.length : 0);
process.exit(lost ? 3 : 0);
