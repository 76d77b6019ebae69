import { expect, test } from "bun:test";
import { describeVideoSource } from "../../../src/jobs/video/ladder";
import { planStoryboard, spriteLayout, storyboardFpsArgs, storyboardFpsChain, storyboardKeyframeArgs, storyboardVtt } from "../../../src/jobs/video/storyboard";
import { video1080p, video960x540, videoRotated90, videoTiny } from "../../helpers/probe-fixtures";

test.each([
  ["5 s clip, 5 s interval", video960x540, 5, { intervalSec: 5, tileWidth: 160, tileHeight: 90, expectedTiles: 2 }],
  ["363 s clip: interval raised to keep ≤100 tiles", video1080p, 2, { intervalSec: 4, tileWidth: 160, tileHeight: 90, expectedTiles: 91 }],
  ["rotated: portrait tiles", videoRotated90, 5, { intervalSec: 5, tileWidth: 160, tileHeight: 284, expectedTiles: 2 }],
  ["tiny 10x6: tiles never wider than the source", videoTiny, 10, { intervalSec: 10, tileWidth: 10, tileHeight: 6, expectedTiles: 7 }],
] as const)("planStoryboard: %s", (_n, probe, interval, want) => {
  expect(planStoryboard(describeVideoSource(probe), interval, 160)).toEqual(want);
});

test("fps path: fps filter branch; keyframe path: -skip_frame nokey before -i and select", () => {
  const src = describeVideoSource(video960x540);
  const plan = planStoryboard(src, 5, 160);
  expect(storyboardFpsChain(plan)).toBe("fps=1/5:round=down:eof_action=pass,scale=160:90");
  const fps = storyboardFpsArgs("/in", "file", src, plan, "/o/%05d.jpg");
  expect(fps).not.toContain("-skip_frame");
  const kf = storyboardKeyframeArgs("/in", "file", src, plan, "/o/%05d.jpg");
  expect(kf.indexOf("-skip_frame")).toBeLessThan(kf.indexOf("-i"));
  expect(kf[kf.indexOf("-skip_frame") + 1]).toBe("nokey");
  expect(kf[kf.indexOf("-filter_complex") + 1]).toBe("[0:0]select=isnan(prev_selected_t)+gte(t-prev_selected_t\\,5),scale=160:90[sb]");
});

test("sprite layout and WebVTT cues with #xywh fragments", () => {
  const layout = spriteLayout(12, 160, 90);
  expect(layout).toEqual({ columns: 10, rows: 2, tileWidth: 160, tileHeight: 90 });
  const vtt = storyboardVtt(12, layout, 5, 58.5);
  const lines = vtt.split("\n");
  expect(lines[0]).toBe("WEBVTT");
  expect(lines).toContain("00:00:00.000 --> 00:00:05.000");
  expect(lines).toContain("storyboard.jpg#xywh=0,0,160,90");
  expect(lines).toContain("storyboard.jpg#xywh=160,90,160,90");
  expect(lines).toContain("00:00:55.000 --> 00:00:58.500");
});
