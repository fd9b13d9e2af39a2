// The browser token (a JWT minted by `createToken`): taken from `#token=…` in the
// address (then removed from it), kept in sessionStorage for this tab.

const STORAGE_KEY = 'reel.playground.token';

export const EXPIRED_MESSAGE =
  'Your session expired — paste a new token or restart the server to get a new link.';

let token = null;
const listeners = new Set();

/** Reads the token from the address (preferred) or from sessionStorage. */
export function initAuth() {
  const fromHash = takeTokenFromHash();
  if (fromHash) {
    store(fromHash);
  } else {
    try {
      token = sessionStorage.getItem(STORAGE_KEY);
    } catch {
      token = null;
    }
  }
  return token;
}

function takeTokenFromHash() {
  const hash = location.hash.replace(/^#/, '');
  if (!hash) return null;
  const params = new URLSearchParams(hash);
  const value = params.get('token') || params.get('access_token');
  if (!value) return null;
  params.delete('token');
  params.delete('access_token');
  const rest = params.toString();
  // Keep the token out of the address bar, the history and bookmarks.
  history.replaceState(history.state, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
  return value.trim();
}

function store(value) {
  token = value;
  try {
    if (value) sessionStorage.setItem(STORAGE_KEY, value);
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    /* storage disabled: the token lives in memory for this page only */
  }
}

export const getToken = () => token;
export const authHeader = () => (token ? `Bearer ${token}` : '');

/** Replaces the token and tells every listener ({ type: 'signed-in' }). */
export function signIn(value) {
  store(value);
  emit({ type: 'signed-in' });
}

export function signOut() {
  store(null);
  emit({ type: 'signed-out', message: null });
}

/**
 * The API refused the token (HTTP 401 or UNAUTHENTICATED): forget it and ask for
 * a new one. `usedToken` is the token the failed request carried: a late answer to
 * a request made with an older token does not sign out the current one.
 */
export function reportUnauthenticated(detail, usedToken = token) {
  if (!token || usedToken !== token) return;
  store(null);
  emit({ type: 'signed-out', message: EXPIRED_MESSAGE, detail });
}

export function onAuthChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit(event) {
  for (const fn of listeners) fn(event);
}

/** The JWT's claims, or null when it is not a JWT. Not verified (the server does that). */
export function decodeJwt(value) {
  const parts = String(value || '').trim().split('.');
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = decodeURIComponent(
      Array.from(atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, '=')), (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join(''),
    );
    const claims = JSON.parse(json);
    return claims && typeof claims === 'object' ? claims : null;
  } catch {
    return null;
  }
}

/** Milliseconds since the epoch when the current token expires, or null. */
export function tokenExpiry(value = token) {
  const claims = decodeJwt(value);
  return claims && typeof claims.exp === 'number' ? claims.exp * 1000 : null;
}
