// The pure rules behind issue #12 (each also shown on a running node in its own test file).
import { expect, test } from "bun:test";
import { checkMediaLimits, outTimeBoundSec } from "../../src/media/limits";
import { breakerKey } from "../../src/events/webhooks/policy";
import { queryTokenAllowed } from "../../src/api/auth";

const limits = { maxDurationSec: 3600, maxFramePixels: 1920 * 1080, minBytesPerSec: 16 };
const video = (durationSec: number | null, width = 1280, height = 720) => ({ durationSec, streams: [{ index: 0, type: "video" as const, codec: "h264", width, height }] });

test.each([
  ["a normal clip", video(120), 5_000_000, null],
  ["too long", video(3601), 500_000_000, /MEDIANODE_MAX_DURATION_SEC/],
  ["too many pixels per frame", video(10, 3840, 2160), 5_000_000, /MEDIANODE_MAX_FRAME_PIXELS/],
  ["hours claimed in a few bytes", video(3000), 1448, /MEDIANODE_MIN_SOURCE_BYTES_PER_SEC/],
  ["a short tiny file is not held to the floor", video(30), 200, null],
  ["no duration: only the frame size is checked", video(null), 10, null],
])("checkMediaLimits: %s", (_n, probe, size, error) => {
  const run = () => checkMediaLimits(probe as Parameters<typeof checkMediaLimits>[0], size, limits);
  if (error) expect(run).toThrow(error);
  else expect(run).not.toThrow();
});

test("outTimeBoundSec: 1.25 × the probed duration + 30 s, none without a duration", () => {
  expect(outTimeBoundSec(100)).toBe(155);
  expect(outTimeBoundSec(null)).toBeNull();
  expect(outTimeBoundSec(0)).toBeNull();
});

test("breakerKey: per subscription, or per tenant and URL; never the URL alone", () => {
  expect(breakerKey({ webhook_id: "w_1", tenant: "a", url: "http://x" })).toBe("webhook:w_1");
  expect(breakerKey({ webhook_id: null, tenant: "a", url: "http://x" })).not.toBe(breakerKey({ webhook_id: null, tenant: "b", url: "http://x" }));
});

test.each([
  ["GET", "/v1/events", true],
  ["GET", "/v1/jobs/j_1/outputs/master.m3u8", true],
  ["HEAD", "/v1/jobs/j_1/outputs/a/b.ts", true],
  ["GET", "/v1/jobs", false],
  ["GET", "/v1/jobs/j_1", false],
  ["DELETE", "/v1/jobs/j_1/outputs/x", false],
  ["POST", "/v1/jobs", false],
  ["GET", "/v1/audit", false],
  ["GET", "/v1/stream", true],
  ["GET", "/v1/channels/radio/live", true],
  ["GET", "/v1/channels", false],
  ["GET", "/v1/channels/radio/listeners", false],
  ["POST", "/v1/channels/radio/live", false],
])("queryTokenAllowed(%s %s) = %p", (method, path, ok) => {
  expect(queryTokenAllowed(method, path)).toBe(ok);
});
