// The Reel playground: sign-in, uploads, library, player.
import './style.css';
import { PING, apiUrl } from './api.js';
import { decodeJwt, getToken, initAuth, onAuthChange, reportUnauthenticated, signIn, signOut, tokenExpiry } from './auth.js';
import { initDerived } from './derived.js';
import { $ } from './dom.js';
import { applyEvent, clearLibrary, describeVideo, ensureVideo, initLibrary, reload, resync } from './library.js';
import { startLive } from './live.js';
import { closePlayer, currentVideoId, initPlayer, openPlayer } from './player.js';
import { initUploads, pauseForSignIn, resumeAfterSignIn, videoChanged } from './uploads.js';

let live = null;

function setLiveState(state) {
  const el = $('#live-status');
  el.dataset.state = state;
  el.textContent = { live: 'Live', connecting: 'Connecting…', offline: 'Reconnecting…' }[state] || 'Offline';
  el.title = state === 'live'
    ? 'Status changes arrive live over /graphql/ws'
    : 'Live updates are not connected; retrying';
}

let expiryTimer = null;

/** Asks for a new token the moment this one expires, not on the next failing request. */
function scheduleExpiry() {
  clearTimeout(expiryTimer);
  const exp = getToken() ? tokenExpiry() : null;
  if (!exp) return;
  const ms = exp - Date.now();
  if (ms < 2 ** 31 - 1) expiryTimer = setTimeout(() => reportUnauthenticated(null), Math.max(0, ms));
}

function startSession() {
  $('#sign-out').hidden = false;
  scheduleExpiry();
  renderSession();
  reload();
  if (live) live.restart();
  else live = startLive({ onEvent: applyEvent, onState: setLiveState, onResync: resync });
}

function stopSession() {
  clearTimeout(expiryTimer);
  live?.stop();
  live = null;
  setLiveState('signed-out');
  $('#sign-out').hidden = true;
  renderSession();
}

function renderSession() {
  const el = $('#session-info');
  const exp = getToken() ? tokenExpiry() : null;
  if (!getToken()) {
    el.textContent = '';
    return;
  }
  if (!exp) {
    el.textContent = 'Signed in';
    el.title = '';
    return;
  }
  const left = exp - Date.now();
  if (left <= 0) {
    reportUnauthenticated(null);
    return;
  }
  const minutes = Math.round(left / 60000);
  el.textContent = minutes >= 120 ? `Session: ${Math.round(minutes / 60)} h left` : minutes >= 1 ? `Session: ${minutes} min left` : 'Session: less than a minute left';
  el.title = `The token expires at ${new Date(exp).toLocaleString()}`;
  el.classList.toggle('session-warn', left < 5 * 60000);
}

// --- sign-in dialog ----------------------------------------------------------

function showSignIn(message, detail) {
  const dialog = $('#signin-dialog');
  const note = $('#signin-message');
  note.hidden = !message;
  note.textContent = message || '';
  if (message && detail) note.append(document.createElement('br'), `(The server said: ${detail}.)`);
  $('#signin-error').hidden = true;
  $('#token-input').value = '';
  if (!dialog.open) dialog.showModal();
  $('#token-input').focus();
}

function initSignIn() {
  const dialog = $('#signin-dialog');
  // There is nothing to do without a token: Escape does not close it.
  dialog.addEventListener('cancel', (e) => {
    if (!getToken()) e.preventDefault();
  });
  const input = $('#token-input');
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      $('#signin-form').requestSubmit();
    }
  });
  $('#signin-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const error = $('#signin-error');
    const fail = (text) => {
      error.textContent = text;
      error.hidden = false;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    };
    let value = input.value.trim();
    const fromLink = /[#&]token=([^&\s]+)/.exec(value); // the whole sign-in link pasted
    if (fromLink) value = decodeURIComponent(fromLink[1]);
    value = value.replace(/^Bearer\s+/i, '');
    if (!value) return fail('Paste a token first.');
    const claims = decodeJwt(value);
    if (!claims) return fail('That is not a token: a JWT is three base64url parts separated by dots (eyJ….eyJ….…).');
    if (typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now()) {
      return fail(`That token expired at ${new Date(claims.exp * 1000).toLocaleString()}. Make a new one.`);
    }
    const button = $('#signin-submit');
    button.disabled = true;
    button.textContent = 'Checking…';
    try {
      const res = await fetch(apiUrl('graphql'), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${value}` },
        body: JSON.stringify({ query: PING }),
      });
      const body = await res.json().catch(() => null);
      if (res.status === 401 || body?.errors?.some((x) => x.extensions?.code === 'UNAUTHENTICATED')) {
        return fail(`The server refused this token: ${body?.message || body?.errors?.[0]?.message || 'unauthenticated'}.`);
      }
      if (!res.ok && !body?.data) return fail(`The server answered ${res.status} ${res.statusText}. Try again.`);
    } catch (err) {
      return fail(`Cannot reach the Reel server (${err.message}).`);
    } finally {
      button.disabled = false;
      button.textContent = 'Sign in';
    }
    input.removeAttribute('aria-invalid');
    dialog.close();
    signIn(value);
  });
  $('#sign-out').addEventListener('click', () => {
    closePlayer();
    clearLibrary();
    signOut();
  });
}

// --- start --------------------------------------------------------------------

function main() {
  initAuth();
  initSignIn();
  initUploads({ onVideoId: ensureVideo, describeVideo });
  initLibrary({
    onPlay: openPlayer,
    onChange: videoChanged,
    onDeleted: (id) => {
      if (currentVideoId() === id) closePlayer('The video you were watching was deleted.');
    },
  });
  initPlayer();
  initDerived({ open: openPlayer, refreshLibrary: reload });

  onAuthChange((event) => {
    if (event.type === 'signed-in') {
      startSession();
      resumeAfterSignIn();
    } else {
      stopSession();
      pauseForSignIn(event.message ? 'your session expired' : 'you signed out');
      showSignIn(event.message, event.detail);
    }
  });
  setInterval(renderSession, 15_000);

  if (getToken()) startSession();
  else {
    stopSession();
    showSignIn(null);
  }
}

main();
