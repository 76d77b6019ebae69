import { describe, expect, test } from "bun:test";
import { describeVideoSource, planLadder, rungBitrateKbps, rungSize } from "../../../src/jobs/video/ladder";
import { videoDefaults } from "../../../src/jobs/video/options";
import { audioMp3Cover, video1080p, video240p, video960x540, videoHevc10bitRotatedMinus90, videoInterlaced, videoNoAudio, videoOddNoAudio, videoPortrait, videoRotated90, videoTiny, withBitrate } from "../../helpers/probe-fixtures";

const defaults = videoDefaults({});

describe("describeVideoSource", () => {
  test.each([
    ["video1080p", video1080p, 1920, 1080, false, 1],
    ["videoRotated90 (coded 1280x720)", videoRotated90, 720, 1280, false, 1],
    ["videoHevc10bitRotatedMinus90", videoHevc10bitRotatedMinus90, 720, 1280, false, 1],
    ["videoInterlaced", videoInterlaced, 1920, 1080, true, 1],
    ["videoNoAudio", videoNoAudio, 1080, 720, false, null],
  ] as const)("%s", (_n, probe, w, h, interlaced, audioIndex) => {
    const s = describeVideoSource(probe);
    expect([s.width, s.height, s.interlaced, s.audioIndex]).toEqual([w, h, interlaced, audioIndex]);
  });

  test("cover art alone is not video (UNSUPPORTED_MEDIA)", () => {
    expect(() => describeVideoSource(audioMp3Cover)).toThrow(expect.objectContaining({ code: "UNSUPPORTED_MEDIA" }));
  });
});

describe("planLadder", () => {
  test.each([
    ["1080p source, default ladder", video1080p, defaults.renditions, ["1920x1080", "1280x720", "854x480", "640x360"]],
    ["960x540: rungs above the source dropped", video960x540, defaults.renditions, ["854x480", "640x360"]],
    ["240p source below every rung: one rung at its own size", video240p, defaults.renditions, ["320x240"]],
    ["rotated 90: portrait rungs on the displayed size", videoRotated90, defaults.renditions, ["720x1280", "480x854", "360x640"]],
    ["portrait coded 720x1080", videoPortrait, [720, 360], ["720x1080", "360x540"]],
    ["odd 161x121 made even", videoOddNoAudio, defaults.renditions, ["160x120"]],
    ["tiny 10x6", videoTiny, [360], ["10x6"]],
  ] as const)("%s", (_n, probe, renditions, sizes) => {
    const rungs = planLadder(describeVideoSource(probe), { ...defaults, renditions: [...renditions] });
    expect(rungs.map((r) => `${r.width}x${r.height}`)).toEqual([...sizes]);
    for (const r of rungs) expect([r.width % 2, r.height % 2]).toEqual([0, 0]);
  });

  test.each([
    ["H.264/AAC 320x240 at 170 kb/s fits its one rung", video240p, true],
    ["same source over the rung cap", withBitrate(video240p, 5_000_000), false],
    ["rotated source is re-encoded (TS cannot carry the display matrix)", videoRotated90, false],
    ["interlaced source is re-encoded", videoInterlaced, false],
    ["10-bit HEVC is re-encoded", videoHevc10bitRotatedMinus90, false],
    ["1080p H.264 at ~18 kb/s fits the 1080p rung", video1080p, true],
  ] as const)("remux: %s", (_n, probe, copy) => {
    expect(planLadder(describeVideoSource(probe), defaults)[0]!.copy).toBe(copy);
  });

  test("remux off: never a copy", () => {
    expect(planLadder(describeVideoSource(video240p), { ...defaults, remux: false })[0]!.copy).toBe(false);
  });

  test("only the top rung is ever copied", () => {
    expect(planLadder(describeVideoSource(video1080p), defaults).map((r) => r.copy)).toEqual([true, false, false, false]);
  });
});

test.each([
  [1080, 30, 5000],
  [720, 30, 2800],
  [360, 30, 800],
  [1080, 60, 7500],
  [600, 30, 2100],
])("rungBitrateKbps(%d, %d fps) = %d", (edge, fps, kbps) => {
  expect(rungBitrateKbps(edge, fps)).toBe(kbps);
});

test.each([
  [{ width: 1920, height: 1080 }, 720, "1280x720"],
  [{ width: 1080, height: 1920 }, 720, "720x1280"],
  [{ width: 960, height: 400 }, 360, "864x360"],
])("rungSize(%o, %d) = %s", (src, p, out) => {
  const s = rungSize(src, p);
  expect(`${s.width}x${s.height}`).toBe(out);
});
