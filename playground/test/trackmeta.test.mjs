// node --test playground/test — track labels, matching and subtitle file decoding (pure, no browser).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeSubtitle, describeTextTrack, findTrack, subtitleFileError, trackLabel } from '../src/trackmeta.js';

test('trackLabel: name (language) from the API or from hls.js', () => {
  assert.equal(trackLabel({ name: 'Français', language: 'fr' }), 'Français (fr)');
  assert.equal(trackLabel({ name: 'English', lang: 'en' }), 'English (en)');
  assert.equal(trackLabel({ name: '', language: 'de' }), 'de');
  assert.equal(trackLabel({ name: 'Commentary' }), 'Commentary');
  assert.equal(trackLabel({ name: 'fr', lang: 'FR' }), 'fr', 'no "fr (FR)"');
  assert.equal(trackLabel({}, 'Subtitles 2'), 'Subtitles 2');
  assert.equal(trackLabel(undefined), 'Track');
});

test('describeTextTrack lists language, name, kind and default', () => {
  assert.equal(describeTextTrack({ language: 'fr', name: 'Français', kind: 'SUBTITLES', default: true }), 'fr · Français · Subtitles · default');
  assert.equal(describeTextTrack({ language: 'en', name: null, kind: 'CAPTIONS', default: false }), 'en · Captions');
});

test('findTrack matches a remembered choice, exactly or by language', () => {
  const tracks = [{ name: 'English', lang: 'en' }, { name: 'Français', lang: 'fr' }, { name: 'Français (SDH)', lang: 'fr' }];
  assert.equal(findTrack(tracks, { name: 'Français (SDH)', lang: 'fr' }), 2);
  assert.equal(findTrack(tracks, { name: 'Renamed', lang: 'FR' }), 1);
  assert.equal(findTrack(tracks, { name: 'Deutsch', lang: 'de' }), -1);
  assert.equal(findTrack(tracks, null), -1);
  assert.equal(findTrack([], { lang: 'en' }), -1);
  assert.equal(findTrack([{ name: 'x' }], { name: 'y' }), -1, 'no language: no loose match');
});

test('subtitleFileError accepts .vtt and .srt only', () => {
  assert.equal(subtitleFileError({ name: 'a.vtt', size: 10 }), null);
  assert.equal(subtitleFileError({ name: 'B.SRT', size: 10 }), null);
  assert.match(subtitleFileError(null), /Choose/);
  assert.match(subtitleFileError({ name: 'movie.mp4', size: 10 }), /not a \.vtt or \.srt/);
  assert.match(subtitleFileError({ name: 'a.vtt', size: 0 }), /empty/);
});

test('decodeSubtitle: UTF-8 (with or without BOM), UTF-16, Windows-1252', () => {
  const text = '1\n00:00:01,000 --> 00:00:02,000\nÇa va, été ?\n';
  assert.equal(decodeSubtitle(new TextEncoder().encode(text)), text);
  assert.equal(decodeSubtitle(new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('WEBVTT')])), 'WEBVTT');
  const utf16 = new Uint8Array([0xff, 0xfe, ...[...'été'].flatMap((c) => [c.charCodeAt(0), 0])]);
  assert.equal(decodeSubtitle(utf16.buffer), 'été');
  const cp1252 = { '–': 0x96, '€': 0x80, '’': 0x92, 'Ÿ': 0x9f };
  const latin = Uint8Array.from('Ça va, l’été ? – 5 €, Ÿ', (c) => cp1252[c] ?? c.charCodeAt(0));
  assert.equal(decodeSubtitle(latin), 'Ça va, l’été ? – 5 €, Ÿ');
  assert.equal(decodeSubtitle(Uint8Array.from({ length: 32 }, (_, i) => 0x80 + i)).length, 32);
});
