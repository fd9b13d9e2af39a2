// Text and audio tracks: labels, matching a remembered choice, reading a subtitle file
// (pure, no browser: tested by test/trackmeta.test.mjs).

/**
 * "Français (fr)" for a track from the API (`language`) or from hls.js (`lang`);
 * the name or the language alone when the other is missing or the same.
 */
export function trackLabel({ name, language, lang } = {}, fallback = 'Track') {
  const code = String(language ?? lang ?? '').trim();
  const title = String(name ?? '').trim();
  if (title && code && title.toLowerCase() !== code.toLowerCase()) return `${title} (${code})`;
  return title || code || fallback;
}

export const TEXT_TRACK_KINDS = { SUBTITLES: 'Subtitles', CAPTIONS: 'Captions' };

/** "fr · Français · Captions · default" for the list of a video's text tracks. */
export function describeTextTrack(track) {
  const parts = [track.language || '?'];
  if (track.name && track.name !== track.language) parts.push(track.name);
  parts.push(TEXT_TRACK_KINDS[track.kind] || track.kind || TEXT_TRACK_KINDS.SUBTITLES);
  if (track.default) parts.push('default');
  return parts.join(' · ');
}

/** The index of the track that matches a remembered `{ name, lang }`, or -1. */
export function findTrack(tracks, wanted) {
  if (!wanted || !tracks?.length) return -1;
  const lang = (t) => String(t.lang ?? t.language ?? '').toLowerCase();
  const exact = tracks.findIndex((t) => lang(t) === lang(wanted) && (t.name || '') === (wanted.name || ''));
  return exact >= 0 ? exact : tracks.findIndex((t) => lang(t) && lang(t) === lang(wanted));
}

/** Why a file cannot be sent as a text track (null when it can): WebVTT or SubRip only. */
export function subtitleFileError(file) {
  if (!file) return 'Choose a WebVTT (.vtt) or SubRip (.srt) file.';
  if (!/\.(vtt|srt)$/i.test(file.name || '')) return `“${file.name}” is not a .vtt or .srt file.`;
  if (!file.size) return `“${file.name}” is empty.`;
  return null;
}

/**
 * A subtitle file's bytes as text: UTF-8 (or UTF-16 with a byte order mark), else
 * Windows-1252, which many .srt files still use; the byte order mark is dropped.
 */
export function decodeSubtitle(bytes) {
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (data[0] === 0xff && data[1] === 0xfe) return new TextDecoder('utf-16le').decode(data);
  if (data[0] === 0xfe && data[1] === 0xff) return new TextDecoder('utf-16be').decode(data);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    // By hand: some TextDecoders (Node's) treat windows-1252 as Latin-1.
    let text = '';
    for (const byte of data) text += byte >= 0x80 && byte < 0xa0 ? CP1252[byte - 0x80] : String.fromCharCode(byte);
    return text;
  }
}

// Windows-1252's 0x80–0x9F (the rest is Latin-1); its five unassigned bytes stay as they are.
const CP1252 = '€\x81‚ƒ„…†‡ˆ‰Š‹Œ\x8dŽ\x8f\x90‘’“”•–—˜™š›œ\x9džŸ';
