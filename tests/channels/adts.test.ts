import { expect, test } from "bun:test";
import { join } from "node:path";
import { CORPUS_DIR } from "../helpers/corpus";
import { AdtsError, createAdtsFrameStream, parseAdtsFrames } from "../../src/channels/adts";
import { aacTrack, frameIndexAt, TrackError } from "../../src/channels/track";

/** A 7-byte ADTS header (no CRC) for a frame of `length` bytes. */
function header(length: number, rateIndex = 3, channels = 2): Uint8Array {
  return new Uint8Array([0xff, 0xf1, (1 << 6) | (rateIndex << 2) | (channels >> 2), ((channels & 3) << 6) | (length >> 11), (length >> 3) & 0xff, ((length & 7) << 5) | 0x1f, 0xfc]);
}

test("frames are found by their headers: offset, length, rate, channels, 1024 samples", () => {
  const a = new Uint8Array(20);
  a.set(header(20));
  const b = new Uint8Array(9);
  b.set(header(9, 4, 1));
  const frames = parseAdtsFrames(Uint8Array.from([...a, ...b]));
  expect(frames).toEqual([
    { offset: 0, length: 20, sampleRate: 48000, channels: 2, samples: 1024 },
    { offset: 20, length: 9, sampleRate: 44100, channels: 1, samples: 1024 },
  ]);
});

test("a lost sync word, a truncated frame and a bad rate are AdtsErrors", () => {
  const a = new Uint8Array(20);
  a.set(header(20));
  expect(() => parseAdtsFrames(a.subarray(0, 15))).toThrow(/truncated/);
  expect(() => parseAdtsFrames(Uint8Array.from([...a, 0, 0, 0, 0, 0, 0, 0, 0]))).toThrow(/sync/);
  const bad = a.slice();
  bad.set(header(20, 15));
  expect(() => parseAdtsFrames(bad)).toThrow(AdtsError);
  expect(() => aacTrack(new Uint8Array([1, 2, 3]))).toThrow(TrackError);
});

test("a real ADTS file: every byte is in a frame and the times add up", async () => {
  const bytes = new Uint8Array(await Bun.file(join(CORPUS_DIR, "audio-aac-adts.aac")).arrayBuffer());
  const frames = parseAdtsFrames(bytes);
  expect(frames.reduce((s, f) => s + f.length, 0)).toBe(bytes.length);
  const t = aacTrack(bytes);
  expect(t.durationSec).toBeCloseTo(frames.length * (1024 / t.sampleRate), 6);
  const mid = t.frames[10]!;
  expect(frameIndexAt(t, mid.startSec + mid.durSec / 2)).toBe(10);
  expect(frameIndexAt(t, mid.startSec)).toBe(10);
  expect(frameIndexAt(t, -1)).toBe(0);
  expect(frameIndexAt(t, 1e9)).toBe(t.frames.length - 1);
});

test("the frame stream gives whole frames however a pipe cuts the bytes, and refuses a zero-length header", () => {
  const frames = [20, 9, 300, 7].map((n, i) => {
    const f = new Uint8Array(n).fill(i + 1);
    f.set(header(n));
    return f;
  });
  const all = Uint8Array.from(frames.flatMap((f) => [...f]));
  for (const cut of [1, 5, 7, 13, 1000]) {
    const s = createAdtsFrameStream();
    const got: Uint8Array[] = [];
    for (let i = 0; i < all.length; i += cut) got.push(...s.push(all.subarray(i, i + cut)).map((x) => x.data));
    expect(got.map((g) => [...g])).toEqual(frames.map((f) => [...f]));
  }
  expect(() => createAdtsFrameStream().push(header(3))).toThrow(AdtsError);
});
