// The contract every job type implements. A processor runs inside a media-pool thread
// (src/pool/thread.ts): it gets plain data, a signal and a progress callback, and
// returns its outputs. It never touches SQLite, BullMQ or HTTP.
import type { TSchema, Static } from "@sinclair/typebox";
import type { JobType } from "../jobs/schema";
import type { OutputFile } from "./schema";
import type { MediaLimits } from "../media/limits";

export interface MediaSettings {
  ffmpeg: string | null;
  ffprobe: string | null;
  ffmpegFrom: "config" | "path" | "bundled" | null;
  /** Kill ffmpeg when it reports no progress this long. */
  stallMs: number;
  /** Kill the whole job after this long. */
  timeoutMs: number;
  /** Image decompression-bomb guard. */
  maxPixels: number;
  /** Duration, frame size and density bounds for audio/video sources (issue #12). */
  limits?: MediaLimits;
  /** Hardware encoders whose device came up on this node (media/hardware.ts): what hwaccel "auto" may use. */
  hwEncoders?: string[];
  /** heif-convert (libheif), when installed: HEIC/HEIF decoding. */
  heifConvert?: string | null;
}

export interface ProgressReport {
  /** 0–100 for the whole job. */
  progress: number;
  etaSec?: number;
  /** Per-rendition percent, for video (e.g. {"1080p": 40, "720p": 40}). */
  renditions?: Record<string, number>;
}

export interface ProcessorContext<O> {
  jobId: string;
  /** Local path of the source bytes, or an http://127.0.0.1 range-proxy URL for a probe of a URL source. */
  input: string;
  /** Protocols ffmpeg may use for `input` ("file", or "http,tcp" behind the local range proxy). */
  inputProtocols: string;
  /** Empty folder for this attempt's outputs; names in outputs are relative to it. */
  outDir: string;
  options: O;
  media: MediaSettings;
  signal: AbortSignal;
  progress(p: ProgressReport): void;
}

export interface ProcessorOutput {
  outputs: OutputFile[];
  result: Record<string, unknown>;
}

export interface Pipeline<S extends TSchema = TSchema, R = Static<S>> {
  type: JobType;
  /** Options schema: unknown keys refused, each field with a description and default. */
  options: S;
  /** Fills in defaults; the stored job keeps the resolved options. */
  defaults(input: Static<S>): R;
  /** Capabilities the resolved options imply (added to options.require, so routing sees them). */
  requires?(resolved: R): string[];
  /** What a source must be for this job type (checked on upload and before the run). */
  accepts: readonly ("video" | "audio" | "image")[];
  run(ctx: ProcessorContext<R>): Promise<ProcessorOutput>;
}
