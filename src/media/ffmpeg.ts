// The one place ffmpeg and ffprobe are spawned. Argument lists come from pure builders;
// this module adds process control: -progress parsing, cancel, timeout, stall, stderr tail.
import { CancelledError, FfmpegFailedError, MedianodeError, TimeoutError } from "../errors";
import { dieWithParent } from "../process";

export const STDERR_TAIL_BYTES = 4096;

/** Protocols an input may use: a local file only, so a playlist cannot reach files or the network (SPEC §7). */
export const FILE_ONLY_PROTOCOLS = "file";

/**
 * Demuxers a user's file may be opened with. Playlist and script formats (hls, dash, concat,
 * ffmetadata, sdp, lavfi…) are absent: a protocol whitelist alone still lets a playlist open
 * nested URLs of an allowed protocol (file://, or http:// past our SSRF proxy) (SPEC §7).
 */
export const MEDIA_DEMUXERS = [
  "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi", "mpegts", "mpeg", "mpegvideo", "ogg", "flv", "asf", "mxf", "dv",
  "mp3", "aac", "flac", "wav", "w64", "aiff", "caf", "amr", "ac3", "eac3", "dts", "truehd", "ivf", "obu", "h264", "hevc", "m4v", "mjpeg",
  "gif", "apng", "image2", "png_pipe", "jpeg_pipe", "webp_pipe", "tiff_pipe", "bmp_pipe", "gif_pipe", "svg_pipe", "j2k_pipe", "pgm_pipe", "ppm_pipe",
].join(",");

/** `-protocol_whitelist … -format_whitelist … -i path`: every input goes through this. */
export function inputArgs(path: string, protocols: string = FILE_ONLY_PROTOCOLS, formats: string = MEDIA_DEMUXERS): string[] {
  return ["-protocol_whitelist", protocols, "-format_whitelist", formats, "-i", path];
}

export interface FfmpegProgress {
  /** Media time written so far, seconds. */
  outTimeSec: number;
  /** 0–100 against the expected duration; null when it is unknown. */
  percent: number | null;
  /** Encoding speed as a multiple of real time. */
  speed: number | null;
  etaSec: number | null;
  frame: number | null;
  done: boolean;
}

/** Parses one `-progress` block (key=value lines ending with progress=continue|end). Pure. */
export function parseProgressBlock(lines: string[], durationSec: number | null): FfmpegProgress {
  const kv = new Map<string, string>();
  for (const l of lines) {
    const i = l.indexOf("=");
    if (i > 0) kv.set(l.slice(0, i).trim(), l.slice(i + 1).trim());
  }
  const us = Number(kv.get("out_time_us") ?? kv.get("out_time_ms") ?? NaN);
  const outTimeSec = Number.isFinite(us) && us > 0 ? us / 1e6 : 0;
  const speedRaw = kv.get("speed")?.replace(/x$/, "");
  const speed = speedRaw && Number.isFinite(Number(speedRaw)) && Number(speedRaw) > 0 ? Number(speedRaw) : null;
  const done = kv.get("progress") === "end";
  const percent = durationSec && durationSec > 0 ? Math.min(100, Math.max(0, (outTimeSec / durationSec) * 100)) : done ? 100 : null;
  const etaSec = done ? 0 : durationSec && speed ? Math.max(0, (durationSec - outTimeSec) / speed) : null;
  const frame = kv.has("frame") ? Number(kv.get("frame")) : null;
  return { outTimeSec, percent: done ? 100 : percent, speed, etaSec, frame, done };
}

export interface RunOptions {
  bin: string;
  /** Built by a pure builder; must not contain -progress (added here). */
  args: string[];
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Kill when no progress line arrives for this long (MEDIANODE_STALL_SEC). */
  stallMs?: number;
  /** Expected output duration, for percent and ETA. */
  durationSec?: number | null;
  onProgress?: (p: FfmpegProgress) => void;
  cwd?: string;
}

export interface RunResult {
  stderrTail: string;
  wallMs: number;
}

/** Keeps the last `max` bytes of a stream's text. */
export class TailBuffer {
  private text = "";
  constructor(private readonly max: number = STDERR_TAIL_BYTES) {}
  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > this.max * 2) this.text = this.text.slice(-this.max);
  }
  toString(): string {
    return this.text.slice(-this.max);
  }
}

async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of stream) {
    rest += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      onLine(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
    }
  }
  if (rest) onLine(rest);
}

/**
 * Runs ffmpeg to completion. Throws CancelledError (signal), TimeoutError (timeout or stall)
 * or FfmpegFailedError (non-zero exit, details carry exitCode and stderrTail).
 */
export async function runFfmpeg(o: RunOptions): Promise<RunResult> {
  if (o.signal?.aborted) throw new CancelledError("cancelled before ffmpeg started");
  const started = performance.now();
  const argv = [o.bin, "-hide_banner", "-nostdin", "-y", "-nostats", "-progress", "pipe:1", ...o.args];
  const proc = Bun.spawn(dieWithParent(argv), { stdin: "ignore", stdout: "pipe", stderr: "pipe", cwd: o.cwd });
  const tail = new TailBuffer();
  let killedFor: MedianodeError | null = null;
  const kill = (why: MedianodeError) => {
    if (killedFor) return;
    killedFor = why;
    proc.kill("SIGKILL");
  };
  let lastProgressAt = Date.now();
  const onAbort = () => kill(new CancelledError("cancelled"));
  o.signal?.addEventListener("abort", onAbort, { once: true });
  const timeout = o.timeoutMs ? setTimeout(() => kill(new TimeoutError(`ffmpeg ran longer than ${Math.round(o.timeoutMs! / 1000)} s`)), o.timeoutMs) : null;
  const stallTimer = o.stallMs
    ? setInterval(() => {
        if (Date.now() - lastProgressAt > o.stallMs!) kill(new TimeoutError(`ffmpeg reported no progress for ${Math.round(o.stallMs! / 1000)} s`));
      }, Math.min(1000, o.stallMs))
    : null;

  let block: string[] = [];
  const stdoutDone = readLines(proc.stdout, (line) => {
    block.push(line);
    if (line.startsWith("progress=")) {
      lastProgressAt = Date.now();
      const p = parseProgressBlock(block, o.durationSec ?? null);
      block = [];
      o.onProgress?.(p);
    }
  });
  const decoder = new TextDecoder();
  const stderrDone = (async () => {
    for await (const chunk of proc.stderr) tail.push(decoder.decode(chunk, { stream: true }));
  })();
  const code = await proc.exited;
  await Promise.allSettled([stdoutDone, stderrDone]);
  o.signal?.removeEventListener("abort", onAbort);
  if (timeout) clearTimeout(timeout);
  if (stallTimer) clearInterval(stallTimer);
  const stderrTail = tail.toString();
  if (killedFor) {
    const k = killedFor as MedianodeError;
    throw new MedianodeError(k.code, k.message, { stderrTail });
  }
  if (code !== 0) {
    throw new FfmpegFailedError(`ffmpeg exited with code ${code}: ${lastLine(stderrTail)}`, { exitCode: code, stderrTail });
  }
  return { stderrTail, wallMs: performance.now() - started };
}

export function lastLine(text: string): string {
  const lines = text.trim().split("\n").filter(Boolean);
  return (lines[lines.length - 1] ?? "").slice(0, 300);
}

/** Runs a short command (ffprobe) and returns stdout; same kill semantics, no progress. */
export async function runCapture(
  argv: string[],
  o: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderrTail: string; killed: MedianodeError | null }> {
  if (o.signal?.aborted) throw new CancelledError("cancelled");
  const proc = Bun.spawn(dieWithParent(argv), { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let killed: MedianodeError | null = null;
  const onAbort = () => {
    killed = new CancelledError("cancelled");
    proc.kill("SIGKILL");
  };
  o.signal?.addEventListener("abort", onAbort, { once: true });
  const timer = o.timeoutMs
    ? setTimeout(() => {
        killed = new TimeoutError(`${argv[0]} ran longer than ${Math.round(o.timeoutMs! / 1000)} s`);
        proc.kill("SIGKILL");
      }, o.timeoutMs)
    : null;
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  o.signal?.removeEventListener("abort", onAbort);
  if (timer) clearTimeout(timer);
  return { code, stdout, stderrTail: stderr.slice(-STDERR_TAIL_BYTES), killed };
}
