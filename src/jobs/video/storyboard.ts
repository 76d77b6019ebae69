// Storyboard: small frames every N seconds, packed into one sprite (storyboard.jpg) with a
// WebVTT index (#xywh=). Two ways to get the frames, both pure argv builders so the bench
// can compare them:
// - fps (default): a branch of the ladder's split, so it costs a scale on 1 frame in N·fps
//   and no extra decode;
// - keyframe: a second ffmpeg run that decodes keyframes only (-skip_frame nokey); cheap on
//   long-GOP sources, but a second demux and tiles land on keyframes, not on the grid.
import { inputArgs } from "../../media/ffmpeg";
import type { VideoSource } from "./ladder";

export const STORYBOARD_MAX_TILES = 100;
export const STORYBOARD_COLUMNS = 10;

export interface StoryboardPlan {
  intervalSec: number;
  tileWidth: number;
  tileHeight: number;
  /** Tiles expected from the probed duration (the real count is what ffmpeg wrote). */
  expectedTiles: number;
}

const even = (n: number) => Math.max(2, 2 * Math.round(n / 2));

export function planStoryboard(src: Pick<VideoSource, "width" | "height" | "durationSec">, intervalSec: number, tileWidth: number): StoryboardPlan {
  const d = src.durationSec ?? 0;
  const interval = Math.max(intervalSec, Math.ceil(d / STORYBOARD_MAX_TILES));
  const w = Math.min(even(tileWidth), even(src.width));
  return {
    intervalSec: interval,
    tileWidth: w,
    tileHeight: even((w * src.height) / src.width),
    expectedTiles: Math.max(1, Math.min(STORYBOARD_MAX_TILES, Math.floor(d / interval) + 1)),
  };
}

/**
 * The filter chain of the fps branch (after the split label). round=down makes tile i the
 * first frame at or after i·interval; eof_action=pass keeps the last, partial interval
 * (without it a clip shorter than the interval gets no tile at all).
 */
export function storyboardFpsChain(plan: StoryboardPlan, between: readonly string[] = []): string {
  return [`fps=1/${plan.intervalSec}:round=down:eof_action=pass`, ...between, `scale=${plan.tileWidth}:${plan.tileHeight}`].join(",");
}

/** Output args writing the tiles as numbered JPEGs (`framesPattern` like /out/.storyboard/%05d.jpg). */
export function storyboardOutputArgs(mapLabel: string, framesPattern: string): string[] {
  return ["-map", mapLabel, "-c:v", "mjpeg", "-q:v", "5", "-frames:v", String(STORYBOARD_MAX_TILES), "-f", "image2", framesPattern];
}

/** Standalone fps-filter run (the bench compares it with the keyframe run). */
export function storyboardFpsArgs(input: string, protocols: string, src: VideoSource, plan: StoryboardPlan, framesPattern: string): string[] {
  return [
    "-loglevel", "error",
    ...inputArgs(input, protocols),
    "-filter_complex", `[0:${src.videoIndex}]${storyboardFpsChain(plan)}[sb]`,
    ...storyboardOutputArgs("[sb]", framesPattern),
  ];
}

/**
 * Keyframe-only run: the decoder skips every non-key frame, then select keeps one keyframe
 * per interval. Tiles are at keyframe times, so the VTT grid is approximate.
 */
export function storyboardKeyframeArgs(input: string, protocols: string, src: VideoSource, plan: StoryboardPlan, framesPattern: string, tonemap: string | null = null): string[] {
  const select = `select=isnan(prev_selected_t)+gte(t-prev_selected_t\\,${plan.intervalSec})`;
  return [
    "-loglevel", "error",
    "-skip_frame", "nokey",
    ...inputArgs(input, protocols),
    "-filter_complex", `[0:${src.videoIndex}]${[select, ...(tonemap ? [tonemap] : []), `scale=${plan.tileWidth}:${plan.tileHeight}`].join(",")}[sb]`,
    "-vsync", "vfr",
    ...storyboardOutputArgs("[sb]", framesPattern),
  ];
}

export interface SpriteLayout {
  columns: number;
  rows: number;
  tileWidth: number;
  tileHeight: number;
}

export function spriteLayout(tiles: number, tileWidth: number, tileHeight: number): SpriteLayout {
  const columns = Math.max(1, Math.min(STORYBOARD_COLUMNS, tiles));
  return { columns, rows: Math.max(1, Math.ceil(tiles / columns)), tileWidth, tileHeight };
}

function vttTime(sec: number): string {
  const ms = Math.round(sec * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

/** WebVTT: one cue per tile, pointing into the sprite with a media fragment. */
export function storyboardVtt(tiles: number, layout: SpriteLayout, intervalSec: number, durationSec: number | null, spriteName = "storyboard.jpg"): string {
  const lines = ["WEBVTT", ""];
  for (let i = 0; i < tiles; i++) {
    const start = i * intervalSec;
    const last = i === tiles - 1;
    const end = last && durationSec !== null && durationSec > start ? durationSec : start + intervalSec;
    const x = (i % layout.columns) * layout.tileWidth;
    const y = Math.floor(i / layout.columns) * layout.tileHeight;
    lines.push(`${vttTime(start)} --> ${vttTime(end)}`, `${spriteName}#xywh=${x},${y},${layout.tileWidth},${layout.tileHeight}`, "");
  }
  return lines.join("\n");
}
