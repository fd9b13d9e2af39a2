// Live video events over /graphql/ws (graphql-transport-ws, graphql-ws client).
import { createClient } from 'graphql-ws';
import { apiUrl, request, PING, VIDEO_EVENTS } from './api.js';
import { authHeader } from './auth.js';

const wsUrl = () => apiUrl('graphql/ws').replace(/^http/, 'ws');

// Close codes that may mean the connection_init payload (our token) was refused:
// 4401/4403 per graphql-transport-ws; async-graphql closes with 1002 and the reason.
const AUTH_CLOSE_CODES = new Set([4401, 4403, 1002]);
const isCloseEvent = (e) => e && typeof e === 'object' && 'code' in e && 'reason' in e;

/**
 * Subscribes to `videoEvents` and keeps the subscription alive across network
 * drops and server restarts.
 *   onEvent(event)      every VideoEvent
 *   onState(state)      'connecting' | 'live' | 'offline'
 *   onResync()          after a reconnect: events may have been missed
 */
export function startLive({ onEvent, onState, onResync }) {
  let client = null;
  let unsubscribe = null;
  let stopped = false;
  let resubscribeTimer = null;
  let connectedOnce = false;

  function connect() {
    client = createClient({
      url: wsUrl(),
      connectionParams: () => ({ Authorization: authHeader() }),
      lazy: false,
      keepAlive: 15_000,
      retryAttempts: Infinity,
      shouldRetry: (e) => !(isCloseEvent(e) && AUTH_CLOSE_CODES.has(e.code)),
      retryWait: async (retries) => {
        const ms = Math.min(1000 * 2 ** retries, 15_000) * (0.75 + Math.random() / 2);
        await new Promise((r) => setTimeout(r, ms));
      },
      onNonLazyError: () => {},
      on: {
        connecting: () => onState(connectedOnce ? 'offline' : 'connecting'),
        connected: () => {
          onState('live');
          if (connectedOnce) onResync();
          connectedOnce = true;
        },
        closed: (event) => {
          if (stopped) return;
          onState('offline');
          if (isCloseEvent(event) && AUTH_CLOSE_CODES.has(event.code)) checkToken();
        },
      },
    });
    subscribe();
  }

  function subscribe() {
    unsubscribe = client.subscribe(
      { query: VIDEO_EVENTS },
      {
        next: ({ data, errors }) => {
          if (data?.videoEvents) onEvent(data.videoEvents);
          if (errors?.length) console.warn('videoEvents:', errors);
        },
        error: (err) => {
          if (stopped) return;
          onState('offline');
          // GraphQL errors or a fatal close: make sure the token is still good (an
          // expired one is reported to the UI), then try again in a while.
          checkToken();
          clearTimeout(resubscribeTimer);
          resubscribeTimer = setTimeout(() => {
            if (stopped) return;
            restart();
          }, 5000);
        },
        complete: () => {},
      },
    );
  }

  // The socket was refused: ask over HTTP, which reports UNAUTHENTICATED to the UI.
  async function checkToken() {
    try {
      await request(PING);
    } catch {
      /* request() already reported it */
    }
  }

  function restart() {
    stop();
    stopped = false;
    connect();
  }

  function stop() {
    stopped = true;
    clearTimeout(resubscribeTimer);
    try {
      unsubscribe?.();
    } catch {
      /* already closed */
    }
    // dispose() waits for a pending connection, and rejects if that one is refused.
    Promise.resolve(client?.dispose()).catch(() => {});
    client = null;
  }

  connect();
  return { stop, restart };
}
