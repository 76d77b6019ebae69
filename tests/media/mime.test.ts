// Content-Type of every kind of output medianode serves (SPEC §10), one table.
import { expect, test } from "bun:test";
import { mimeFor } from "../../src/media/mime";

test.each([
  ["master.m3u8", "application/vnd.apple.mpegurl"],
  ["720p/index.m3u8", "application/vnd.apple.mpegurl"],
  ["720p/seg_001.ts", "video/mp2t"],
  ["720p/seg_001.m4s", "video/iso.segment"],
  ["video.mp4", "video/mp4"],
  ["storyboard.vtt", "text/vtt; charset=utf-8"],
  ["thumb.webp", "image/webp"],
  ["preview.avif", "image/avif"],
  ["poster.jpg", "image/jpeg"],
  ["audio-96k.opus", "audio/ogg"],
  ["audio.aac", "audio/aac"],
  ["audio-128k.m4a", "audio/mp4"],
  ["audio-192k.mp3", "audio/mpeg"],
  ["waveform.json", "application/json"],
  ["POSTER.JPG", "image/jpeg"],
  ["no-extension", "application/octet-stream"],
  ["strange.exe", "application/octet-stream"],
])("%s → %s", (name, type) => {
  expect(mimeFor(name)).toBe(type);
});
