// The player: hls.js with a definition switcher, a CDN choice, a scrubbing preview
// from the sprite sheet and its WebVTT track, and the snapshot gallery.
import Hls from 'hls.js';
import { PLAYER_VIDEO, request } from './api.js';
import { resetDerived, showDerived } from './derived.js';
import { $, h, setChildren } from './dom.js';
import { formatBitrate, formatClock } from './format.js';
import { attachTracks, initTracks, resetTracks, showTracks } from './tracks.js';
import { toast, toastError } from './ui.js';
import { cueAt, parseThumbnailTrack } from './vtt.js';

const video = () => $('#player');

let state = null; // { id, data, cdns: [{cdn,url}], cdnIndex, tried:Set, expiresAt, cues, mediaErrors }
let hls = null;
let dragging = false;
let loadToken = 0;

export function initPlayer() {
  const el = video();
  $('#player-close').addEventListener('click', () => closePlayer());
  $('#quality-select').addEventListener('change', (e) => setQuality(Number(e.target.value)));
  $('#cdn-select').addEventListener('change', (e) => switchCdn(Number(e.target.value), 'chosen'));
  $('#copy-url').addEventListener('click', copyUrl);
  // After a text track changed: the video's data and master playlist again, where playback was.
  initTracks({ reload: async () => state && (await refreshPlayUrl()) && switchCdn(0, 'chosen') });

  el.addEventListener('timeupdate', syncSeek);
  el.addEventListener('durationchange', syncSeek);
  el.addEventListener('loadedmetadata', syncSeek);
  el.addEventListener('playing', () => setMessage(null));
  el.addEventListener('waiting', () => updateStats());
  el.addEventListener('error', () => {
    if (hls || !state) return; // hls.js reports its own errors
    const err = el.error;
    setMessage(`The browser could not play this video${err?.message ? `: ${err.message}` : ''}.`, 'error');
  });

  const seek = $('#seek');
  seek.addEventListener('input', () => {
    dragging = true;
    showPreview(Number(seek.value));
    paintSeek();
  });
  seek.addEventListener('change', () => {
    dragging = false;
    el.currentTime = Number(seek.value);
    hidePreview();
  });
  seek.addEventListener('pointermove', (e) => {
    const rect = seek.getBoundingClientRect();
    const max = Number(seek.max) || 0;
    if (!max || !rect.width) return;
    const ratio = Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width));
    showPreview(ratio * max, e.clientX - rect.left);
  });
  seek.addEventListener('pointerleave', () => {
    if (!dragging) hidePreview();
  });
  seek.addEventListener('blur', hidePreview);
}

export const currentVideoId = () => state?.id || null;

/** Loads a video's play URL and starts playing it. */
export async function openPlayer(id) {
  const token = ++loadToken;
  const panel = $('#player-panel');
  panel.hidden = false;
  destroyHls();
  const el = video();
  el.removeAttribute('src');
  el.load();
  state = { id, data: null, cdns: [], cdnIndex: 0, tried: new Set(), cues: [], mediaErrors: 0 };
  $('#player-title').textContent = 'Player';
  $('#player-subtitle').textContent = '';
  setChildren($('#quality-select'));
  setChildren($('#cdn-select'));
  setChildren($('#snapshots'));
  resetTracks();
  resetDerived();
  $('#player-stats').textContent = '';
  setMessage('Loading…');
  panel.scrollIntoView({ behavior: 'smooth', block: 'start' });

  let result;
  try {
    result = await request(PLAYER_VIDEO, { id });
  } catch (err) {
    if (token === loadToken) setMessage(`Could not load the video: ${err.message}`, 'error');
    return;
  }
  if (token !== loadToken) return;
  const v = result.data?.video;
  if (!v) {
    setMessage('This video no longer exists.', 'error');
    return;
  }
  state.data = v;
  $('#player-title').textContent = v.sourceName;
  $('#player-subtitle').textContent = `id ${v.id}`;
  showTracks(v);
  const playUrl = v.playUrl;
  if (!playUrl) {
    const err = result.errors.find((e) => e.path?.includes('playUrl')) || result.errors[0];
    const reason = err?.extensions?.code === 'NOT_PLAYABLE'
      ? `This video is not playable yet (${v.status}).`
      : `No play URL: ${err?.message || 'unknown reason'}.`;
    setMessage(reason, 'error');
    return;
  }
  setPlayUrl(playUrl);
  renderSnapshots(v);
  showDerived(v);
  loadThumbnails(v, token);
  loadSource(state.cdns[0].url, { play: true });
}

function setPlayUrl(playUrl) {
  state.playUrl = playUrl;
  state.expiresAt = Date.parse(playUrl.expiresAt);
  state.cdns = [{ cdn: playUrl.cdn, url: playUrl.url }, ...playUrl.fallbacks.map((f) => ({ cdn: f.cdn, url: f.url }))];
  state.cdnIndex = 0;
  state.tried = new Set([0]);
  const select = $('#cdn-select');
  setChildren(select, state.cdns.map((c, i) => h('option', { value: i, text: i === 0 ? `${c.cdn} (chosen by the server)` : c.cdn })));
  select.value = '0';
  select.disabled = state.cdns.length < 2;
}

export function closePlayer(message) {
  loadToken += 1;
  destroyHls();
  const el = video();
  el.pause();
  el.removeAttribute('src');
  el.load();
  state = null;
  resetDerived();
  hidePreview();
  $('#player-panel').hidden = true;
  if (message) toast(message);
}

function destroyHls() {
  if (hls) {
    hls.destroy();
    hls = null;
    attachTracks(null);
  }
}

function loadSource(url, { startAt = 0, play = true } = {}) {
  const el = video();
  destroyHls();
  state.mediaErrors = 0;
  setMessage('Loading…');
  if (Hls.isSupported()) {
    hls = new Hls({ startPosition: startAt || -1, capLevelToPlayerSize: false });
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      renderQualities();
      if (play) playSafe();
      else setMessage(null);
    });
    hls.on(Hls.Events.LEVEL_SWITCHED, updateStats);
    hls.on(Hls.Events.ERROR, onHlsError);
    attachTracks(hls);
    hls.loadSource(url);
    hls.attachMedia(el);
  } else if (el.canPlayType('application/vnd.apple.mpegurl')) {
    // Safari plays HLS itself; the definition list switches media playlists.
    el.src = url;
    el.addEventListener('loadedmetadata', () => {
      if (startAt) el.currentTime = startAt;
      if (play) playSafe();
    }, { once: true });
    renderQualities();
  } else {
    setMessage('This browser cannot play HLS (no Media Source Extensions).', 'error');
  }
  updateStats();
}

function playSafe() {
  const el = video();
  el.play().then(() => setMessage(null)).catch((err) => {
    if (err?.name === 'NotAllowedError') {
      // Autoplay with sound is blocked: start muted, say so.
      el.muted = true;
      el.play()
        .then(() => setMessage('Started muted because the browser blocks sound without a click. Unmute in the controls.', 'info', 6000))
        .catch(() => setMessage('Press play to start.', 'info'));
    } else if (err?.name !== 'AbortError') {
      setMessage(`Could not start playback: ${err?.message || err}`, 'error');
    }
  });
}

function levelLabel(level) {
  const r = (state?.data?.renditions || []).find((x) => x.videoHeight === level.height && x.videoWidth === level.width)
    || (state?.data?.renditions || []).find((x) => x.videoHeight === level.height);
  const name = r?.definition ? `${r.definition} ` : '';
  const size = level.height ? `${Math.min(level.width || level.height, level.height)}p` : '';
  const rate = formatBitrate(level.bitrate);
  return [`${name}${size}`.trim(), rate].filter(Boolean).join(' · ') || `Level ${level.index + 1}`; // audio only: no size
}

function renderQualities() {
  const select = $('#quality-select');
  const options = [h('option', { value: -1, text: 'Auto' })];
  if (hls) {
    hls.levels
      .map((level, index) => ({ ...level, width: level.width, height: level.height, bitrate: level.bitrate, index }))
      .sort((a, b) => b.height - a.height || b.bitrate - a.bitrate)
      .forEach((level) => options.push(h('option', { value: level.index, text: levelLabel(level) })));
  } else {
    (state.playUrl?.definitions || []).forEach((d, i) => options.push(h('option', { value: i, text: d.definition })));
  }
  setChildren(select, options);
  select.value = '-1';
  select.disabled = options.length < 2;
  updateStats();
}

function setQuality(index) {
  if (!state) return;
  if (hls) {
    hls.currentLevel = index; // -1: automatic
  } else {
    const el = video();
    const t = el.currentTime;
    const paused = el.paused;
    const url = index < 0 ? state.cdns[state.cdnIndex].url : state.playUrl.definitions[index]?.url;
    if (!url) return;
    el.src = url;
    el.addEventListener('loadedmetadata', () => {
      el.currentTime = t;
      if (!paused) playSafe();
    }, { once: true });
  }
  updateStats();
}

function switchCdn(index, why) {
  if (!state || !state.cdns[index]) return;
  const el = video();
  const t = el.currentTime;
  const play = !el.paused || why !== 'chosen';
  state.cdnIndex = index;
  state.tried.add(index);
  $('#cdn-select').value = String(index);
  // Keep a definition the viewer chose (hls.js level indexes are the same on every CDN).
  const chosen = $('#quality-select').value;
  const quality = chosen === '' ? -1 : Number(chosen);
  loadSource(state.cdns[index].url, { startAt: t, play });
  if (hls && quality >= 0) {
    hls.once(Hls.Events.MANIFEST_PARSED, () => {
      $('#quality-select').value = String(quality);
      setQuality(quality);
    });
  }
}

async function refreshPlayUrl() {
  const cdn = state.cdns[state.cdnIndex]?.cdn;
  const id = state.id;
  const token = loadToken;
  const result = await request(PLAYER_VIDEO, { id, cdn });
  if (token !== loadToken || !state || !result.data?.video) return false;
  state.data = result.data.video;
  showTracks(state.data);
  if (!state.data.playUrl) return false;
  setPlayUrl(state.data.playUrl);
  return true;
}

async function onHlsError(_event, data) {
  if (!data.fatal) return;
  const el = video();
  if (data.type === Hls.ErrorTypes.MEDIA_ERROR && state.mediaErrors < 2) {
    state.mediaErrors += 1;
    if (state.mediaErrors === 2) hls.swapAudioCodec();
    hls.recoverMediaError();
    return;
  }
  const status = data.response?.code;
  if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {
    // Signed URLs expire: ask for new ones and carry on where playback was.
    if ((status === 403 || status === 410) && Date.now() > state.expiresAt - 5000) {
      const t = el.currentTime;
      try {
        if (await refreshPlayUrl()) {
          loadSource(state.cdns[state.cdnIndex].url, { startAt: t, play: true });
          return;
        }
      } catch {
        /* fall through */
      }
    }
    const next = state.cdns.findIndex((_, i) => !state.tried.has(i));
    if (next >= 0) {
      const from = state.cdns[state.cdnIndex].cdn;
      const option = $(`#cdn-select option[value="${state.cdnIndex}"]`);
      if (option) option.textContent = `${from} (failed)`;
      toast(`Could not load from ${from}${status ? ` (HTTP ${status})` : ''}; switched to ${state.cdns[next].cdn}.`, { kind: 'warn' });
      switchCdn(next, 'fallback');
      return;
    }
  }
  destroyHls();
  const what = data.details ? ` (${data.details}${status ? `, HTTP ${status}` : ''})` : '';
  const message = data.type === Hls.ErrorTypes.NETWORK_ERROR
    ? `Playback failed: the video could not be downloaded${what}.`
    : `Playback failed: the browser could not decode the video${what}.`;
  setMessage(message, 'error');
  toastError(message, state?.data?.sourceName);
}

function updateStats() {
  const out = $('#player-stats');
  if (!state) return;
  const cdn = state.cdns[state.cdnIndex]?.cdn;
  let level = '';
  if (hls && hls.currentLevel >= 0 && hls.levels[hls.currentLevel]) {
    const l = hls.levels[hls.currentLevel];
    level = `${levelLabel({ ...l, index: hls.currentLevel })}${hls.autoLevelEnabled ? ' (auto)' : ''}`;
  }
  out.textContent = [level && `Playing ${level}`, cdn && `via ${cdn}`].filter(Boolean).join(' ');
  const auto = $('#quality-select option[value="-1"]');
  if (auto && hls) auto.textContent = hls.autoLevelEnabled && hls.currentLevel >= 0 ? `Auto (${levelLabel({ ...hls.levels[hls.currentLevel], index: hls.currentLevel }).split(' · ')[0]})` : 'Auto';
}

function setMessage(text, kind = 'info', timeout = 0) {
  const box = $('#player-message');
  clearTimeout(setMessage.timer);
  box.hidden = !text;
  box.textContent = text || '';
  box.className = `player-message player-message-${kind}`;
  box.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  if (text && timeout) setMessage.timer = setTimeout(() => setMessage(null), timeout);
}

// --- seek bar with the sprite preview ---------------------------------------

function duration() {
  const el = video();
  if (Number.isFinite(el.duration) && el.duration > 0) return el.duration;
  return state?.data?.duration ? state.data.duration / 1000 : 0;
}

function syncSeek() {
  const seek = $('#seek');
  const max = duration();
  seek.max = String(max || 0);
  seek.disabled = !max;
  if (!dragging) seek.value = String(video().currentTime || 0);
  seek.setAttribute('aria-valuetext', `${formatClock(Number(seek.value))} of ${formatClock(max)}`);
  $('#seek-time').textContent = `${formatClock(Number(seek.value))} / ${formatClock(max)}`;
  paintSeek();
}

function paintSeek() {
  const seek = $('#seek');
  const max = Number(seek.max) || 0;
  const pct = max ? (Number(seek.value) / max) * 100 : 0;
  seek.style.setProperty('--pct', `${pct}%`);
}

async function loadThumbnails(v, token) {
  if (!v.thumbnails) return;
  try {
    const res = await fetch(v.thumbnails);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const cues = parseThumbnailTrack(await res.text(), res.url || v.thumbnails, v.sprite);
    if (token !== loadToken || !state) return;
    state.cues = cues;
    // Warm the cache so the first hover shows a picture at once.
    const first = cues[0]?.url;
    if (first) new Image().src = first;
  } catch (err) {
    console.warn('thumbnail track:', err);
  }
}

function showPreview(time, x) {
  const seek = $('#seek');
  const box = $('#scrub-preview');
  const max = Number(seek.max) || 0;
  if (!state || !max) return;
  const rect = seek.getBoundingClientRect();
  const px = x ?? (time / max) * rect.width;
  const thumb = $('.scrub-thumb', box);
  const cue = state.cues.length ? cueAt(state.cues, time) : null;
  if (cue) {
    thumb.hidden = false;
    thumb.style.width = `${cue.w}px`;
    thumb.style.height = `${cue.h}px`;
    thumb.style.backgroundImage = `url("${cue.url.replace(/"/g, '%22')}")`;
    thumb.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
  } else {
    thumb.hidden = true;
  }
  $('.scrub-time', box).textContent = formatClock(time);
  box.hidden = false;
  const width = box.offsetWidth;
  const left = Math.max(0, Math.min(rect.width - width, px - width / 2));
  box.style.left = `${left}px`;
}

function hidePreview() {
  const box = $('#scrub-preview');
  if (box) box.hidden = true;
}

// --- snapshots ------------------------------------------------------------------

function renderSnapshots(v) {
  const list = $('#snapshots');
  const snaps = [...(v.snapshots || [])].sort((a, b) => a.imageIndex - b.imageIndex);
  $('#snapshots-section').hidden = !snaps.length;
  const count = v.imageCount || snaps.length;
  setChildren(list, snaps.map((s) => {
    const at = v.duration ? (s.imageIndex * v.duration) / 1000 / count : null;
    const short = (v.duration || 0) < 60_000;
    const label = at == null ? `#${s.imageIndex + 1}` : short ? `${at.toFixed(1)} s` : formatClock(at);
    return h('li', {},
      h('button', {
        type: 'button',
        class: 'snapshot',
        title: at != null ? `Jump to ${label}` : `Snapshot ${s.imageIndex + 1}`,
        'aria-label': at != null ? `Snapshot ${s.imageIndex + 1}, jump to ${label}` : `Snapshot ${s.imageIndex + 1}`,
        onclick: () => {
          if (at == null) return;
          const el = video();
          el.currentTime = at;
          if (el.paused) playSafe();
        },
      },
      h('img', { src: s.url, alt: '', loading: 'lazy', width: s.width || undefined, height: s.height || undefined }),
      h('span', { class: 'snapshot-time', text: label })));
  }));
}

async function copyUrl() {
  const url = state?.cdns[state.cdnIndex]?.url;
  if (!url) return;
  try {
    await navigator.clipboard.writeText(url);
    const until = state.expiresAt ? ` It is valid until ${new Date(state.expiresAt).toLocaleTimeString()}.` : '';
    toast(`The signed master playlist URL is on the clipboard.${until}`);
  } catch {
    window.prompt('The signed master playlist URL:', url);
  }
}
