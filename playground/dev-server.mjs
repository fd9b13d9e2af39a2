// Development server: serves dist/ at /playground/ and proxies everything else
// (GraphQL, the /graphql/ws WebSocket, tus uploads, /media/, /graphiql) to a Reel
// server, so the page and the API share one origin as they do when Reel serves it.
//
//   REEL_URL=http://127.0.0.1:8080 PORT=5173 node dev-server.mjs
//
// Run `npm run watch` beside it to rebuild dist/ on every change. No dependencies.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), 'dist');
const upstream = new URL(process.env.REEL_URL || 'http://127.0.0.1:8080');
const port = Number(process.env.PORT || 5173);
const host = process.env.HOST || '127.0.0.1';
const PREFIX = '/playground/';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

async function serveStatic(req, res) {
  const url = new URL(req.url, 'http://x');
  let rel = decodeURIComponent(url.pathname.slice(PREFIX.length)) || 'index.html';
  const file = normalize(join(root, rel));
  if (!file.startsWith(root + sep) && file !== root) {
    res.writeHead(403).end('forbidden');
    return;
  }
  let info = await stat(file).catch(() => null);
  let path = file;
  if (!info || info.isDirectory()) {
    // Unknown paths get the app (it has one page).
    path = join(root, 'index.html');
    info = await stat(path).catch(() => null);
    rel = 'index.html';
  }
  if (!info) {
    res.writeHead(503, { 'content-type': 'text/plain' }).end('dist/ is missing: run `npm run build` first\n');
    return;
  }
  res.writeHead(200, {
    'content-type': TYPES[extname(path)] || 'application/octet-stream',
    'content-length': info.size,
    'cache-control': 'no-cache',
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(path).pipe(res);
}

function proxy(req, res) {
  const headers = { ...req.headers, host: upstream.host };
  const out = http.request(
    { hostname: upstream.hostname, port: upstream.port || 80, method: req.method, path: req.url, headers },
    (up) => {
      res.writeHead(up.statusCode, up.statusMessage, up.rawHeaders);
      up.pipe(res);
    },
  );
  out.on('error', (err) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`Reel at ${upstream.origin} is not reachable: ${err.message}\n`);
  });
  // A client that goes away (an aborted upload chunk) must not leave Reel waiting
  // for the rest of the body, holding the upload's lock.
  res.on('close', () => {
    if (!res.writableFinished) out.destroy();
  });
  req.pipe(out);
}

const server = http.createServer((req, res) => {
  const path = req.url.split('?')[0];
  if (path === '/playground' || path === '/') {
    res.writeHead(302, { location: PREFIX }).end();
  } else if (path.startsWith(PREFIX)) {
    serveStatic(req, res).catch((err) => {
      res.writeHead(500).end(String(err));
    });
  } else {
    proxy(req, res);
  }
});

// WebSocket (and any other) upgrades: a raw TCP tunnel to Reel.
server.on('upgrade', (req, socket, head) => {
  const up = net.connect(Number(upstream.port || 80), upstream.hostname, () => {
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i];
      lines.push(`${name}: ${name.toLowerCase() === 'host' ? upstream.host : req.rawHeaders[i + 1]}`);
    }
    up.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head?.length) up.write(head);
    up.pipe(socket);
    socket.pipe(up);
  });
  const close = () => {
    up.destroy();
    socket.destroy();
  };
  up.on('error', close);
  socket.on('error', close);
});

server.listen(port, host, () => {
  console.log(`playground: http://${host}:${port}${PREFIX}  (API proxied to ${upstream.origin})`);
});
