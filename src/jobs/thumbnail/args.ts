// The thumbnail job's ffmpeg argv (pure): one run with one input per frame, each opened
// with -ss BEFORE -i (fast seek: demuxer jumps to the keyframe before t, then decodes to t),
// each writing one PNG pre-scaled to twice the final size; sharp does the final resize.
import { join } from "node:path";
import { inputArgs } from "../../media/ffmpeg";
import type { ProbeResult } from "../../media/probe";
import { describeVideoSource, type VideoSource } from "../video/ladder";
import { MAX_FRAMES, type ResolvedThumbnailOptions } from "./options";

/** Inputs per ffmpeg run: each open input holds a demuxer and a decoder. */
export const FRAMES_PER_RUN = 20;
export const FRAMES_DIR = ".frames";

const EXT = { webp: "webp", jpeg: "jpg", png: "png", avif: "avif" } as const;

/** A time ffmpeg can still find a frame at: not past the last frame. */
export function clampTime(t: number, durationSec: number | null): number {
  if (!durationSec || durationSec <= 0) return t;
  const last = Math.max(0, durationSec - Math.min(0.5, durationSec / 2));
  return Math.round(Math.min(Math.max(0, t), last) * 1000) / 1000;
}

/** Which seconds to take frames at. Pure. */
export function frameTimes(o: ResolvedThumbnailOptions, durationSec: number | null): number[] {
  const d = durationSec ?? 0;
  let times: number[];
  if (o.mode === "times") times = o.times;
  else if (o.mode === "every") {
    times = [];
    for (let t = 0; times.length < MAX_FRAMES && (t < d || times.length === 0); t += o.everySec) times.push(t);
  } else times = Array.from({ length: o.count }, (_, i) => (d * (i + 1)) / (o.count + 1));
  return times.map((t) => clampTime(t, durationSec));
}

export interface FramePlan {
  index: number;
  atSec: number;
  /** Intermediate PNG and final file, under outDir. */
  raw: string;
  name: string;
}

export interface ThumbnailPlan {
  src: VideoSource;
  frames: FramePlan[];
  /** One argv per batch of FRAMES_PER_RUN frames. */
  runs: string[][];
}

/** Pre-scale size: fits 2× the final box (sharp downsizes from there), even, never enlarged. */
export function prescale(src: { width: number; height: number }, size: number): { width: number; height: number } {
  const box = size * 2;
  const k = Math.min(1, box / Math.max(src.width, src.height));
  const even = (n: number) => Math.max(2, 2 * Math.round((n * k) / 2));
  return { width: even(src.width), height: even(src.height) };
}

export function buildThumbnailPlan(probe: ProbeResult, o: ResolvedThumbnailOptions, input: string, protocols: string, outDir: string): ThumbnailPlan {
  const src = describeVideoSource(probe);
  const frames: FramePlan[] = frameTimes(o, src.durationSec).map((atSec, i) => {
    const n = String(i + 1).padStart(3, "0");
    return { index: i, atSec, raw: join(outDir, FRAMES_DIR, `${n}.png`), name: `frame-${n}.${EXT[o.format]}` };
  });
  const { width, height } = prescale(src, o.size);
  const runs: string[][] = [];
  for (let b = 0; b < frames.length; b += FRAMES_PER_RUN) {
    const batch = frames.slice(b, b + FRAMES_PER_RUN);
    const args = ["-loglevel", "error"];
    for (const f of batch) args.push("-ss", String(f.atSec), ...inputArgs(input, protocols));
    batch.forEach((f, i) => args.push("-map", `${i}:${src.videoIndex}`, "-frames:v", "1", "-vf", `scale=${width}:${height},setsar=1`, "-update", "1", f.raw));
    runs.push(args);
  }
  return { src, frames, runs };
}
