// node --test playground/test — the WebVTT thumbnail parser (pure, no browser).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cueAt, parseThumbnailTrack, parseTimestamp } from '../src/vtt.js';

const VTT = `WEBVTT

00:00:00.000 --> 00:00:01.000
sprite.jpg#xywh=0,0,160,90

00:00:01.000 --> 00:00:02.000
sprite.jpg#xywh=160,0,160,90

00:01:02.500 --> 00:01:03.500
sprite.jpg#xywh=1440,180,160,90
`;
const TRACK = 'https://cdn.example.com/media/videos/8/4/thumbnails.vtt?exp=1&scope=%2Fvideos%2F8%2F4%2F&sig=aa';
const SPRITE = 'https://cdn.example.com/media/videos/8/4/sprite.jpg?exp=1&scope=%2Fvideos%2F8%2F4%2F&sig=bb';

test('timestamps', () => {
  assert.equal(parseTimestamp('00:01:02.500'), 62.5);
  assert.equal(parseTimestamp('01:02.5'), 62.5);
  assert.equal(parseTimestamp('1:00:00.000'), 3600);
  assert.ok(Number.isNaN(parseTimestamp('nope')));
});

test('cues use the signed sprite URL from the API', () => {
  const cues = parseThumbnailTrack(VTT, TRACK, SPRITE);
  assert.equal(cues.length, 3);
  assert.deepEqual(cues[1], { start: 1, end: 2, url: SPRITE, x: 160, y: 0, w: 160, h: 90 });
  assert.equal(cues[2].start, 62.5);
  assert.equal(cues[2].x, 1440);
});

test('another sheet in the same directory borrows the sprite signature', () => {
  const cues = parseThumbnailTrack(VTT.replaceAll('sprite.jpg', 'sprite-2.jpg'), TRACK, SPRITE);
  assert.equal(cues[0].url, `https://cdn.example.com/media/videos/8/4/sprite-2.jpg${new URL(SPRITE).search}`);
});

test('without a sprite URL references resolve against the track', () => {
  const cues = parseThumbnailTrack(VTT, TRACK, null);
  assert.equal(cues[0].url, 'https://cdn.example.com/media/videos/8/4/sprite.jpg');
});

test('CRLF, a BOM, cue ids and settings are accepted', () => {
  const text = '\uFEFFWEBVTT\r\n\r\n1\r\n00:00.000 --> 00:02.000 align:start\r\nsprite.jpg#xywh=1,2,3,4\r\n';
  const cues = parseThumbnailTrack(text, TRACK, SPRITE);
  assert.deepEqual(cues.map((c) => [c.start, c.end, c.x, c.y, c.w, c.h]), [[0, 2, 1, 2, 3, 4]]);
});

test('not a WebVTT file', () => {
  assert.throws(() => parseThumbnailTrack('<html>', TRACK, SPRITE), /WebVTT/);
});

test('cueAt picks the cue showing at a time', () => {
  const cues = parseThumbnailTrack(VTT, TRACK, SPRITE);
  assert.equal(cueAt(cues, 0.5).x, 0);
  assert.equal(cueAt(cues, 1).x, 160);
  assert.equal(cueAt(cues, 30).x, 160);
  assert.equal(cueAt(cues, 99).x, 1440);
  assert.equal(cueAt([], 1), null);
});
