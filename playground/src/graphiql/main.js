// GraphiQL for Reel, bundled with the playground so /graphiql works without the internet.
// Queries and mutations go to /graphql over HTTP, subscriptions to /graphql/ws, both with
// the headers typed in the headers pane (an `Authorization: Bearer <token>` from
// `createToken`).
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createClient } from 'graphql-ws';
import 'graphiql/graphiql.css';

const origin = window.location.origin;
const wsUrl = `${origin.replace(/^http/, 'ws')}/graphql/ws`;

/** Whether the document's operation (the named one, or the only one) is a subscription. */
function isSubscription({ query, operationName }) {
  const ops = [...(query || '').matchAll(/\b(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?/g)];
  const op = operationName ? ops.find((m) => m[2] === operationName) : ops[0];
  return op?.[1] === 'subscription';
}

function subscribe(params, headers) {
  const client = createClient({
    url: wsUrl,
    connectionParams: { Authorization: headers.Authorization || headers.authorization || '' },
    lazy: false,
  });
  const iterator = client.iterate(params);
  return {
    [Symbol.asyncIterator]: () => iterator,
    next: () => iterator.next(),
    return: async () => {
      await iterator.return?.();
      await client.dispose();
      return { done: true, value: undefined };
    },
  };
}

function fetcher(params, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (isSubscription(params)) return subscribe(params, headers);
  return fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(params),
  }).then((resp) => resp.json());
}

createRoot(document.getElementById('graphiql')).render(
  createElement(GraphiQL, {
    fetcher,
    defaultEditorToolsVisibility: 'headers',
    defaultHeaders: '{\n  "Authorization": "Bearer <a token from createToken>"\n}',
    defaultQuery: '{\n  videos(first: 10) {\n    edges { node { id sourceName status } }\n  }\n}\n',
  }),
);
