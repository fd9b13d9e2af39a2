// Derived media in the player: the thumbnail strip (image API), the download links
// (enableDownloads, Video.downloads) and the clip tool (createClip). The player calls
// resetDerived/showDerived; main.js gives the hooks to open a video and refresh the library.
import './derived.css';
import { gql } from './api.js';
import { $, h, setChildren } from './dom.js';
import { formatBytes, formatClock } from './format.js';
import { toast, toastError } from './ui.js';

const STRIP_SIZE = 8;
const STRIP_WIDTH = 160;
// Downloads are remuxed by a worker: look again this often, this many times.
const POLL_MS = 2000;
const POLLS = 20;

const DOWNLOADS = `query Downloads($id: ID!) { video(id: $id) { id downloads { definition url fileSize } } }`;
const ENABLE_DOWNLOADS = `
  mutation EnableDownloads($id: ID!) { enableDownloads(videoId: $id, definitions: ["HIGHEST", "AUDIO"]) { id } }
`;
const CREATE_CLIP = `
  mutation CreateClip($id: ID!, $start: Float!, $end: Float!, $precise: Boolean) {
    createClip(videoId: $id, start: $start, end: $end, precise: $precise) { id status sourceName }
  }
`;

let hooks = { open: () => {}, refreshLibrary: async () => {} };
let current = null; // { id, duration (s) } of the video in the player
let marks = { start: null, end: null };
let generation = 0; // bumped per video: late answers for the previous one are dropped

const player = () => $('#player');
const stale = (gen) => gen !== generation || !current;

export function initDerived(options) {
  hooks = { ...hooks, ...options };
  $('#make-downloads').addEventListener('click', makeDownloads);
  $('#mark-start').addEventListener('click', () => mark('start'));
  $('#mark-end').addEventListener('click', () => mark('end'));
  $('#create-clip').addEventListener('click', createClip);
}

/** A new video opens (or the player closes): forget the last one's strip, links and marks. */
export function resetDerived() {
  generation += 1;
  current = null;
  marks = { start: null, end: null };
  $('#derived').hidden = true;
  setChildren($('#thumb-strip'));
  setChildren($('#download-list'));
  setChildren($('#clip-result'));
  $('#downloads-empty').hidden = true;
  $('#make-downloads').hidden = true;
  $('#clip-precise').checked = false;
  renderMarks();
}

/** The video's data arrived and it plays: build the strip, list the downloads. */
export function showDerived(v) {
  current = { id: v.id, duration: (v.duration || 0) / 1000 };
  $('#derived').hidden = false;
  const gen = generation;
  loadStrip(gen);
  loadDownloads(gen);
}

// --- thumbnail strip ---------------------------------------------------------------

/** Times spread over the video, each inside it (a time past the end is refused). */
function stripTimes(duration) {
  return Array.from({ length: STRIP_SIZE }, (_, i) => Math.round(((i + 0.5) * duration * 100) / STRIP_SIZE) / 100);
}

async function loadStrip(gen) {
  if (!current.duration) return;
  const times = stripTimes(current.duration);
  // One query: an aliased thumbnailUrl per time.
  const fields = times.map((t, i) => `t${i}: thumbnailUrl(time: ${t}, width: ${STRIP_WIDTH})`).join(' ');
  let data;
  try {
    data = await gql(`query Strip($id: ID!) { video(id: $id) { ${fields} } }`, { id: current.id });
  } catch (err) {
    if (!stale(gen) && err.code !== 'UNAUTHENTICATED') toastError(err.message, 'Could not load the thumbnail strip');
    return;
  }
  if (stale(gen) || !data.video) return;
  setChildren($('#thumb-strip'), times.map((t, i) => {
    const url = data.video[`t${i}`];
    const label = current.duration < 60 ? `${t.toFixed(1)} s` : formatClock(t);
    return url && h('li', {},
      h('button', {
        type: 'button',
        class: 'strip-thumb',
        title: `Jump to ${label}`,
        'aria-label': `Thumbnail at ${label}, jump there`,
        dataset: { testid: 'strip-thumb', time: t },
        onclick: () => {
          player().currentTime = t;
        },
      },
      h('img', { src: url, alt: '', width: STRIP_WIDTH }),
      h('span', { class: 'strip-time', text: label })));
  }));
}

// --- downloads -----------------------------------------------------------------------

async function fetchDownloads() {
  const data = await gql(DOWNLOADS, { id: current.id });
  return data.video?.downloads || [];
}

function renderDownloads(list) {
  setChildren($('#download-list'), list.map((d) =>
    h('li', {},
      h('a', {
        class: 'btn btn-small',
        href: d.url,
        download: '',
        dataset: { testid: 'download-link', definition: d.definition },
      }, `${d.definition === 'AUDIO' ? 'Audio (M4A)' : `${d.definition} (MP4)`}`),
      h('span', { class: 'muted', text: formatBytes(d.fileSize) }))));
  $('#downloads-empty').hidden = list.length > 0;
  $('#make-downloads').hidden = list.length > 0;
}

async function loadDownloads(gen) {
  try {
    const list = await fetchDownloads();
    if (!stale(gen)) renderDownloads(list);
  } catch (err) {
    if (!stale(gen) && err.code !== 'UNAUTHENTICATED') toastError(err.message, 'Could not list the downloads');
  }
}

async function makeDownloads() {
  const gen = generation;
  const button = $('#make-downloads');
  button.disabled = true;
  button.textContent = 'Making downloads…';
  try {
    await gql(ENABLE_DOWNLOADS, { id: current.id });
    for (let i = 0; i < POLLS && !stale(gen); i += 1) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      if (stale(gen)) return;
      const list = await fetchDownloads();
      if (stale(gen)) return;
      if (list.length) {
        renderDownloads(list);
        return;
      }
    }
    if (!stale(gen)) toast('The downloads are not ready yet: open the video again later.', { kind: 'warn' });
  } catch (err) {
    if (!stale(gen) && err.code !== 'UNAUTHENTICATED') toastError(err.message, 'Could not make the downloads');
  } finally {
    button.disabled = false;
    button.textContent = 'Make downloads';
  }
}

// --- clip tool -----------------------------------------------------------------------

function mark(which) {
  if (!current) return;
  marks[which] = Math.round(player().currentTime * 100) / 100;
  renderMarks();
}

function renderMarks() {
  const show = (t) => (t == null ? '—' : `${formatClock(t)} (${t.toFixed(2)} s)`);
  $('#clip-start').textContent = show(marks.start);
  $('#clip-end').textContent = show(marks.end);
  $('#create-clip').disabled = marks.start == null || marks.end == null;
}

async function createClip() {
  const gen = generation;
  const { id } = current || {};
  if (!id) return;
  const button = $('#create-clip');
  const precise = $('#clip-precise').checked;
  button.disabled = true;
  try {
    // The server checks the range (start < end, inside the video) and says what is wrong.
    const data = await gql(CREATE_CLIP, { id, start: marks.start, end: marks.end, precise });
    if (stale(gen)) return;
    const clip = data.createClip;
    setChildren($('#clip-result'),
      h('span', {}, 'Clip ', h('code', { dataset: { testid: 'clip-id' }, text: clip.id })),
      h('span', { class: 'chip', dataset: { testid: 'clip-status' }, text: clip.status }),
      h('button', { type: 'button', class: 'btn btn-small', dataset: { testid: 'open-clip' }, onclick: () => hooks.open(clip.id) }, 'Open in the player'));
    toast(`Created the ${precise ? 'precise' : 'instant'} clip ${clip.id}.`);
    await hooks.refreshLibrary();
  } catch (err) {
    if (!stale(gen) && err.code !== 'UNAUTHENTICATED') toastError(err.message, 'Could not create the clip');
  } finally {
    if (!stale(gen)) renderMarks();
  }
}
