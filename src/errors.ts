// Errors are values with a stable code (SPEC §2, §3). The code → HTTP status and
// code → CLI exit tables live here; only api/app.ts and cli/output.ts apply them.

/** Job error codes: the fixed list of SPEC §2. */
export const JOB_ERROR_CODES = [
  "INVALID_INPUT",
  "UNSUPPORTED_MEDIA",
  "SOURCE_UNREACHABLE",
  "TIMEOUT",
  "CANCELLED",
  "FFMPEG_FAILED",
  "STORAGE",
  "INTERNAL",
] as const;
export type JobErrorCode = (typeof JOB_ERROR_CODES)[number];

/** API-only codes, for request errors that never become a job's error. */
export const API_ERROR_CODES = [
  "BAD_REQUEST",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "NOT_FOUND",
  "CONFLICT",
  "GONE",
  "PAYLOAD_TOO_LARGE",
  "INVALID_OPTIONS",
  "RATE_LIMITED",
  "UNAVAILABLE",
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];
export type ErrorCode = JobErrorCode | ApiErrorCode;

export const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  INVALID_INPUT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  GONE: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA: 415,
  INVALID_OPTIONS: 422,
  RATE_LIMITED: 429,
  SOURCE_UNREACHABLE: 422,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
  CANCELLED: 409,
  FFMPEG_FAILED: 500,
  STORAGE: 507,
  INTERNAL: 500,
};

/** Codes a retry cannot fix: the job fails at once (BullMQ UnrecoverableError). */
export const NON_RETRYABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["INVALID_INPUT", "UNSUPPORTED_MEDIA", "CANCELLED"]);

export class MedianodeError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
  get status(): number {
    return HTTP_STATUS[this.code];
  }
  toBody(): { error: { code: ErrorCode; message: string; details?: unknown } } {
    return { error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) } };
  }
}

const make = (code: ErrorCode) =>
  class extends MedianodeError {
    constructor(message: string, details?: unknown, options?: { cause?: unknown }) {
      super(code, message, details, options);
    }
  };

export class BadRequestError extends make("BAD_REQUEST") {}
export class UnauthorizedError extends make("UNAUTHORIZED") {}
export class ForbiddenError extends make("FORBIDDEN") {}
export class NotFoundError extends make("NOT_FOUND") {}
export class ConflictError extends make("CONFLICT") {}
/** A playback URL past its expiry, or revoked because the job's outputs were replaced or deleted (SPEC §10). */
export class GoneError extends make("GONE") {}
export class PayloadTooLargeError extends make("PAYLOAD_TOO_LARGE") {}
export class InvalidOptionsError extends make("INVALID_OPTIONS") {}
export class RateLimitedError extends make("RATE_LIMITED") {}
export class UnavailableError extends make("UNAVAILABLE") {}
export class InvalidInputError extends make("INVALID_INPUT") {}
export class UnsupportedMediaError extends make("UNSUPPORTED_MEDIA") {}
export class SourceUnreachableError extends make("SOURCE_UNREACHABLE") {}
export class TimeoutError extends make("TIMEOUT") {}
export class CancelledError extends make("CANCELLED") {}
export class FfmpegFailedError extends make("FFMPEG_FAILED") {}
export class StorageError extends make("STORAGE") {}
export class InternalError extends make("INTERNAL") {}

/** Anything thrown, as a MedianodeError (foreign errors become INTERNAL with a cause). */
export function toMedianodeError(e: unknown): MedianodeError {
  if (e instanceof MedianodeError) return e;
  const err = e instanceof Error ? e : new Error(String(e));
  const sysCode = "code" in err ? (err as { code?: unknown }).code : undefined;
  // Node's fs errors carry a code; libvips (sharp) only says it in the message.
  if (sysCode === "ENOSPC" || sysCode === "EDQUOT" || /No space left on device|Disk quota exceeded/i.test(err.message)) {
    return new StorageError("no space left on device", { reason: err.message.slice(0, 500) }, { cause: err });
  }
  // SQLite (bun:sqlite's SQLiteError carries the code): a full disk is STORAGE, another
  // process holding the write lock is a 503 to retry shortly, neither is INTERNAL.
  if (typeof sysCode === "string" && sysCode.startsWith("SQLITE_FULL")) {
    return new StorageError("the database's disk is full", { reason: err.message.slice(0, 200) }, { cause: err });
  }
  if (typeof sysCode === "string" && (sysCode.startsWith("SQLITE_BUSY") || sysCode.startsWith("SQLITE_LOCKED"))) {
    return new UnavailableError("the database is busy (another process holds its write lock); retry shortly", { retryAfterSec: 1 }, { cause: err });
  }
  return new InternalError(err.message || "internal error", undefined, { cause: err });
}

/** A plain {code, message} crosses threads and Redis; rebuild the class on the other side. */
export interface ErrorValue {
  code: ErrorCode;
  message: string;
  details?: unknown;
}
export function errorValue(e: unknown): ErrorValue {
  const m = toMedianodeError(e);
  return { code: m.code, message: m.message, ...(m.details === undefined ? {} : { details: m.details }) };
}
export function isErrorCode(x: unknown): x is ErrorCode {
  return typeof x === "string" && x in HTTP_STATUS;
}

/** CLI exit codes (SPEC §5): 0 ok, 1 job failed or refused, 2 usage, 3 server unreachable. */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

/**
 * A job's error carries a code from SPEC §2's fixed list. Request-style codes raised while a
 * worker fetches a source become the job code that says what happened to the job.
 */
export function toJobErrorCode(code: ErrorCode): JobErrorCode {
  if ((JOB_ERROR_CODES as readonly string[]).includes(code)) return code as JobErrorCode;
  if (code === "PAYLOAD_TOO_LARGE" || code === "BAD_REQUEST" || code === "INVALID_OPTIONS") return "INVALID_INPUT";
  if (code === "FORBIDDEN" || code === "NOT_FOUND" || code === "UNAUTHORIZED") return "SOURCE_UNREACHABLE";
  if (code === "UNAVAILABLE") return "INTERNAL";
  return "INTERNAL";
}
