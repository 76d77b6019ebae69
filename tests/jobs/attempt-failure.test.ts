// The pure failure mapping of one attempt (jobs/attempt-failure.ts): code, retry, detail.
import { expect, test } from "bun:test";
import { attemptFailure, failureMessage } from "../../src/jobs/attempt-failure";
import {
  BadRequestError,
  CancelledError,
  FfmpegFailedError,
  ForbiddenError,
  InvalidInputError,
  PayloadTooLargeError,
  SourceUnreachableError,
  TimeoutError,
  UnavailableError,
  UnsupportedMediaError,
} from "../../src/errors";

test.each([
  // [what, thrown, abort reason, attempt, max, code, retryable, final]
  ["ffmpeg failed, attempts left", new FfmpegFailedError("exit 1"), undefined, 1, 3, "FFMPEG_FAILED", true, false],
  ["ffmpeg failed on the last attempt", new FfmpegFailedError("exit 1"), undefined, 3, 3, "FFMPEG_FAILED", true, true],
  ["corrupt input is never retried", new InvalidInputError("moov atom not found"), undefined, 1, 3, "INVALID_INPUT", false, true],
  ["unsupported media is never retried", new UnsupportedMediaError("not a video"), undefined, 1, 3, "UNSUPPORTED_MEDIA", false, true],
  ["a too-large download is bad input", new PayloadTooLargeError("over the cap"), undefined, 1, 3, "INVALID_INPUT", false, true],
  ["a refused URL is unreachable, and retried", new ForbiddenError("403"), undefined, 1, 3, "SOURCE_UNREACHABLE", true, false],
  ["a source that went away", new SourceUnreachableError("ECONNREFUSED"), undefined, 2, 3, "SOURCE_UNREACHABLE", true, false],
  ["a cancel wins over the error it caused", new FfmpegFailedError("killed"), new CancelledError("cancelled by request"), 1, 3, "CANCELLED", false, true],
  ["a timeout abort says TIMEOUT", new Error("aborted"), new TimeoutError("job timeout"), 1, 3, "TIMEOUT", true, false],
  ["a request-style code becomes a job code", new BadRequestError("bad"), undefined, 1, 3, "INVALID_INPUT", false, true],
  ["Redis gone mid-attempt is internal, retried", new UnavailableError("redis"), undefined, 1, 2, "INTERNAL", true, false],
  ["a plain error is internal", new Error("boom"), undefined, 1, 1, "INTERNAL", true, true],
  ["a full disk is STORAGE", Object.assign(new Error("write failed"), { code: "ENOSPC" }), undefined, 1, 3, "STORAGE", true, false],
  ["an abort reason that is not an error is ignored", new FfmpegFailedError("x"), "just a string", 1, 3, "FFMPEG_FAILED", true, false],
] as const)("%s", (_what, thrown, reason, attempt, max, code, retryable, final) => {
  const f = attemptFailure(thrown, reason, attempt, max);
  expect(f.error.code).toBe(code);
  expect(f.retryable).toBe(retryable);
  expect(f.final).toBe(final);
  expect(failureMessage(f).startsWith(`${code}: `)).toBe(true);
});

test("ffmpeg's stderr is kept to its last 4 KiB, and the probe the attempt ran on is kept", () => {
  const stderrTail = "x".repeat(5000) + "END";
  const f = attemptFailure(new FfmpegFailedError("exit 1", { stderrTail, probe: { format: "mov" } }), undefined, 1, 3);
  expect(f.error.stderrTail!.length).toBe(4096);
  expect(f.error.stderrTail!.endsWith("END")).toBe(true);
  expect(f.error.probe).toEqual({ format: "mov" });
  expect(attemptFailure(new FfmpegFailedError("exit 1"), undefined, 1, 3).error).toEqual({ code: "FFMPEG_FAILED", message: "exit 1" });
});

test("a TIMEOUT whose progress never rose past its first report is not retried (issue #12); one that progressed is", () => {
  const stuck = attemptFailure(new Error("aborted"), new TimeoutError("encode bound"), 1, 3, { progressed: false });
  expect([stuck.error.code, stuck.retryable, stuck.final]).toEqual(["TIMEOUT", false, true]);
  const moving = attemptFailure(new Error("aborted"), new TimeoutError("encode bound"), 1, 3, { progressed: true });
  expect([moving.error.code, moving.retryable, moving.final]).toEqual(["TIMEOUT", true, false]);
  // Progress says nothing about other codes.
  expect(attemptFailure(new FfmpegFailedError("exit 1"), undefined, 1, 3, { progressed: false }).retryable).toBe(true);
});

test("texts that reach the tenant are rewritten job-relative (message and stderr tail)", () => {
  const relative = (t: string) => t.replaceAll("<data>/media/j_1/", "");
  const f = attemptFailure(new FfmpegFailedError("cannot open <data>/media/j_1/source", { stderrTail: "<data>/media/j_1/source: Invalid data" }), undefined, 1, 3, { relative });
  expect(f.error.message).toBe("cannot open source");
  expect(f.error.stderrTail).toBe("source: Invalid data");
});
