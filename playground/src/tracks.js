// The player's tracks: the subtitle (CC) and audio language menus over hls.js, the
// encrypted and audio-only notes, and the "Text tracks" panel (list, delete, add a
// WebVTT or SubRip file). The player owns hls.js and reloads its source on request.
import Hls from 'hls.js';
import './tracks.css';
import { ADD_TEXT_TRACK, DELETE_TEXT_TRACK, gql } from './api.js';
import { $, h, icon, setChildren } from './dom.js';
import { decodeSubtitle, describeTextTrack, findTrack, subtitleFileError, trackLabel } from './trackmeta.js';
import { toast, toastError } from './ui.js';

let hls = null;
let video = null; // the video's data from PLAYER_VIDEO
let hooks = { reload: async () => {} };
// What the viewer picked in the menus, kept across source reloads (CDN switch, new track):
// 'off' or { name, lang } for subtitles, { name, lang } for audio.
let wanted = { subtitle: null, audio: null };

export function initTracks(options) {
  hooks = { ...hooks, ...options };
  $('#subtitle-select').addEventListener('change', (e) => setSubtitle(Number(e.target.value)));
  $('#audio-select').addEventListener('change', (e) => setAudio(Number(e.target.value)));
  $('#text-track-form').addEventListener('submit', (e) => {
    e.preventDefault();
    addTrack();
  });
}

/** A new video opens: forget the last one's tracks and choices. */
export function resetTracks() {
  attachTracks(null);
  video = null;
  wanted = { subtitle: null, audio: null };
  $('#encrypted-badge').hidden = true;
  $('#audio-only-note').hidden = true;
  $('#text-tracks').hidden = true;
  setChildren($('#text-track-list'));
  $('#text-track-form').reset();
}

/** The video's data arrived (or came again): notes and the text track list. */
export function showTracks(data) {
  video = data;
  $('#encrypted-badge').hidden = !data.encrypted;
  $('#audio-only-note').hidden = data.kind !== 'AUDIO';
  renderTextTracks();
}

/** Follows a new hls.js instance (null: none, e.g. Safari's own HLS, whose controls list the tracks). */
export function attachTracks(instance) {
  hls = instance;
  renderMenus();
  if (!hls) return;
  const own = hls;
  const later = (fn) => setTimeout(() => hls === own && fn(), 0);
  // hls.js picks its default track right after announcing the list: reapply the viewer's choice after that.
  own.on(Hls.Events.MANIFEST_PARSED, () => later(renderMenus));
  own.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, () => later(() => {
    applyWanted();
    renderMenus();
  }));
  own.on(Hls.Events.AUDIO_TRACKS_UPDATED, () => later(() => {
    applyWanted();
    renderMenus();
  }));
  own.on(Hls.Events.SUBTITLE_TRACK_SWITCH, () => hls === own && syncMenus());
  own.on(Hls.Events.AUDIO_TRACK_SWITCHED, () => hls === own && syncMenus());
}

function applyWanted() {
  if (wanted.subtitle === 'off') {
    if (hls.subtitleTrack !== -1) hls.subtitleTrack = -1;
  } else if (wanted.subtitle) {
    const i = findTrack(hls.subtitleTracks, wanted.subtitle);
    if (i >= 0 && i !== hls.subtitleTrack) {
      hls.subtitleDisplay = true;
      hls.subtitleTrack = i;
    }
  }
  if (wanted.audio) {
    const i = findTrack(hls.audioTracks, wanted.audio);
    if (i >= 0 && i !== hls.audioTrack) hls.audioTrack = i;
  }
}

function showMenu(select, shown) {
  select.hidden = !shown;
  select.closest('.field').hidden = !shown;
}

function renderMenus() {
  const subs = hls?.subtitleTracks || [];
  const audio = hls?.audioTracks || [];
  setChildren($('#subtitle-select'),
    h('option', { value: -1, text: 'Off' }),
    subs.map((t, i) => h('option', { value: i, text: trackLabel(t, `Subtitles ${i + 1}`) })));
  setChildren($('#audio-select'), audio.map((t, i) => h('option', { value: i, text: trackLabel(t, `Audio ${i + 1}`) })));
  showMenu($('#subtitle-select'), subs.length > 0);
  showMenu($('#audio-select'), audio.length > 1);
  syncMenus();
}

function syncMenus() {
  if (!hls) return;
  const sub = hls.subtitleDisplay ? hls.subtitleTrack : -1;
  $('#subtitle-select').value = String(sub >= 0 && sub < hls.subtitleTracks.length ? sub : -1);
  if (hls.audioTrack >= 0) $('#audio-select').value = String(hls.audioTrack);
}

function setSubtitle(index) {
  if (!hls) return;
  const track = hls.subtitleTracks[index];
  if (track) {
    wanted.subtitle = { name: track.name, lang: track.lang };
    hls.subtitleDisplay = true;
    hls.subtitleTrack = index;
  } else {
    wanted.subtitle = 'off';
    hls.subtitleTrack = -1;
  }
  syncMenus();
}

function setAudio(index) {
  const track = hls?.audioTracks[index];
  if (!track) return;
  wanted.audio = { name: track.name, lang: track.lang };
  hls.audioTrack = index;
}

// --- the "Text tracks" panel ------------------------------------------------------

function renderTextTracks() {
  const tracks = video?.textTracks || [];
  $('#text-tracks').hidden = !video;
  $('#text-tracks-count').textContent = tracks.length ? String(tracks.length) : '';
  $('#text-tracks-empty').hidden = tracks.length > 0;
  setChildren($('#text-track-list'), tracks.map((t) =>
    h('li', { class: 'text-track', dataset: { testid: 'text-track', trackId: t.id, language: t.language } },
      h('span', { class: 'text-track-lang mono', text: t.language }),
      h('span', { class: 'text-track-name', text: t.name || '' }),
      h('span', { class: 'chip', text: t.kind === 'CAPTIONS' ? 'Captions' : 'Subtitles' }),
      t.default && h('span', { class: 'chip chip-default', text: 'default' }),
      h('button', {
        class: 'btn btn-small btn-danger-ghost',
        type: 'button',
        dataset: { testid: 'delete-text-track' },
        title: `Delete the track ${describeTextTrack(t)}`,
        'aria-label': `Delete the text track ${describeTextTrack(t)}`,
        onclick: (e) => deleteTrack(t, e.currentTarget),
      }, icon('trash', 14), 'Delete'))));
}

async function deleteTrack(track, button) {
  const id = video?.id;
  button.disabled = true;
  try {
    await gql(DELETE_TEXT_TRACK, { id: track.id });
    if (video?.id !== id) return;
    toast(`The text track ${describeTextTrack(track)} was deleted.`);
    await reload();
  } catch (err) {
    button.disabled = false;
    if (err.code !== 'UNAUTHENTICATED') toastError(err.message, 'Could not delete the text track');
  }
}

async function addTrack() {
  const form = $('#text-track-form');
  const file = $('#text-track-file').files[0];
  const language = $('#text-track-language').value.trim();
  const problem = subtitleFileError(file) || (!language && 'Give the track’s language, e.g. “fr” or “pt-BR”.');
  if (problem) {
    toastError(problem, 'Cannot add the text track');
    return;
  }
  const id = video?.id;
  if (!id) return;
  const submit = $('#text-track-submit');
  submit.disabled = true;
  submit.textContent = 'Adding…';
  try {
    const content = decodeSubtitle(await file.arrayBuffer());
    const data = await gql(ADD_TEXT_TRACK, {
      videoId: id,
      language,
      name: $('#text-track-name').value.trim() || null,
      kind: $('#text-track-kind').value,
      isDefault: $('#text-track-default').checked,
      content,
    });
    if (video?.id !== id) return;
    form.reset();
    toast(`Added the text track ${describeTextTrack(data.addTextTrack)} from “${file.name}”.`);
    await reload();
  } catch (err) {
    if (err.code !== 'UNAUTHENTICATED') toastError(err.message, `Could not add “${file.name}”`);
  } finally {
    submit.disabled = false;
    submit.textContent = 'Add';
  }
}

/** hls.js reads the subtitle list from the master playlist: load it again, where playback was. */
async function reload() {
  try {
    await hooks.reload();
  } catch (err) {
    if (err.code !== 'UNAUTHENTICATED') toastError(err.message, 'Could not reload the player');
  }
}
