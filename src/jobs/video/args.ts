// The video job's ffmpeg argv, built purely from (probe, resolved options, paths): one run
// decodes the source once and feeds every rung, the poster and the storyboard through one
// filter_complex split; the HLS muxer writes all rungs with -var_stream_map.
import { join } from "node:path";
import { inputArgs, MEDIA_DEMUXERS } from "../../media/ffmpeg";
import { STRIP_METADATA } from "../../media/metadata";
import type { ProbeResult } from "../../media/probe";
import { describeVideoSource, planLadder, type Rung, type VideoSource } from "./ladder";
import type { ResolvedVideoOptions } from "./options";
import { planStoryboard, storyboardFpsChain, storyboardOutputArgs, type StoryboardPlan } from "./storyboard";

/** bwdif outputs one frame per frame (send_frame) and finds the field order itself. */
export const DEINTERLACE_FILTER = "bwdif=mode=send_frame:parity=auto:deint=all";
export const STORYBOARD_FRAMES_DIR = ".storyboard";
export const SEGMENT_PATTERN = "seg_%03d.ts";
export const PLAYLIST_NAME = "index.m3u8";
/** RFC 6381 string of the audio every encoded rung gets (ffmpeg's native aac: AAC-LC). */
export const AAC_LC_CODEC = "mp4a.40.2";

export interface VideoPlan {
  src: VideoSource;
  rungs: Rung[];
  /** Frame rate written (after the cap). */
  fps: number;
  keyint: number;
  posterAtSec: number | null;
  storyboard: StoryboardPlan | null;
  /** How video.mp4 is made: an extra output of the ladder run (copied rung), a remux of the top rung's segments afterwards, or not at all. */
  mp4: "inline" | "remux" | null;
  /** The one ladder run. */
  args: string[];
  /**
   * A fast-seek poster run, used only when nothing else in the ladder run decodes (every
   * rung copied, keyframe storyboard): a poster branch would make that run decode it all.
   */
  posterArgs: string[] | null;
}

/** Filters before the split: deinterlace, frame-rate cap. */
export function preFilters(src: VideoSource, maxFps: number): string[] {
  const f: string[] = [];
  if (src.interlaced) f.push(DEINTERLACE_FILTER);
  if (src.fps === null || src.fps > maxFps) f.push(`fps=${maxFps}`);
  return f;
}

/**
 * The x264 options of the encoded rung at output video index `i`: CRF capped by VBV
 * (maxrate/bufsize), and a fixed GOP of one segment (no scene-cut keyframes, a keyframe
 * forced on every segment boundary) so every rung cuts at the same times. All options are
 * per stream: a copied rung in the same output must not see them (-profile breaks a copy).
 */
export function x264RungArgs(i: number, rung: Rung, o: Pick<ResolvedVideoOptions, "preset" | "crf" | "segmentSec">, keyint: number): string[] {
  const v = `:v:${i}`;
  return [
    "-c" + v, "libx264",
    "-preset" + v, o.preset,
    "-crf" + v, String(o.crf),
    "-maxrate" + v, `${rung.maxrateKbps}k`,
    "-bufsize" + v, `${rung.bufsizeKbps}k`,
    "-profile" + v, "high",
    "-g" + v, String(keyint),
    "-keyint_min" + v, String(keyint),
    "-sc_threshold" + v, "0",
    "-force_key_frames" + v, `expr:gte(t,n_forced*${o.segmentSec})`,
  ];
}

export function varStreamMap(rungs: Rung[], hasAudio: boolean): string {
  return rungs.map((r, i) => (hasAudio ? `v:${i},a:${i},name:${r.name}` : `v:${i},name:${r.name}`)).join(" ");
}

export function buildVideoPlan(probe: ProbeResult, o: ResolvedVideoOptions, input: string, protocols: string, outDir: string): VideoPlan {
  const src = describeVideoSource(probe);
  const rungs = planLadder(src, o);
  const fps = src.fps === null || src.fps > o.maxFps ? o.maxFps : src.fps;
  const keyint = Math.max(1, Math.round(fps * o.segmentSec));
  const hasAudio = src.audioIndex !== null;
  const top = rungs[0]!;
  const d = src.durationSec;
  const posterAtSec = o.poster ? (d && d > 0 ? Math.round(Math.min(d * 0.1, 10) * 1000) / 1000 : 0) : null;
  const storyboard = o.storyboard ? planStoryboard(src, o.storyboardIntervalSec, o.storyboardTileWidth) : null;

  // One split feeds every branch that needs decoded frames.
  const branches: { label: string; chain: string }[] = [];
  rungs.forEach((r, i) => {
    if (!r.copy) branches.push({ label: `v${i}`, chain: `scale=${r.width}:${r.height},setsar=1,format=yuv420p` });
  });
  const decodes = branches.length > 0 || (storyboard !== null && o.storyboardMethod === "fps");
  const posterInline = posterAtSec !== null && decodes;
  if (posterInline) branches.push({ label: "poster", chain: `trim=start=${posterAtSec},scale=${top.width}:${top.height},setsar=1` });
  if (storyboard && o.storyboardMethod === "fps") branches.push({ label: "sb", chain: storyboardFpsChain(storyboard) });

  const args = ["-loglevel", "error", ...inputArgs(input, protocols)];
  if (branches.length) {
    const pre = preFilters(src, o.maxFps);
    const head = `[0:${src.videoIndex}]${[...pre, `split=${branches.length}`].join(",")}${branches.map((b) => `[s_${b.label}]`).join("")}`;
    args.push("-filter_complex", [head, ...branches.map((b) => `[s_${b.label}]${b.chain}[${b.label}]`)].join(";"));
  }

  // HLS: every rung's video (and its own audio copy) into one muxer.
  const maps: string[] = [];
  const codecs: string[] = [];
  rungs.forEach((r, i) => {
    maps.push("-map", r.copy ? `0:${src.videoIndex}` : `[v${i}]`);
    codecs.push(...(r.copy ? ["-c:v:" + i, "copy"] : x264RungArgs(i, r, o, keyint)));
  });
  if (hasAudio) {
    rungs.forEach((r, i) => {
      maps.push("-map", `0:${src.audioIndex}`);
      codecs.push(...(r.copy ? ["-c:a:" + i, "copy"] : ["-c:a:" + i, "aac", "-b:a:" + i, `${r.audioKbps}k`, "-ac:a:" + i, "2", "-ar:a:" + i, "48000"]));
    });
  }
  args.push(...maps, ...codecs);
  args.push(
    ...STRIP_METADATA,
    "-max_muxing_queue_size", "4096",
    "-f", "hls",
    "-hls_time", String(o.segmentSec),
    "-hls_playlist_type", "vod",
    "-hls_flags", "independent_segments",
    "-hls_segment_type", "mpegts",
    "-hls_segment_filename", join(outDir, "%v", SEGMENT_PATTERN),
    "-var_stream_map", varStreamMap(rungs, hasAudio),
    join(outDir, "%v", PLAYLIST_NAME),
  );

  // A copied top rung is already the MP4's content: write it from the same run.
  let mp4: VideoPlan["mp4"] = null;
  if (o.mp4 && top.copy) {
    mp4 = "inline";
    args.push("-map", `0:${src.videoIndex}`, ...(hasAudio ? ["-map", `0:${src.audioIndex}`] : []), "-c", "copy", ...STRIP_METADATA, "-movflags", "+faststart", "-max_muxing_queue_size", "4096", join(outDir, "video.mp4"));
  } else if (o.mp4) mp4 = "remux";

  const posterOut = ["-frames:v", "1", "-c:v", "mjpeg", "-q:v", "3", "-update", "1", join(outDir, "poster.jpg")];
  if (posterInline) args.push("-map", "[poster]", "-max_muxing_queue_size", "4096", ...posterOut);
  const posterArgs =
    posterAtSec !== null && !posterInline
      ? ["-loglevel", "error", "-ss", String(posterAtSec), ...inputArgs(input, protocols), "-map", `0:${src.videoIndex}`, "-vf", `scale=${top.width}:${top.height},setsar=1`, ...posterOut]
      : null;
  if (storyboard && o.storyboardMethod === "fps") args.push("-max_muxing_queue_size", "4096", ...storyboardOutputArgs("[sb]", join(outDir, STORYBOARD_FRAMES_DIR, "%05d.jpg")));
  return { src, rungs, fps, keyint, posterAtSec, storyboard, mp4, args, posterArgs };
}

/** video.mp4 from the top rung's segments: a stream copy, so no second encode. */
export function mp4RemuxArgs(playlist: string, output: string): string[] {
  return [
    "-loglevel", "error",
    // Our own rendition playlist: the one place the hls demuxer is allowed.
    ...inputArgs(playlist, "file", `hls,${MEDIA_DEMUXERS}`),
    "-map", "0:v:0", "-map", "0:a:0?",
    "-c", "copy",
    // ADTS (TS) → ASC (MP4) headers.
    "-bsf:a", "aac_adtstoasc",
    ...STRIP_METADATA,
    "-movflags", "+faststart",
    output,
  ];
}
