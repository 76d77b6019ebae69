import { expect, test } from "bun:test";
import { collectFrames, LEAD_SEC, planSend, SKIP_BEHIND_SEC } from "../../src/channels/pacer";
import type { StreamTrack } from "../../src/channels/track";

/** A track of `n` frames of `dur` seconds. */
function track(n: number, dur = 0.02): StreamTrack {
  return { codec: "opus", sampleRate: 48000, channels: 2, durationSec: n * dur, opusHead: null, preSkip: 0, frames: Array.from({ length: n }, (_, i) => ({ data: new Uint8Array([i & 0xff]), startSec: i * dur, durSec: dur, samples: dur * 48000 })) };
}

test("the first send is a burst of at most 2 s from the clock", () => {
  expect(planSend({ cursorSec: null, clockSec: 3, blocked: false })).toEqual({ fromSec: 3, toSec: 3 + LEAD_SEC, skippedSec: 0, fresh: true });
  expect(planSend({ cursorSec: null, clockSec: 3, blocked: false, leadSec: 10 }).toSec).toBe(5);
});

test("then real time: from the cursor to the clock plus the lead", () => {
  expect(planSend({ cursorSec: 4.5, clockSec: 3.1, blocked: false })).toEqual({ fromSec: 4.5, toSec: 3.1 + LEAD_SEC, skippedSec: 0, fresh: false });
});

test("a blocked socket gets nothing; one too far behind is skipped forward to the clock", () => {
  expect(planSend({ cursorSec: 2, clockSec: 3, blocked: true })).toMatchObject({ fromSec: 2, toSec: 2, skippedSec: 0 });
  const p = planSend({ cursorSec: 1, clockSec: 1 + SKIP_BEHIND_SEC + 1, blocked: false });
  expect(p.skippedSec).toBe(SKIP_BEHIND_SEC + 1);
  expect(p.fromSec).toBe(1 + SKIP_BEHIND_SEC + 1);
  expect(p.fresh).toBe(true);
});

test("frames are collected across a track change and a lap; the cursor is the next frame's start", () => {
  const tracks = [track(50), track(25)]; // 1 s and 0.5 s
  const clock = { tracksSec: [1, 0.5], loop: true };
  const c = collectFrames(clock, (i) => tracks[i]!, { fromSec: 0.9, toSec: 1.6, fresh: false });
  expect(c.spans.map((s) => [s.index, s.lap, s.frames.length])).toEqual([
    [0, 0, 5],
    [1, 0, 25],
    [0, 1, 5],
  ]);
  expect(c.nextSec).toBeCloseTo(1.6, 9);
  expect(c.ended).toBe(false);
});

test("a fresh start takes the frame playing at the position; an unloaded track holds the cursor", () => {
  const tracks = [track(50), null];
  const clock = { tracksSec: [1, 1], loop: false };
  const c = collectFrames(clock, (i) => tracks[i] ?? null, { fromSec: 0.505, toSec: 1.5, fresh: true });
  expect(c.spans[0]!.frames[0]!.startSec).toBeCloseTo(0.5, 9);
  expect(c.spans[0]!.frames.length).toBe(25);
  expect(c.nextSec).toBe(1);
});

test("frames past a track's scheduled length are dropped; a non-looping playlist ends", () => {
  const tracks = [track(100)]; // 2 s of frames, scheduled for 1 s
  const c = collectFrames({ tracksSec: [1], loop: false }, () => tracks[0]!, { fromSec: 0, toSec: 5, fresh: true });
  expect(c.spans[0]!.frames.length).toBe(50);
  expect(c.ended).toBe(true);
});
