import { describe, expect, test } from "bun:test";
import { buildThumbnailPlan, clampTime, frameTimes, prescale } from "../../../src/jobs/thumbnail/args";
import { thumbnailDefaults, type ThumbnailOptionsInput } from "../../../src/jobs/thumbnail/options";
import { video1080p, video960x540, videoAudioFirst, videoRotated90 } from "../../helpers/probe-fixtures";

describe("frameTimes", () => {
  test.each<[string, ThumbnailOptionsInput, number | null, number[]]>([
    ["default: 3 frames evenly spread", {}, 8, [2, 4, 6]],
    ["count 1 → the middle", { count: 1 }, 10, [5]],
    ["given times, clamped before the end", { times: [0, 1.5, 99] }, 10, [0, 1.5, 9.5]],
    ["every 2 s", { everySec: 2 }, 7, [0, 2, 4, 6]],
    ["every N s on a clip shorter than N → one frame at 0", { everySec: 30 }, 5, [0]],
    ["unknown duration: times unclamped", { times: [3] }, null, [3]],
  ])("%s", (_n, o, d, want) => {
    expect(frameTimes(thumbnailDefaults(o), d)).toEqual(want);
  });

  test("everySec is capped at 100 frames", () => {
    expect(frameTimes(thumbnailDefaults({ everySec: 1 }), 3600)).toHaveLength(100);
  });

  test("times and everySec together are refused", () => {
    expect(() => thumbnailDefaults({ times: [1], everySec: 2 })).toThrow(expect.objectContaining({ code: "INVALID_OPTIONS" }));
  });
});

test.each([
  [0.3, 0.2, 0.1],
  [5, 0, 5],
  [-1, 10, 0],
])("clampTime(%d, %d) = %d", (t, d, want) => expect(clampTime(t, d)).toBe(want));

test.each([
  [{ width: 1920, height: 1080 }, 320, "640x360"],
  [{ width: 720, height: 1280 }, 320, "360x640"],
  [{ width: 320, height: 240 }, 320, "320x240"],
])("prescale(%o, %d) = %s (2× box, never enlarged)", (src, size, want) => {
  const r = prescale(src, size);
  expect(`${r.width}x${r.height}`).toBe(want);
});

describe("buildThumbnailPlan", () => {
  test("fast seek: -ss before each -i, one input per frame, one output each", () => {
    const p = buildThumbnailPlan(video960x540, thumbnailDefaults({}), "/in/src", "file", "/out");
    expect(p.runs).toHaveLength(1);
    const a = p.runs[0]!;
    const ss = a.flatMap((x, i) => (x === "-ss" ? [i] : []));
    const is = a.flatMap((x, i) => (x === "-i" ? [i] : []));
    expect(ss).toHaveLength(3);
    ss.forEach((s, k) => expect(s).toBeLessThan(is[k]!));
    expect(a.filter((x) => x === "-protocol_whitelist")).toHaveLength(3);
    expect(a.filter((x) => x === "-frames:v")).toHaveLength(3);
    expect(p.frames.map((f) => f.name)).toEqual(["frame-001.webp", "frame-002.webp", "frame-003.webp"]);
    expect(a).toContain("scale=640:360,setsar=1");
  });

  test("rotated source: pre-scale on the displayed (portrait) size", () => {
    expect(buildThumbnailPlan(videoRotated90, thumbnailDefaults({}), "/in", "file", "/out").runs[0]).toContain("scale=360:640,setsar=1");
  });

  test("maps the video stream by its index (audio first in the .mov)", () => {
    const a = buildThumbnailPlan(videoAudioFirst, thumbnailDefaults({ count: 2 }), "/in", "file", "/out").runs[0]!;
    expect(a.filter((x, i) => a[i - 1] === "-map")).toEqual(["0:1", "1:1"]);
  });

  test("many frames: batches of 20 inputs per run; jpeg names", () => {
    const p = buildThumbnailPlan(video1080p, thumbnailDefaults({ everySec: 10, format: "jpeg" }), "/in", "file", "/out");
    expect(p.frames).toHaveLength(37);
    expect(p.runs.map((r) => r.filter((x) => x === "-i").length)).toEqual([20, 17]);
    expect(p.frames[0]!.name).toBe("frame-001.jpg");
  });
});
