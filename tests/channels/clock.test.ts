import { expect, test } from "bun:test";
import { endLive, goLive, locate, playlistSec, type ClockState } from "../../src/channels/clock";

const clock = (o: Partial<ClockState> = {}): ClockState => ({ epochMs: 1_000_000, loop: true, tracksSec: [10, 5], pausedSec: 0, liveSinceMs: null, ...o });

test.each([
  [0, { index: 0, offsetSec: 0, lap: 0, trackStartSec: 0 }],
  [9.5, { index: 0, offsetSec: 9.5, lap: 0, trackStartSec: 0 }],
  [12, { index: 1, offsetSec: 2, lap: 0, trackStartSec: 10 }],
  [15, { index: 0, offsetSec: 0, lap: 1, trackStartSec: 15 }],
  [31, { index: 0, offsetSec: 1, lap: 2, trackStartSec: 30 }],
])("looping playlist at %p s", (sec, want) => {
  const got = locate(clock(), sec)!;
  expect(got.index).toBe(want.index);
  expect(got.lap).toBe(want.lap);
  expect(got.offsetSec).toBeCloseTo(want.offsetSec, 9);
  expect(got.trackStartSec).toBeCloseTo(want.trackStartSec, 9);
});

test("a non-looping playlist ends; an empty one has no position", () => {
  expect(locate(clock({ loop: false }), 14.9)!.index).toBe(1);
  expect(locate(clock({ loop: false }), 15)).toBeNull();
  expect(locate(clock({ tracksSec: [] }), 0)).toBeNull();
});

test("playlist seconds come from the epoch alone: two nodes asking at the same instant agree", () => {
  const c = clock();
  expect(playlistSec(c, 1_012_500)).toBe(12.5);
  expect(playlistSec({ ...c }, 1_012_500)).toBe(playlistSec(c, 1_012_500));
  expect(playlistSec(c, 0)).toBe(0);
});

test("a broadcast stops the playlist and it resumes where it stood", () => {
  const live = goLive(clock(), 1_004_000);
  expect(playlistSec(live, 1_009_000)).toBe(4);
  expect(goLive(live, 1_005_000)).toBe(live);
  const back = endLive(live, 1_010_000);
  expect(back.liveSinceMs).toBeNull();
  expect(back.pausedSec).toBe(6);
  expect(playlistSec(back, 1_010_000)).toBe(4);
  expect(playlistSec(back, 1_011_000)).toBe(5);
  expect(endLive(back, 1_020_000)).toBe(back);
});
