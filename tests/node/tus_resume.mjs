// Uploads FILE to REEL_SERVER with tus-js-client in small chunks, aborts at ~40 %,
// then resumes from the upload URL; prints what happened as one JSON line.
import fs from 'node:fs';
import * as tus from 'tus-js-client';

const { REEL_SERVER, REEL_TOKEN, FILE } = process.env;
const data = fs.readFileSync(FILE);
const headers = { Authorization: `Bearer ${REEL_TOKEN}` };
const common = {
  endpoint: `${REEL_SERVER}/files/`,
  chunkSize: 256 * 1024,
  headers,
  metadata: { filename: 'clip.bin', filetype: 'application/octet-stream', autoTranscode: 'false' },
  retryDelays: [0, 200, 500],
};

const url = await new Promise((resolve, reject) => {
  let stopped = false;
  const upload = new tus.Upload(data, {
    ...common,
    onProgress(sent, total) {
      if (!stopped && sent >= total * 0.4) {
        stopped = true;
        upload.abort().then(() => resolve(upload.url), reject);
      }
    },
    onError: reject,
    onSuccess: () => reject(new Error('finished before it could be interrupted')),
  });
  upload.start();
});

const head = await fetch(url, { method: 'HEAD', headers: { ...headers, 'Tus-Resumable': '1.0.0' } });
const offsetAfterAbort = Number(head.headers.get('upload-offset'));

let resumedFrom = null;
let videoId = null;
await new Promise((resolve, reject) => {
  const upload = new tus.Upload(data, {
    ...common,
    uploadUrl: url,
    onProgress(sent) {
      if (resumedFrom === null) resumedFrom = sent;
    },
    onAfterResponse(_req, res) {
      const vid = res.getHeader('Reel-Video-Id');
      if (vid) videoId = vid;
    },
    onError: reject,
    onSuccess: resolve,
  });
  upload.start();
});

console.log(JSON.stringify({ url, size: data.length, offsetAfterAbort, resumedFrom, videoId }));
