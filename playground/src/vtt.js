// WebVTT thumbnail tracks: cues whose text is `sprite.jpg#xywh=x,y,w,h`.

/** "00:01:02.500" or "01:02.500" → seconds. */
export function parseTimestamp(value) {
  const m = /^(?:(\d+):)?(\d{1,2}):(\d{2})(?:[.,](\d{1,3}))?$/.exec(value.trim());
  if (!m) return NaN;
  const [, hh = '0', mm, ss, frac = '0'] = m;
  return Number(hh) * 3600 + Number(mm) * 60 + Number(ss) + Number(frac.padEnd(3, '0')) / 1000;
}

/**
 * Parses the track into [{ start, end, url, x, y, w, h }] sorted by start.
 * Image references are resolved against the track's URL. The track and the sheet are
 * signed separately, so a reference to the sheet the API handed out (`spriteUrl`)
 * uses that signed URL; another image in the same directory borrows its query
 * (the delivery token covers the whole directory).
 */
export function parseThumbnailTrack(text, trackUrl, spriteUrl = null) {
  const lines = String(text).replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  if (!/^WEBVTT/.test(lines[0] || '')) throw new Error('not a WebVTT file');
  const base = new URL(trackUrl, typeof location !== 'undefined' ? location.href : undefined);
  const sprite = spriteUrl ? new URL(spriteUrl, base) : null;
  const dir = (u) => u.origin + u.pathname.replace(/[^/]*$/, '');
  const cues = [];
  for (let i = 0; i < lines.length; i += 1) {
    if (!lines[i].includes('-->')) continue;
    const [startText, rest] = lines[i].split('-->');
    const start = parseTimestamp(startText);
    const end = parseTimestamp(rest.trim().split(/\s+/)[0]);
    let payload = '';
    for (let j = i + 1; j < lines.length && lines[j].trim() !== ''; j += 1) {
      payload = lines[j].trim();
      if (payload) break;
    }
    if (!Number.isFinite(start) || !Number.isFinite(end) || !payload) continue;
    const hashAt = payload.indexOf('#');
    const ref = hashAt >= 0 ? payload.slice(0, hashAt) : payload;
    const fragment = hashAt >= 0 ? payload.slice(hashAt + 1) : '';
    const xywh = /(?:^|&)xywh=(?:pixel:)?(\d+),(\d+),(\d+),(\d+)/.exec(fragment);
    if (!xywh) continue;
    const resolved = new URL(ref, base);
    let url = resolved.href;
    if (sprite && resolved.origin === sprite.origin && resolved.pathname === sprite.pathname) {
      url = sprite.href;
    } else if (sprite && !resolved.search && dir(resolved) === dir(sprite)) {
      url = resolved.origin + resolved.pathname + sprite.search;
    }
    const [x, y, w, h] = xywh.slice(1).map(Number);
    cues.push({ start, end, url, x, y, w, h });
  }
  cues.sort((a, b) => a.start - b.start);
  return cues;
}

/** The cue showing at `time` (the last one starting at or before it). */
export function cueAt(cues, time) {
  let lo = 0;
  let hi = cues.length - 1;
  let found = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cues[mid].start <= time) {
      found = cues[mid];
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found || cues[0] || null;
}
