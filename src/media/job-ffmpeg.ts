// Runs a job's ffmpeg and tells bad input from a broken run. A probe that succeeds is not
// proof: a truncated or corrupt file can probe fine and fail (or stop early) on decode, and
// that must be INVALID_INPUT (not retried), not FFMPEG_FAILED (retried).
// Shared by the video, audio and thumbnail pipelines.
import { FfmpegFailedError, InvalidInputError, StorageError } from "../errors";
import { outTimeBoundSec } from "./limits";
import { lastLine, runFfmpeg, type FfmpegProgress, type RunOptions, type RunResult } from "./ffmpeg";

/** stderr lines that mean the input, not ffmpeg, is at fault. */
export const DECODE_FAILURE =
  /Invalid data found when processing input|moov atom not found|could not find codec parameters|Error while decoding|Invalid sync code|Invalid frame marker|File ended prematurely|Cannot determine format of input stream|EBML header parsing failed|Invalid NAL unit|decode_slice_header error|Picture size \d+x\d+ is invalid|Output file is empty|does not contain any stream|Error marking filters as finished|Truncating packet|partial file|corrupt/i;

/** Signs of a source that stopped early while ffmpeg still exited 0. */
const EARLY_END = /File ended prematurely|Truncating packet|partial file|Invalid data found|Error while decoding|Packet corrupt|corrupt/i;

export function classifyFailure(e: unknown): unknown {
  if (!(e instanceof FfmpegFailedError)) return e;
  const tail = (e.details as { stderrTail?: string } | undefined)?.stderrTail ?? "";
  // A full disk is the node's problem, not the file's (STORAGE is retried, maybe elsewhere).
  if (/No space left on device/i.test(tail)) return new StorageError("no space left on device while writing outputs", { stderrTail: tail }, { cause: e });
  if (DECODE_FAILURE.test(tail)) return new InvalidInputError(`the source could not be decoded: ${lastLine(tail)}`, { stderrTail: tail }, { cause: e });
  return e;
}

export interface JobRunResult extends RunResult {
  /** Media time written when ffmpeg finished. */
  outTimeSec: number;
}

/**
 * runFfmpeg + failure classification + a truncation check: when the source's probed
 * duration is known and ffmpeg stopped well short of it, the file is truncated.
 */
export async function runJobFfmpeg(o: RunOptions & { checkTruncation?: boolean }): Promise<JobRunResult> {
  let outTimeSec = 0;
  // A source that decodes to far more than its probed duration (timestamp gaps filled with
  // duplicated frames) is stopped: its frames and segments stay bounded by what was checked.
  const bound = outTimeBoundSec(o.durationSec);
  const overrun = new AbortController();
  const onProgress = (p: FfmpegProgress) => {
    if (p.outTimeSec > outTimeSec) outTimeSec = p.outTimeSec;
    if (bound !== null && p.outTimeSec > bound && !overrun.signal.aborted) {
      overrun.abort(new InvalidInputError(`the source decodes to more than ${Math.round(bound)} s, past its probed ${Math.round(o.durationSec!)} s: stopped`, { outTimeSec: p.outTimeSec }));
    }
    o.onProgress?.(p);
  };
  const signal = o.signal ? AbortSignal.any([o.signal, overrun.signal]) : overrun.signal;
  let r: RunResult;
  try {
    r = await runFfmpeg({ ...o, signal, onProgress });
  } catch (e) {
    if (overrun.signal.aborted) throw overrun.signal.reason;
    throw classifyFailure(e);
  }
  const d = o.durationSec ?? 0;
  if (o.checkTruncation !== false && d > 2 && outTimeSec < d * 0.5 && (outTimeSec < d * 0.1 || EARLY_END.test(r.stderrTail))) {
    throw new InvalidInputError(`the source is truncated: decoded ${outTimeSec.toFixed(1)} s of ${d.toFixed(1)} s`, { stderrTail: r.stderrTail });
  }
  return { ...r, outTimeSec };
}

/** How much of the job's time budget is left, for the next ffmpeg run. */
export function remainingMs(startedAt: number, timeoutMs: number): number {
  return Math.max(1000, timeoutMs - (Date.now() - startedAt));
}
