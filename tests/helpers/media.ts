// Media test helpers: the corpus (located by ./corpus), lavfi-generated clips, a real ProcessorContext
// (temp outDir, AbortController, binaries from resolveBinaries) and an ffprobe reader.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveBinaries } from "../../src/media/binaries";
import type { MediaSettings, ProcessorContext, ProgressReport } from "../../src/jobs/pipeline";

import { CORPUS_DIR } from "./corpus";
export { CORPUS_DIR };

export interface ManifestStream {
  index: number;
  type: "video" | "audio" | "data" | "subtitle" | "attachment";
  codec: string;
  width?: number;
  height?: number;
  pixFmt?: string;
  avgFrameRate?: string;
  fieldOrder?: string;
  attachedPic?: boolean;
  sampleRate?: number;
  channels?: number;
  channelLayout?: string;
}

export interface ManifestEntry {
  file: string;
  bytes: number;
  kind: "video" | "audio" | "image" | "bad";
  note: string;
  expect: {
    format_name?: string;
    durationSec?: number | null;
    nbStreams?: number;
    streams?: ManifestStream[];
    rotation?: number;
    tags?: Record<string, string>;
    ffmpegDecode?: string;
  };
}

let cached: ManifestEntry[] | null = null;
export function manifest(): ManifestEntry[] {
  cached ??= JSON.parse(require("node:fs").readFileSync(join(CORPUS_DIR, "MANIFEST.json"), "utf8")) as ManifestEntry[];
  return cached;
}
export const corpusPath = (file: string) => join(CORPUS_DIR, file);
export const corpusOf = (kind: ManifestEntry["kind"]) => manifest().filter((e) => e.kind === kind);
export function entry(file: string): ManifestEntry {
  const e = manifest().find((x) => x.file === file);
  if (!e) throw new Error(`not in MANIFEST: ${file}`);
  return e;
}

/** A fresh temp folder; `cleanup()` removes it. */
export function tempDir(prefix = "mn-media-"): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export function mediaSettings(over: Partial<MediaSettings> = {}): MediaSettings {
  const b = resolveBinaries({});
  return { ...b, stallMs: 120_000, timeoutMs: 600_000, maxPixels: 268_402_689, ...over };
}

export interface TestCtx<O> extends ProcessorContext<O> {
  controller: AbortController;
  reports: ProgressReport[];
}

export function makeCtx<O>(input: string, options: O, outDir: string, over: { media?: Partial<MediaSettings> } = {}): TestCtx<O> {
  const controller = new AbortController();
  const reports: ProgressReport[] = [];
  return {
    jobId: "test",
    input,
    inputProtocols: "file",
    outDir,
    options,
    media: mediaSettings(over.media),
    signal: controller.signal,
    progress: (p) => reports.push(p),
    controller,
    reports,
  };
}

export interface LavfiClip {
  durationSec: number;
  width: number;
  height: number;
  fps?: number;
  audio?: boolean;
  /** Cap the video bitrate (kbps), e.g. to stay under a rung's remux threshold. */
  videoKbps?: number;
}

/** A synthetic H.264 (+AAC) clip from lavfi testsrc2/sine. */
export function lavfiClip(path: string, c: LavfiClip): string {
  const fps = c.fps ?? 30;
  const args = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", `testsrc2=size=${c.width}x${c.height}:rate=${fps}:duration=${c.durationSec}`];
  if (c.audio !== false) args.push("-f", "lavfi", "-i", `sine=frequency=440:sample_rate=48000:duration=${c.durationSec}`);
  args.push("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p");
  if (c.videoKbps) args.push("-b:v", `${c.videoKbps}k`, "-maxrate", `${c.videoKbps}k`, "-bufsize", `${c.videoKbps * 2}k`);
  if (c.audio !== false) args.push("-c:a", "aac", "-b:a", "128k");
  args.push(path);
  const r = Bun.spawnSync(args, { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`lavfi clip failed: ${r.stderr.toString()}`);
  return path;
}

export interface Probed {
  format: { duration?: string; format_name?: string };
  streams: { codec_type: string; codec_name: string; width?: number; height?: number; sample_rate?: string; channels?: number; disposition?: Record<string, number>; side_data_list?: { rotation?: number }[] }[];
}

/** ffprobe JSON of an output (HLS playlists need the crypto/data protocols ffprobe's hls demuxer asks for). */
export function ffprobe(path: string): Probed {
  const r = Bun.spawnSync(["ffprobe", "-v", "error", "-protocol_whitelist", "file,crypto,data", "-show_format", "-show_streams", "-of", "json", "-i", path], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`ffprobe ${path}: ${r.stderr.toString()}`);
  return JSON.parse(r.stdout.toString()) as Probed;
}

/** Is a process whose command line contains `needle` still running? */
export function processRunning(needle: string): boolean {
  const r = Bun.spawnSync(["pgrep", "-f", needle], { stdout: "pipe" });
  return r.exitCode === 0 && r.stdout.toString().trim().length > 0;
}
