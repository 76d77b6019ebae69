// Everything the CLI prints goes through here: plain lines, tables, --json, the progress
// bar (a terminal) or progress lines (a pipe), and the error → exit code mapping (SPEC §5).
import { CommanderError } from "commander";
import cliProgress from "cli-progress";
import { ConfigError } from "../src/config/load";
import { EXIT, MedianodeError } from "../src/errors";

/** A place to write to; process.stdout/stderr in production, a buffer in tests. */
export interface OutStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface Io {
  stdout: OutStream;
  stderr: OutStream;
  env: Record<string, string | undefined>;
}

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

export const say = (io: Io, s = "") => void io.stdout.write(s + "\n");
export const warn = (io: Io, s: string) => void io.stderr.write(s + "\n");
export const printJson = (io: Io, value: unknown) => say(io, JSON.stringify(value, null, 2));

/** Left-aligned columns, two spaces apart; no colour so that output pastes anywhere. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n");
}

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

// ---- errors -----------------------------------------------------------------------

/** A mistake in how the command was called (exit 2). */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The server could not be reached at all (exit 3). */
export class UnreachableError extends Error {
  override name = "UnreachableError";
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    const why = (cause as { code?: string })?.code ?? (cause as Error)?.message ?? String(cause);
    super(`cannot reach medianode at ${url} (${why}): is it running? Point the CLI at it with --url or MEDIANODE_URL`, { cause });
  }
}

/** The server answered with an error body `{error:{code,message}}` (exit 1: refused). */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** A job that ended failed or cancelled (exit 1); already printed by the command. */
export class JobNotCompletedError extends Error {
  override name = "JobNotCompletedError";
}

const USAGE_CODES = new Set(["INVALID_OPTIONS", "BAD_REQUEST"]);

export function exitCodeFor(e: unknown): number {
  if (e instanceof CommanderError) {
    if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return EXIT.ok;
    if (e.code === "commander.help") return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    return EXIT.usage;
  }
  if (e instanceof UsageError || e instanceof ConfigError) return EXIT.usage;
  if (e instanceof UnreachableError) return EXIT.unreachable;
  // A local MedianodeError (token create with a bad scope) is a usage mistake; others are refusals.
  if (e instanceof MedianodeError) return USAGE_CODES.has(e.code) ? EXIT.usage : EXIT.failed;
  return EXIT.failed;
}

function detailLines(details: unknown): string[] {
  const errors = (details as { errors?: unknown } | undefined)?.errors;
  if (!Array.isArray(errors)) return [];
  return errors.map((x) => {
    if (typeof x === "string") return `  - ${x}`;
    const o = x as { path?: string; message?: string };
    return `  - ${o.path ?? ""} ${o.message ?? JSON.stringify(x)}`.trimEnd();
  });
}

/** Prints an error the way a user can act on it and returns the exit code. */
export function reportError(io: Io, e: unknown): number {
  const code = exitCodeFor(e);
  if (e instanceof CommanderError) return code; // commander already printed it (configureOutput)
  if (e instanceof JobNotCompletedError) return code;
  if (e instanceof ApiError) {
    warn(io, `error: ${e.code} (HTTP ${e.status}): ${e.message}`);
    for (const l of detailLines(e.details)) warn(io, l);
    if (e.status === 401) warn(io, "hint: pass --token or set MEDIANODE_TOKEN (on the server host the CLI reads <data-dir>/admin.token)");
    return code;
  }
  if (e instanceof MedianodeError) {
    warn(io, `error: ${e.code}: ${e.message}`);
    return code;
  }
  warn(io, `error: ${(e as Error)?.message ?? String(e)}`);
  return code;
}

// ---- progress ---------------------------------------------------------------------

export interface JobProgressView {
  id: string;
  status: string;
  progress: number;
  /** Why a queued job does not start (its live.waiting message), shown after the status. */
  note?: string;
}

export interface Progress {
  update(j: JobProgressView): void;
  stop(): void;
}

/**
 * A bar on a terminal (cli-progress), else one plain line per change of status or whole
 * percent: `job j_… active 42%`. Both go to stderr so stdout keeps only the result.
 */
const statusText = (j: JobProgressView) => (j.note ? `${j.status} (waiting: ${j.note})` : j.status);

export function createProgress(io: Io, opts: { quiet?: boolean } = {}): Progress {
  if (opts.quiet) return { update() {}, stop() {} };
  if (io.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: io.stderr as NodeJS.WritableStream,
        format: "{id} [{bar}] {percentage}% | {status}",
        hideCursor: true,
        clearOnComplete: false,
        barsize: 30,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(j) {
        const pct = Math.round(j.progress);
        if (!started) {
          bar.start(100, pct, { id: j.id, status: statusText(j) });
          started = true;
        } else bar.update(pct, { status: statusText(j) });
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let last = "";
  return {
    update(j) {
      const line = `job ${j.id} ${j.status} ${Math.round(j.progress)}%${j.note ? ` (waiting: ${j.note})` : ""}`;
      if (line !== last) warn(io, line);
      last = line;
    },
    stop() {},
  };
}
