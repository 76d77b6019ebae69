import { expect, test } from "bun:test";
import { FfmpegFailedError, TimeoutError } from "../../src/errors";
import { classifyFailure } from "../../src/media/job-ffmpeg";

const failed = (tail: string) => new FfmpegFailedError("ffmpeg exited with code 1", { exitCode: 1, stderrTail: tail });

test.each([
  ["[vp9 @ 0x1] Invalid sync code\n[vp9 @ 0x1] Invalid frame marker", "INVALID_INPUT"],
  ["Cannot determine format of input stream 0:0 after EOF\nError marking filters as finished", "INVALID_INPUT"],
  ["[mov,mp4] moov atom not found\nx.mp4: Invalid data found when processing input", "INVALID_INPUT"],
  ["[hls @ 0x1] failed to rename file: No space left on device", "STORAGE"],
  ["[libx264 @ 0x1] Error setting option profile to value high.", "FFMPEG_FAILED"],
])("%p → %s", (tail, code) => {
  expect((classifyFailure(failed(tail)) as { code: string }).code).toBe(code);
});

test("other errors pass through", () => {
  const e = new TimeoutError("stalled");
  expect(classifyFailure(e)).toBe(e);
});
