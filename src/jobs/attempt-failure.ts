// What a failed attempt becomes: the job error recorded for it (SPEC §2: a code from the fixed
// list, the last 4 KiB of ffmpeg's stderr, the probe it ran on) and whether another attempt
// follows. Pure, so every case is a table row in tests/jobs/attempt-failure.test.ts.
import { NON_RETRYABLE, toJobErrorCode, toMedianodeError } from "../errors";
import type { JobError } from "./schema";

export interface AttemptFailure {
  error: JobError;
  /** Bad input or a cancel: no further attempt, whatever attempts are left. */
  retryable: boolean;
  /** This was the job's last attempt (not retryable, or none left). */
  final: boolean;
}

const STDERR_TAIL_BYTES = 4096;

/**
 * `thrown` is what the attempt threw; `abortReason` the reason of its abort signal when it was
 * aborted (a cancel, a timeout, a lost lock), which says more than the error it caused.
 */
export interface FailureContext {
  /**
   * Whether the attempt's progress rose past its first report. A TIMEOUT with no progress at
   * all is not retried: another attempt would spend the same hours on the same file (issue #12).
   */
  progressed?: boolean;
  /** Rewrites texts that reach the tenant so they name files relative to the job, not this node's paths. */
  relative?(text: string): string;
}

export function attemptFailure(thrown: unknown, abortReason: unknown, attempt: number, maxAttempts: number, c: FailureContext = {}): AttemptFailure {
  const rel = c.relative ?? ((s: string) => s);
  const raw = abortReason instanceof Error ? toMedianodeError(abortReason) : toMedianodeError(thrown);
  const code = toJobErrorCode(raw.code);
  const details = (raw.details ?? (thrown as { details?: unknown } | null)?.details) as { stderrTail?: unknown; probe?: unknown } | undefined;
  const error: JobError = {
    code,
    message: rel(raw.message),
    ...(typeof details?.stderrTail === "string" && details.stderrTail ? { stderrTail: rel(details.stderrTail).slice(-STDERR_TAIL_BYTES) } : {}),
    ...(details?.probe ? { probe: details.probe } : {}),
  };
  const retryable = !NON_RETRYABLE.has(code) && !(code === "TIMEOUT" && c.progressed === false);
  return { error, retryable, final: !retryable || attempt >= maxAttempts };
}

/** The error to throw for BullMQ, with the code first in its message (its failedReason). */
export function failureMessage(f: AttemptFailure): string {
  return `${f.error.code}: ${f.error.message}`;
}

