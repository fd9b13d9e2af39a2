// Uploads with tus-js-client: several files at once, progress with speed and time
// left, pause/resume, and resume after a page reload (the file is chosen again and
// its fingerprint finds the upload URL stored in localStorage).
import * as tus from 'tus-js-client';
import { apiUrl } from './api.js';
import { authHeader, getToken, reportUnauthenticated } from './auth.js';
import { $, h, icon, setChildren } from './dom.js';
import { formatBytes, formatEta, formatRelative, formatSpeed } from './format.js';
import { confirmAction, toastError } from './ui.js';

const CHUNK_SIZE = 8 * 1024 * 1024;
const MAX_PARALLEL = 3;
const ACTIVE = new Set(['starting', 'uploading', 'finishing']);

const endpoint = () => apiUrl('files/');
const items = [];
let hooks = { onVideoId: () => {}, describeVideo: () => null };

export function initUploads(options) {
  hooks = { ...hooks, ...options };
  const input = $('#file-input');
  input.addEventListener('change', () => {
    addFiles(input.files);
    input.value = ''; // the same file can be chosen again
  });

  const zone = $('#dropzone');
  let depth = 0;
  const hasFiles = (e) => Array.from(e.dataTransfer?.types || []).includes('Files');
  window.addEventListener('dragenter', (e) => {
    if (!hasFiles(e)) return;
    depth += 1;
    document.body.classList.add('dragging');
  });
  window.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (!depth) document.body.classList.remove('dragging');
  });
  window.addEventListener('dragover', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault(); // dropping anywhere on the page uploads instead of navigating away
    e.dataTransfer.dropEffect = 'copy';
    zone.classList.toggle('over', zone.contains(e.target));
  });
  window.addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    document.body.classList.remove('dragging');
    zone.classList.remove('over');
    addFiles(e.dataTransfer.files);
  });

  window.addEventListener('beforeunload', (e) => {
    if (items.some((item) => ACTIVE.has(item.state))) {
      e.preventDefault();
      e.returnValue = ''; // "uploads in progress" — they resume after a reload anyway
    }
  });

  showUnfinished();
}

export function addFiles(fileList) {
  const files = Array.from(fileList || []);
  for (const file of files) {
    const item = new UploadItem(file);
    items.push(item);
    $('#upload-list').prepend(item.el);
  }
  pump();
}

/** Starts queued uploads while fewer than MAX_PARALLEL run. */
function pump() {
  let running = items.filter((i) => ACTIVE.has(i.state)).length;
  for (const item of items) {
    if (running >= MAX_PARALLEL) break;
    if (item.state === 'queued') {
      running += 1;
      item.begin();
    }
  }
}

/** Signed out (the token expired): stop sending until there is a new token. */
export function pauseForSignIn(why) {
  for (const item of items) if (ACTIVE.has(item.state) || item.state === 'queued') item.waitForSignIn(why);
}

/** After signing in again: uploads that stopped on an expired token go on. */
export function resumeAfterSignIn() {
  for (const item of items) if (item.state === 'paused' && item.authPaused) item.resume();
}

/** The library changed a video's status: mirror it on the finished upload's row. */
export function videoChanged(videoId) {
  for (const item of items) if (item.videoId === videoId) item.renderVideoLine();
}

// Each upload gets its own view of the URL storage, so that a HEAD answered 401
// (expired token) does not make tus-js-client forget the upload URL.
class GuardedUrlStorage {
  constructor(inner) {
    this.inner = inner;
    this.authFailed = false;
  }
  findAllUploads() { return this.inner.findAllUploads(); }
  findUploadsByFingerprint(fp) { return this.inner.findUploadsByFingerprint(fp); }
  addUpload(fp, upload) { return this.inner.addUpload(fp, upload); }
  removeUpload(key) { return this.authFailed ? Promise.resolve() : this.inner.removeUpload(key); }
}

class UploadItem {
  constructor(file) {
    this.file = file;
    this.state = 'queued';
    this.videoId = null;
    this.error = null;
    this.authPaused = false;
    this.resumedFrom = null;
    this.sent = 0;
    this.speed = 0;
    this.lastSample = null;
    this.storage = new GuardedUrlStorage(tus.defaultOptions.urlStorage);
    this.build();
    this.render();
  }

  build() {
    this.progress = h('progress', { max: 100, value: 0, dataset: { testid: 'upload-progress' }, 'aria-label': `Upload of ${this.file.name}` });
    this.stateText = h('span', { class: 'upload-state' });
    this.statsText = h('span', { class: 'upload-stats muted' });
    this.videoLine = h('div', { class: 'upload-video' });
    this.errorText = h('p', { class: 'error-text', role: 'alert', hidden: true });
    this.pauseBtn = h('button', { class: 'btn btn-small', type: 'button', onclick: () => this.togglePause() });
    this.cancelBtn = h('button', { class: 'icon-btn', type: 'button', 'aria-label': `Cancel the upload of ${this.file.name}`, title: 'Cancel', onclick: () => this.cancel() }, icon('x', 16));
    this.el = h(
      'li',
      { class: 'upload-item', dataset: { testid: 'upload-item' } },
      h('div', { class: 'upload-head' },
        h('span', { class: 'upload-name', title: this.file.name, text: this.file.name }),
        h('span', { class: 'muted upload-size', text: formatBytes(this.file.size) }),
        this.cancelBtn),
      this.progress,
      h('div', { class: 'upload-meta' }, this.stateText, this.statsText, this.pauseBtn),
      this.errorText,
      this.videoLine,
    );
  }

  get percent() {
    return this.file.size ? (this.sent / this.file.size) * 100 : 0;
  }

  render() {
    const labels = {
      queued: 'Waiting…',
      starting: this.upload?.url ? 'Resuming…' : 'Connecting…',
      uploading: `${Math.floor(this.percent)} %`,
      finishing: 'Finishing…',
      paused: 'Paused',
      done: 'Uploaded',
      failed: 'Failed',
      cancelled: 'Cancelled',
    };
    this.el.dataset.state = this.state;
    this.stateText.textContent = labels[this.state];
    const value = this.state === 'done' ? 100 : Math.min(100, Math.floor(this.percent));
    this.progress.value = value;
    this.progress.setAttribute('aria-valuetext', `${value} %`);

    if (this.state === 'uploading' && this.speed > 0) {
      const left = (this.file.size - this.sent) / this.speed;
      this.statsText.textContent = `${formatSpeed(this.speed)} · ${formatEta(left)}`;
    } else if (this.state === 'done') {
      this.statsText.textContent = this.resumedFrom ? `resumed at ${Math.floor((this.resumedFrom / this.file.size) * 100)} %` : '';
    } else if (this.state === 'paused' || this.state === 'failed') {
      this.statsText.textContent = `${formatBytes(this.sent)} of ${formatBytes(this.file.size)}`;
    } else {
      this.statsText.textContent = '';
    }

    const canPause = this.state === 'uploading' || this.state === 'starting';
    const canResume = this.state === 'paused' || (this.state === 'failed' && this.retryable);
    this.pauseBtn.hidden = !(canPause || canResume);
    setChildren(this.pauseBtn, icon(canPause ? 'pause' : 'play', 14), canPause ? 'Pause' : this.state === 'failed' ? 'Retry' : 'Resume');
    this.pauseBtn.setAttribute('aria-label', `${canPause ? 'Pause' : 'Resume'} ${this.file.name}`);
    const finished = this.state === 'done' || this.state === 'cancelled' || (this.state === 'failed' && !this.retryable);
    this.cancelBtn.title = finished ? 'Remove from the list' : 'Cancel';
    this.cancelBtn.setAttribute('aria-label', `${finished ? 'Remove' : 'Cancel'} ${this.file.name}`);

    this.errorText.hidden = !this.error;
    this.errorText.textContent = this.error || '';
    this.renderVideoLine();
  }

  renderVideoLine() {
    if (!this.videoId) {
      this.videoLine.hidden = true;
      return;
    }
    this.videoLine.hidden = false;
    const status = hooks.describeVideo(this.videoId);
    setChildren(
      this.videoLine,
      'Video ',
      h('a', { href: `#video-${encodeURIComponent(this.videoId)}`, text: this.videoId, onclick: (e) => {
        const card = document.getElementById(`video-${this.videoId}`);
        if (card) {
          e.preventDefault();
          card.scrollIntoView({ behavior: 'smooth', block: 'center' });
          card.focus({ preventScroll: true });
        }
      } }),
      status ? ` · ${status}` : '',
    );
  }

  setState(state) {
    this.state = state;
    this.render();
  }

  async begin() {
    if (this.file.size === 0) {
      this.fail('The file is empty.', false);
      return;
    }
    this.error = null;
    this.setState('starting');
    const upload = new tus.Upload(this.file, {
      endpoint: endpoint(),
      chunkSize: CHUNK_SIZE,
      retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      urlStorage: this.storage,
      metadata: { filename: this.file.name, filetype: this.file.type || 'application/octet-stream', autoTranscode: 'true' },
      // A getter: every request carries the current token, which may have been
      // replaced (signed in again) since the upload began.
      headers: {
        get Authorization() {
          return authHeader();
        },
      },
      onAfterResponse: (req, res) => {
        if (res.getStatus() === 401) this.storage.authFailed = true;
        const vid = res.getHeader('Reel-Video-Id');
        if (vid) this.setVideoId(vid);
        if (req.getMethod() === 'HEAD' && res.getStatus() === 200) {
          // Resuming: the server says how much it already has.
          const offset = Number(res.getHeader('Upload-Offset'));
          if (Number.isFinite(offset) && offset > 0) {
            if (this.resumedFrom == null && this.sent === 0) this.resumedFrom = offset;
            this.sent = offset;
            this.render();
          }
        }
      },
      onProgress: (sent, total) => this.onProgress(sent, total),
      onSuccess: () => this.onSuccess(),
      onError: (err) => this.onError(err),
    });
    this.upload = upload;
    this.storage.authFailed = false;
    try {
      const previous = await upload.findPreviousUploads();
      if (previous.length && this.state === 'starting') {
        previous.sort((a, b) => String(b.creationTime).localeCompare(String(a.creationTime)));
        upload.resumeFromPreviousUpload(previous[0]);
        this.render(); // "Resuming…"
        showUnfinished(); // it is no longer waiting for its file
      }
    } catch {
      /* no storage: start a new upload */
    }
    if (this.state !== 'starting') return; // paused or cancelled meanwhile
    this.lastSample = null;
    upload.start();
  }

  onProgress(sent, total) {
    const now = performance.now();
    if (this.lastSample) {
      const dt = (now - this.lastSample.t) / 1000;
      if (dt > 0.25) {
        const instant = (sent - this.lastSample.sent) / dt;
        this.speed = this.speed ? this.speed * 0.7 + instant * 0.3 : instant;
        this.lastSample = { t: now, sent };
      }
    } else {
      this.lastSample = { t: now, sent };
    }
    this.sent = sent;
    this.state = sent >= total ? 'finishing' : 'uploading';
    this.render();
  }

  async onSuccess() {
    this.sent = this.file.size;
    if (!this.videoId && this.upload?.url) {
      // Not seen on a response yet (e.g. finished before this page): ask the upload.
      try {
        const res = await fetch(this.upload.url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0', Authorization: authHeader() } });
        const vid = res.headers.get('Reel-Video-Id');
        if (vid) this.setVideoId(vid);
      } catch {
        /* the library shows it through the live events anyway */
      }
    }
    this.setState('done');
    pump();
    showUnfinished();
  }

  setVideoId(vid) {
    if (this.videoId === vid) return;
    this.videoId = vid;
    this.el.dataset.videoId = vid;
    hooks.onVideoId(vid);
    this.renderVideoLine();
  }

  onError(err) {
    const status = err?.originalResponse?.getStatus?.() || 0;
    const body = err?.originalResponse?.getBody?.() || '';
    let reason = body;
    try {
      const json = JSON.parse(body);
      reason = json.message || json.error || body;
    } catch {
      /* plain text */
    }
    reason = String(reason || '').trim().slice(0, 300);

    if (status === 401) {
      const used = err.originalRequest?.getHeader?.('Authorization') || '';
      if (getToken() && used !== authHeader()) {
        // Refused with a token that has since been replaced: go on with the new one.
        this.resume();
        return;
      }
      this.waitForSignIn();
      reportUnauthenticated(reason, used.replace(/^Bearer /, ''));
      return;
    }
    const messages = {
      404: 'The server no longer knows this upload. Choose the file again to start over.',
      410: 'The upload expired on the server. Choose the file again to start over.',
      413: `The file is larger than the server accepts${reason ? ` (${reason})` : ''}.`,
      415: 'The server refused the upload’s content type.',
      422: `The server rejected the file: ${reason || 'its checksum did not match'}.`,
      460: 'A chunk arrived damaged (checksum mismatch). Retry to send it again.',
    };
    let message = messages[status];
    if (!message && status >= 400) message = `The server answered ${status}${reason ? `: ${reason}` : ''}.`;
    if (!message) {
      message = navigator.onLine === false
        ? 'You are offline. Retry when the connection is back; the upload continues where it stopped.'
        : 'The connection to the server failed. Retry to continue where it stopped.';
    }
    const retryable = !status || status >= 500 || status === 409 || status === 423 || status === 460;
    this.fail(message, retryable);
    toastError(message, `Upload of ${this.file.name} failed`);
  }

  /** Stops until a token is there again (resumeAfterSignIn goes on). */
  waitForSignIn(why = 'your session expired') {
    this.upload?.abort();
    this.authPaused = true;
    this.speed = 0;
    this.lastSample = null;
    this.error = `Paused: ${why}. Sign in again and the upload continues where it stopped.`;
    this.setState('paused');
    pump();
  }

  fail(message, retryable) {
    this.error = message;
    this.retryable = retryable;
    this.speed = 0;
    this.setState('failed');
    pump();
  }

  togglePause() {
    if (this.state === 'uploading' || this.state === 'starting') this.pause();
    else this.resume();
  }

  pause() {
    this.upload?.abort();
    this.speed = 0;
    this.lastSample = null;
    this.setState('paused');
    pump();
  }

  resume() {
    this.error = null;
    this.authPaused = false;
    this.speed = 0;
    this.lastSample = null;
    if (!this.upload) {
      this.setState('queued');
      pump();
      return;
    }
    this.storage.authFailed = false;
    this.setState('starting');
    this.upload.start(); // HEAD, then PATCH from the server's offset
  }

  async cancel() {
    const finished = this.state === 'done' || this.state === 'cancelled' || (this.state === 'failed' && !this.retryable);
    if (!finished) {
      const ok = await confirmAction({
        title: 'Cancel this upload?',
        message: `“${this.file.name}” will be removed from the server with the bytes sent so far.`,
        confirmLabel: 'Cancel upload',
        cancelLabel: 'Keep uploading',
        danger: true,
      });
      if (!ok) return;
      const wasStarted = this.upload?.url;
      this.setState('cancelled');
      try {
        await this.upload?.abort(Boolean(wasStarted));
      } catch (err) {
        toastError(`The server could not delete the partial upload (${err.message}).`, 'Cancel');
      }
      pump();
    }
    this.el.remove();
    items.splice(items.indexOf(this), 1);
  }
}

/** Uploads from an earlier visit that did not finish: choose the file again to resume. */
async function showUnfinished() {
  const box = $('#pending-uploads');
  let entries = [];
  try {
    entries = await tus.defaultOptions.urlStorage.findAllUploads();
  } catch {
    entries = [];
  }
  const base = endpoint();
  entries = entries.filter((e) => e.uploadUrl && String(e.urlStorageKey).includes(base));
  // Hide the ones this page is uploading right now.
  entries = entries.filter((e) => !items.some((i) => i.upload?.url === e.uploadUrl && i.state !== 'cancelled'));
  if (!entries.length) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  box.hidden = false;
  const list = h('ul', { class: 'pending-list' });
  for (const entry of entries) {
    const name = entry.metadata?.filename || 'unnamed file';
    const progressText = h('span', { class: 'muted' }, formatBytes(entry.size));
    const li = h('li', {},
      h('span', { class: 'upload-name', title: name, text: name }),
      progressText,
      h('span', { class: 'muted', text: entry.creationTime ? formatRelative(entry.creationTime) : '' }),
      h('button', { class: 'btn btn-small btn-ghost', type: 'button', 'aria-label': `Forget ${name}`, onclick: async () => {
        li.remove();
        await tus.defaultOptions.urlStorage.removeUpload(entry.urlStorageKey);
        fetch(entry.uploadUrl, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0', Authorization: authHeader() } }).catch(() => {});
        showUnfinished();
      } }, 'Forget'),
    );
    list.append(li);
    // How far it got (and drop the ones the server no longer has).
    fetch(entry.uploadUrl, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0', Authorization: authHeader() } })
      .then((res) => {
        if (res.status === 404 || res.status === 410) {
          li.remove();
          tus.defaultOptions.urlStorage.removeUpload(entry.urlStorageKey);
          if (!list.children.length) box.hidden = true;
          return;
        }
        const offset = Number(res.headers.get('Upload-Offset'));
        if (res.ok && entry.size && Number.isFinite(offset)) {
          progressText.textContent = `${Math.floor((offset / entry.size) * 100)} % of ${formatBytes(entry.size)}`;
        }
      })
      .catch(() => {});
  }
  setChildren(box,
    h('p', { class: 'pending-title' }, h('strong', { text: 'Unfinished uploads. ' }), 'Choose the same file again to continue where it stopped.'),
    list);
}
