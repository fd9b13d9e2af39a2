// The app's videos: paginated list, live status from videoEvents, actions.
import { DELETE_VIDEO, GET_VIDEO, LIST_VIDEOS, RETRANSCODE, gql } from './api.js';
import { $, h, icon, setChildren } from './dom.js';
import { formatBitrate, formatBytes, formatDateTime, formatDurationMs, formatRelative } from './format.js';
import { confirmAction, toast, toastError } from './ui.js';

const PAGE_SIZE = 12;

export const STATUS_TEXT = {
  UPLOADING: 'Receiving the upload',
  UPLOADED: 'Uploaded, not transcoded',
  UPLOAD_FAILED: 'Upload failed',
  TRANSCODE_QUEUED: 'Waiting for a worker',
  TRANSCODING: 'Transcoding',
  TRANSCODED: 'Transcoded, publishing',
  TRANSCODE_FAILED: 'Transcode failed',
  PLAYABLE: 'Ready to play',
};
const IN_PROGRESS = new Set(['UPLOADING', 'TRANSCODE_QUEUED', 'TRANSCODING', 'TRANSCODED']);
const CAN_TRANSCODE = new Set(['UPLOADED', 'TRANSCODED', 'TRANSCODE_FAILED', 'PLAYABLE']);

const cards = new Map(); // video id → Card
const ignored = new Set(); // ids that are renditions, not sources
const fetching = new Map(); // id → promise
const refreshTimers = new Map();
let endCursor = null;
let hasNextPage = false;
let loading = false;
let generation = 0; // bumps on sign-in/out so late answers of an old session are dropped
let hooks = { onPlay: () => {}, onChange: () => {}, onDeleted: () => {} };

export function initLibrary(options) {
  hooks = { ...hooks, ...options };
  $('#load-more').addEventListener('click', () => loadPage());
  $('#library-refresh').addEventListener('click', () => reload());
  setInterval(() => {
    for (const card of cards.values()) card.renderTime();
  }, 30_000);
}

export function clearLibrary() {
  generation += 1;
  cards.clear();
  ignored.clear();
  fetching.clear();
  endCursor = null;
  hasNextPage = false;
  $('#library-grid').replaceChildren();
  renderChrome();
}

export async function reload() {
  clearLibrary();
  await loadPage();
}

async function loadPage() {
  if (loading) return;
  loading = true;
  const gen = generation;
  const button = $('#load-more');
  button.disabled = true;
  button.textContent = 'Loading…';
  $('#library-error').hidden = true;
  $('#library-grid').setAttribute('aria-busy', 'true');
  try {
    const data = await gql(LIST_VIDEOS, { first: PAGE_SIZE, after: endCursor });
    if (gen !== generation) return;
    for (const edge of data.videos.edges) upsert(edge.node, { append: true });
    endCursor = data.videos.pageInfo.endCursor;
    hasNextPage = data.videos.pageInfo.hasNextPage;
  } catch (err) {
    if (gen !== generation || err.code === 'UNAUTHENTICATED') return;
    const box = $('#library-error');
    setChildren(box, icon('alert'), h('span', { text: `Could not load the videos: ${err.message}` }),
      h('button', { class: 'btn btn-small', type: 'button', onclick: () => loadPage() }, 'Try again'));
    box.hidden = false;
  } finally {
    if (gen === generation) {
      loading = false;
      $('#library-grid').removeAttribute('aria-busy');
      button.disabled = false;
      button.textContent = 'Load more';
      renderChrome();
    } else {
      loading = false;
    }
  }
}

/** After a reconnect: events may have been missed, so ask again. */
export async function resync() {
  const gen = generation;
  try {
    const data = await gql(LIST_VIDEOS, { first: PAGE_SIZE });
    if (gen !== generation) return;
    const seen = new Set();
    for (const edge of data.videos.edges) {
      seen.add(edge.node.id);
      upsert(edge.node);
    }
    for (const [id, card] of cards) if (!seen.has(id) && IN_PROGRESS.has(card.video.status)) scheduleRefresh(id, 0);
    if (!cards.size) {
      hasNextPage = data.videos.pageInfo.hasNextPage;
      endCursor = data.videos.pageInfo.endCursor;
    }
    renderChrome();
  } catch {
    /* reported by request() when it matters */
  }
}

function renderChrome() {
  const count = cards.size;
  $('#library-count').textContent = count ? `${count}${hasNextPage ? '+' : ''} video${count === 1 && !hasNextPage ? '' : 's'}` : '';
  $('#library-empty').hidden = count > 0 || loading || hasNextPage;
  $('#load-more').hidden = !hasNextPage;
}

/** Adds or updates a card; new ones are placed by creation time, newest first. */
function upsert(video, { append = false } = {}) {
  if (!video || video.parentId) {
    if (video?.parentId) ignored.add(video.id);
    return null;
  }
  let card = cards.get(video.id);
  if (card) {
    card.update(video);
  } else {
    const grid = $('#library-grid');
    const created = Date.parse(video.createTime);
    const after = Array.from(cards.values()).find((c) => Date.parse(c.video.createTime) < created);
    if (!after && !append && hasNextPage) return null; // older than what is loaded: "Load more" brings it
    card = new Card(video);
    cards.set(video.id, card);
    if (after && !append) grid.insertBefore(card.el, after.el);
    else grid.append(card.el);
  }
  renderChrome();
  hooks.onChange(video.id);
  return card;
}

/** Makes sure a video (e.g. one just uploaded) is in the list. */
export function ensureVideo(id) {
  if (cards.has(id) || ignored.has(id)) return Promise.resolve(cards.get(id));
  return fetchVideo(id);
}

function fetchVideo(id) {
  if (fetching.has(id)) return fetching.get(id);
  const gen = generation;
  const promise = gql(GET_VIDEO, { id })
    .then((data) => {
      if (gen !== generation) return null;
      if (!data.video) {
        removeCard(id);
        return null;
      }
      return upsert(data.video);
    })
    .catch((err) => {
      if (err.code !== 'UNAUTHENTICATED' && cards.has(id)) console.warn(`refresh of ${id} failed:`, err);
      return null;
    })
    .finally(() => fetching.delete(id));
  fetching.set(id, promise);
  return promise;
}

function scheduleRefresh(id, delay = 250) {
  clearTimeout(refreshTimers.get(id));
  refreshTimers.set(id, setTimeout(() => {
    refreshTimers.delete(id);
    fetchVideo(id);
  }, delay));
}

/** A VideoEvent from the subscription. */
export function applyEvent(event) {
  const id = event.videoId;
  if (event.deleted) {
    removeCard(id);
    hooks.onDeleted(id);
    return;
  }
  if (ignored.has(id)) return;
  const card = cards.get(id);
  if (!card) {
    ensureVideo(id);
    return;
  }
  const at = Date.parse(event.at);
  if (card.lastEventAt && at < card.lastEventAt) return; // an older event arriving late
  card.lastEventAt = at;
  const changed = card.video.status !== event.status;
  card.update({ ...card.video, status: event.status, progress: event.progress, error: event.error });
  hooks.onChange(id);
  // A new status brings new data (media info after the probe, cover and renditions when done).
  if (changed) scheduleRefresh(id);
}

function removeCard(id) {
  const card = cards.get(id);
  if (!card) return;
  cards.delete(id);
  card.el.remove();
  renderChrome();
  hooks.onChange(id);
}

/** "PLAYABLE · Ready to play" for the upload list. */
export function describeVideo(id) {
  const video = cards.get(id)?.video;
  if (!video) return null;
  const note = video.status === 'TRANSCODING' ? `${STATUS_TEXT.TRANSCODING} ${video.progress} %` : STATUS_TEXT[video.status];
  return `${note}`;
}

export const getVideo = (id) => cards.get(id)?.video || null;

/** The video's `error` in words, saying which step failed. */
function describeError(v) {
  const reason = String(v.error).trim();
  switch (v.status) {
    case 'UPLOAD_FAILED':
      return `Upload failed: ${reason}`;
    case 'TRANSCODE_FAILED':
      return `Transcode failed: ${reason}`;
    case 'TRANSCODED':
      return `Publishing failed: ${reason.replace(/^publishing failed:\s*/i, '')}`;
    case 'PLAYABLE':
      return `The last transcode failed (the current renditions still play): ${reason}`;
    default:
      return `The last attempt failed, trying again: ${reason}`;
  }
}

class Card {
  constructor(video) {
    this.video = video;
    this.lastEventAt = 0;
    this.build();
    this.update(video);
  }

  build() {
    const id = this.video.id;
    const titleId = `video-title-${id}`;
    this.img = h('img', { alt: '', loading: 'lazy', decoding: 'async',
      onload: () => this.img.classList.add('loaded'),
      onerror: () => this.img.classList.remove('loaded') });
    this.placeholder = h('div', { class: 'thumb-placeholder' }, icon('film', 32));
    this.durationBadge = h('span', { class: 'thumb-duration' });
    this.audioBadge = h('span', { class: 'thumb-badge', title: 'Audio only', role: 'img', 'aria-label': 'Audio only', dataset: { testid: 'audio-badge' } }, icon('music', 14));
    this.lockBadge = h('span', { class: 'thumb-badge', title: 'Encrypted (AES-128)', role: 'img', 'aria-label': 'Encrypted (AES-128)', dataset: { testid: 'encrypted-badge' } }, '🔒');
    this.thumb = h('div', { class: 'thumb', onclick: () => this.video.status === 'PLAYABLE' && hooks.onPlay(id) },
      this.placeholder, this.img, h('div', { class: 'thumb-badges' }, this.audioBadge, this.lockBadge), this.durationBadge);
    this.title = h('h3', { class: 'card-title', id: titleId });
    this.status = h('span', { class: 'status', dataset: { testid: 'video-status' } });
    this.statusNote = h('span', { class: 'status-note' });
    this.progress = h('progress', { class: 'transcode-progress', max: 100, dataset: { testid: 'transcode-progress' } });
    this.error = h('p', { class: 'error-text', dataset: { testid: 'video-error' } });
    this.meta = h('p', { class: 'card-meta' });
    this.time = h('time', { class: 'card-time' });
    this.chips = h('ul', { class: 'chips', 'aria-label': 'Definitions' });
    this.info = h('dl', { class: 'mediainfo' });
    this.details = h('details', { class: 'card-details' }, h('summary', {}, 'Media info'), this.info);
    this.playBtn = h('button', { class: 'btn btn-primary', type: 'button', dataset: { testid: 'play' }, onclick: () => hooks.onPlay(id) }, icon('play', 14), 'Play');
    this.retranscodeBtn = h('button', { class: 'btn', type: 'button', dataset: { testid: 'retranscode' }, onclick: () => this.retranscode() }, icon('refresh', 14), 'Retranscode');
    this.deleteBtn = h('button', { class: 'icon-btn icon-btn-danger', type: 'button', dataset: { testid: 'delete' }, title: 'Delete', 'aria-label': `Delete ${this.video.sourceName}`, onclick: () => this.delete() }, icon('trash', 16));
    this.el = h('article', { class: 'video-card', id: `video-${id}`, tabindex: -1, 'aria-labelledby': titleId, dataset: { testid: 'video-card', videoId: id } },
      this.thumb,
      h('div', { class: 'card-body' },
        h('div', { class: 'card-title-row' }, this.title, this.deleteBtn),
        h('div', { class: 'status-row' }, this.status, this.statusNote),
        this.progress,
        this.error,
        this.meta,
        this.chips,
        this.details,
        h('div', { class: 'card-actions' }, this.playBtn, this.retranscodeBtn),
        this.time));
  }

  update(video) {
    this.video = video;
    const v = video;
    this.el.dataset.status = v.status;
    this.title.textContent = v.sourceName || v.id;
    this.title.title = v.sourceName || '';
    this.status.textContent = v.status; // the raw status (tests read it)
    this.status.className = `status status-${v.status.toLowerCase().replace(/_/g, '-')}`;
    this.status.title = STATUS_TEXT[v.status] || v.status;

    // Reel reports no progress while bytes arrive: no bar then, rather than an empty one.
    const working = (v.status === 'TRANSCODE_QUEUED' || v.status === 'TRANSCODING' || (v.status === 'UPLOADING' && v.progress > 0));
    let note = STATUS_TEXT[v.status] || '';
    if (v.status === 'TRANSCODING' || (v.status === 'UPLOADING' && v.progress > 0)) note += ` · ${v.progress} %`;
    if (v.status === 'TRANSCODED' && v.error) note = 'Transcoded, publishing failed';
    this.statusNote.textContent = note;
    this.progress.hidden = !working;
    if (v.status === 'TRANSCODE_QUEUED') this.progress.removeAttribute('value'); // indeterminate
    else this.progress.value = Math.max(0, Math.min(100, v.progress || 0));
    this.progress.setAttribute('aria-label', `${note} — ${v.sourceName}`);

    this.error.hidden = !v.error;
    this.error.textContent = v.error ? describeError(v) : '';

    const coverUrl = v.cover?.url || null;
    if (coverUrl) {
      // Signed URLs change on every query; keep the picture while it is the same file.
      const key = coverUrl.split('?')[0];
      if (key !== this.coverKey) {
        this.coverKey = key;
        this.img.src = coverUrl;
      }
    } else {
      this.coverKey = null;
      this.img.removeAttribute('src');
      this.img.classList.remove('loaded');
    }
    this.durationBadge.hidden = v.duration == null;
    this.durationBadge.textContent = formatDurationMs(v.duration);
    this.audioBadge.hidden = v.kind !== 'AUDIO';
    this.lockBadge.hidden = !v.encrypted;
    this.thumb.classList.toggle('playable', v.status === 'PLAYABLE');

    const parts = [];
    if (v.videoWidth && v.videoHeight) parts.push(`${v.videoWidth}×${v.videoHeight}`);
    if (v.duration != null) parts.push(formatDurationMs(v.duration));
    parts.push(formatBytes(v.fileSize));
    this.meta.textContent = parts.join(' · ');
    this.renderTime();

    setChildren(this.chips, (v.renditions || []).filter((r) => r.definition).map((r) =>
      h('li', { class: 'chip', title: `${r.videoWidth}×${r.videoHeight}${r.fileSize ? `, ${formatBytes(r.fileSize)}` : ''}` },
        h('strong', { text: r.definition }), ` ${r.videoHeight || ''}p`)));
    this.chips.hidden = !(v.renditions || []).length;

    this.renderInfo(v);
    this.details.hidden = !v.mediaInfo;

    this.playBtn.disabled = v.status !== 'PLAYABLE';
    this.playBtn.title = v.status === 'PLAYABLE' ? `Play ${v.sourceName}` : 'Playable once transcoded and published';
    this.retranscodeBtn.disabled = !CAN_TRANSCODE.has(v.status);
    this.retranscodeBtn.textContent = '';
    this.retranscodeBtn.append(icon('refresh', 14), v.status === 'UPLOADED' ? 'Transcode' : 'Retranscode');
  }

  renderTime() {
    this.time.dateTime = this.video.createTime;
    this.time.textContent = `Added ${formatRelative(this.video.createTime)}`;
    this.time.title = formatDateTime(this.video.createTime);
  }

  renderInfo(v) {
    const mi = v.mediaInfo;
    if (!mi) return;
    const rows = [];
    const add = (label, value) => value != null && value !== '' && rows.push(h('dt', { text: label }), h('dd', { text: String(value) }));
    add('Container', mi.format);
    add('Duration', mi.duration != null ? formatDurationMs(mi.duration) : null);
    add('Bit rate', formatBitrate(mi.bitRate));
    if (mi.video) {
      const vs = mi.video;
      add('Video', [vs.codec, vs.profile].filter(Boolean).join(' '));
      add('Frame', `${vs.width}×${vs.height}${vs.fps ? ` @ ${Math.round(vs.fps * 100) / 100} fps` : ''}`);
      if (vs.rotation) add('Rotation', `${vs.rotation}°`);
      add('Pixels', vs.pixelFormat);
      add('Video rate', formatBitrate(vs.bitRate));
    }
    if (mi.audio) {
      const a = mi.audio;
      add('Audio', `${a.codec}, ${a.channels === 1 ? 'mono' : a.channels === 2 ? 'stereo' : `${a.channels} ch`}, ${(a.sampleRate / 1000).toFixed(1)} kHz`);
      add('Audio rate', formatBitrate(a.bitRate));
    }
    add('Video id', v.id);
    setChildren(this.info, rows);
  }

  async retranscode() {
    const v = this.video;
    const first = v.status === 'UPLOADED';
    const ok = await confirmAction({
      title: first ? 'Transcode this video?' : 'Transcode again?',
      message: first
        ? `“${v.sourceName}” will be queued for transcoding.`
        : `“${v.sourceName}” will be transcoded again. The current renditions keep playing until the new ones replace them.`,
      confirmLabel: first ? 'Transcode' : 'Retranscode',
    });
    if (!ok) return;
    this.retranscodeBtn.disabled = true;
    try {
      const data = await gql(RETRANSCODE, { id: v.id });
      const next = data.retranscode;
      this.update({ ...this.video, status: next.status, progress: next.progress, error: next.error });
      toast(`“${v.sourceName}” is queued for transcoding.`);
    } catch (err) {
      if (err.code !== 'UNAUTHENTICATED') toastError(err.message, `Could not transcode “${v.sourceName}”`);
      this.update(this.video);
    }
  }

  async delete() {
    const v = this.video;
    const ok = await confirmAction({
      title: 'Delete this video?',
      message: `“${v.sourceName}” will be deleted with its renditions, snapshots and stored files. This cannot be undone.`,
      confirmLabel: 'Delete',
      danger: true,
    });
    if (!ok) return;
    this.deleteBtn.disabled = true;
    try {
      await gql(DELETE_VIDEO, { id: v.id });
      removeCard(v.id);
      hooks.onDeleted(v.id);
      toast(`“${v.sourceName}” was deleted.`);
    } catch (err) {
      this.deleteBtn.disabled = false;
      if (err.code === 'NOT_FOUND') {
        removeCard(v.id);
        return;
      }
      if (err.code !== 'UNAUTHENTICATED') toastError(err.message, `Could not delete “${v.sourceName}”`);
    }
  }
}
