// The video job's ffmpeg argv, built purely from (probe, resolved options, paths): one run
// decodes the source once and feeds every rung, the poster and the storyboard through one
// filter_complex split; the HLS muxer writes all rungs with -var_stream_map.
import { join } from "node:path";
import { inputArgs, MEDIA_DEMUXERS } from "../../media/ffmpeg";
import { STRIP_METADATA } from "../../media/metadata";
import type { ProbeResult } from "../../media/probe";
import { UnsupportedMediaError } from "../../errors";
import { dolbyVisionWithoutBase, peakNits, tonemapChain, type HdrMetadata } from "../../media/hdr";
import { chooseEncoder, CODECS, X264Encoder, type HwMethod } from "./encoders";
import { describeVideoSource, planLadder, type Rung, type VideoSource } from "./ladder";
import type { ResolvedVideoOptions, VideoCodec } from "./options";
import { planStoryboard, storyboardFpsChain, storyboardOutputArgs, type StoryboardPlan } from "./storyboard";

/** bwdif outputs one frame per frame (send_frame) and finds the field order itself. */
export const DEINTERLACE_FILTER = "bwdif=mode=send_frame:parity=auto:deint=all";
export const STORYBOARD_FRAMES_DIR = ".storyboard";
export const SEGMENT_PATTERN = "seg_%03d.ts";
export const FMP4_SEGMENT_PATTERN = "seg_%03d.m4s";
/** ffmpeg appends _<variant index> when there are several variants (init_0.mp4...); playlists name it in EXT-X-MAP. */
export const FMP4_INIT_NAME = "init.mp4";
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
  codec: VideoCodec;
  /** The ffmpeg encoder of the encoded rungs (libx264, hevc_nvenc...). */
  encoder: string;
  /** The hardware method used, null for software. */
  hwaccel: HwMethod | null;
  /** Frames decoded on the device (hardware decode). */
  hwDecode: boolean;
  segments: "mpegts" | "fmp4";
  /** What happens to an HDR source: tone-mapped to SDR, kept as HDR, or null for SDR sources. */
  hdr: "tonemap" | "keep" | null;
  /** The software chain that turns one HDR frame into SDR (posters, storyboard tiles); null for SDR sources. */
  sdrChain: string | null;
}

/** Filters before the split: deinterlace, frame-rate cap. */
export function preFilters(src: VideoSource, maxFps: number): string[] {
  const f: string[] = [];
  if (src.interlaced) f.push(DEINTERLACE_FILTER);
  if (src.fps === null || src.fps > maxFps) f.push(`fps=${maxFps}`);
  return f;
}

/** The x264 options of the encoded rung at output video index `i` (X264Encoder; kept for the benchmarks). */
export function x264RungArgs(i: number, rung: Rung, o: Pick<ResolvedVideoOptions, "preset" | "crf" | "segmentSec">, keyint: number): string[] {
  return new X264Encoder().rungArgs({ index: i, rung, keyint, segmentSec: o.segmentSec, crf: o.crf, preset: o.preset, hdr: null, tagColor: false });
}

export function varStreamMap(rungs: Rung[], hasAudio: boolean): string {
  return rungs.map((r, i) => (hasAudio ? `v:${i},a:${i},name:${r.name}` : `v:${i},name:${r.name}`)).join(" ");
}

/**
 * The AAC options of rung `i`. Stereo and the source's rate when it is 44.1 or 48 kHz (both
 * play everywhere): resampling each rung's copy of the audio cost CPU for nothing.
 */
export function audioRungArgs(i: number, rung: Rung, src: Pick<VideoSource, "audioSampleRate" | "audioChannels">): string[] {
  const a = `:a:${i}`;
  const rate = src.audioSampleRate === 44100 || src.audioSampleRate === 48000 ? [] : ["-ar" + a, "48000"];
  const ch = src.audioChannels !== null && src.audioChannels <= 2 ? [] : ["-ac" + a, "2"];
  return ["-c" + a, "aac", "-b" + a, `${rung.audioKbps}k`, ...ch, ...rate];
}

/** What the worker knows beyond the probe: its usable hardware encoders, the source's HDR metadata. */
export interface VideoEnv {
  hwEncoders: readonly string[];
  hdrMetadata: HdrMetadata;
}

export function buildVideoPlan(probe: ProbeResult, o: ResolvedVideoOptions, input: string, protocols: string, outDir: string, env: VideoEnv = { hwEncoders: [], hdrMetadata: {} }): VideoPlan {
  const src = describeVideoSource(probe);
  if (dolbyVisionWithoutBase(src.hdr)) {
    throw new UnsupportedMediaError(
      `Dolby Vision profile ${src.hdr!.dolbyVisionProfile} has no HDR10, HLG or SDR base layer that ffmpeg can show; export the clip as HDR10, HLG or Dolby Vision 8.x`,
      { dolbyVision: src.hdr },
    );
  }
  const row = CODECS[o.codec];
  const hdr = src.hdr ? o.hdr : null;
  const keep = hdr === "keep";
  const rungs = planLadder(src, { ...o, remux: o.remux && o.codec === "h264" }, row.bitrateFactor);
  const fps = src.fps === null || src.fps > o.maxFps ? o.maxFps : src.fps;
  const keyint = Math.max(1, Math.round(fps * o.segmentSec));
  const hasAudio = src.audioIndex !== null;
  const top = rungs[0]!;
  const d = src.durationSec;
  const posterAtSec = o.poster ? (d && d > 0 ? Math.round(Math.min(d * 0.1, 10) * 1000) / 1000 : 0) : null;
  const storyboard = o.storyboard ? planStoryboard(src, o.storyboardIntervalSec, o.storyboardTileWidth) : null;
  const enc = chooseEncoder(o, env.hwEncoders, keep);
  const sdrChain = src.hdr ? tonemapChain(src.hdr.transfer, peakNits(env.hdrMetadata)) : null;

  // Software filters before the split (deinterlace, tone mapping) keep frames in memory; the
  // frame-rate cap works on device frames too.
  const pre = preFilters(src, o.maxFps);
  if (hdr === "tonemap") pre.push(sdrChain!);
  const onDevice = enc.hwDecode && !src.interlaced && hdr !== "tonemap";
  const download = onDevice ? enc.downloadChain(keep) : null;

  // One split feeds every branch that needs decoded frames.
  const branches: { label: string; chain: string }[] = [];
  rungs.forEach((r, i) => {
    if (!r.copy) branches.push({ label: `v${i}`, chain: enc.scaleChain(r.width, r.height, keep, onDevice) });
  });
  const decodes = branches.length > 0 || (storyboard !== null && o.storyboardMethod === "fps");
  const posterInline = posterAtSec !== null && decodes;
  // Posters and tiles are SDR whatever the rungs are: a kept-HDR source is tone-mapped on these few frames only.
  const stillSdr = keep ? [sdrChain!] : [];
  // The second trim ends the branch after its one frame: without it every later frame was scaled (and dropped).
  if (posterInline) branches.push({ label: "poster", chain: [`trim=start=${posterAtSec}`, "trim=end_frame=1", ...(download ? [download] : []), ...stillSdr, `scale=${top.width}:${top.height}`, "setsar=1"].join(",") });
  if (storyboard && o.storyboardMethod === "fps") branches.push({ label: "sb", chain: storyboardFpsChain(storyboard, [...(download ? [download] : []), ...stillSdr]) });

  const args = ["-loglevel", "error", ...enc.inputArgs(onDevice), ...inputArgs(input, protocols)];
  if (branches.length) {
    const head = `[0:${src.videoIndex}]${[...pre, `split=${branches.length}`].join(",")}${branches.map((b) => `[s_${b.label}]`).join("")}`;
    args.push("-filter_complex", [head, ...branches.map((b) => `[s_${b.label}]${b.chain}[${b.label}]`)].join(";"));
  }

  // HLS: every rung's video (and its own audio copy) into one muxer.
  const maps: string[] = [];
  const codecs: string[] = [];
  const hdrOut = keep ? { transfer: src.hdr!.transfer, metadata: env.hdrMetadata } : null;
  rungs.forEach((r, i) => {
    maps.push("-map", r.copy ? `0:${src.videoIndex}` : `[v${i}]`);
    codecs.push(...(r.copy ? ["-c:v:" + i, "copy"] : enc.rungArgs({ index: i, rung: r, keyint, segmentSec: o.segmentSec, crf: o.crf, preset: o.preset, hdr: hdrOut, tagColor: hdr !== null })));
  });
  if (hasAudio) {
    rungs.forEach((r, i) => {
      maps.push("-map", `0:${src.audioIndex}`);
      codecs.push(...(r.copy ? ["-c:a:" + i, "copy"] : audioRungArgs(i, r, src)));
    });
  }
  args.push(...maps, ...codecs);
  const fmp4 = row.segments === "fmp4";
  args.push(
    ...STRIP_METADATA,
    "-max_muxing_queue_size", "4096",
    "-f", "hls",
    "-hls_time", String(o.segmentSec),
    "-hls_playlist_type", "vod",
    "-hls_flags", "independent_segments",
    "-hls_segment_type", row.segments,
    ...(fmp4 ? ["-hls_fmp4_init_filename", FMP4_INIT_NAME] : []),
    "-hls_segment_filename", join(outDir, "%v", fmp4 ? FMP4_SEGMENT_PATTERN : SEGMENT_PATTERN),
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
      ? ["-loglevel", "error", "-ss", String(posterAtSec), ...inputArgs(input, protocols), "-map", `0:${src.videoIndex}`, "-vf", [...(sdrChain ? [sdrChain] : []), `scale=${top.width}:${top.height}`, "setsar=1"].join(","), ...posterOut]
      : null;
  if (storyboard && o.storyboardMethod === "fps") args.push("-max_muxing_queue_size", "4096", ...storyboardOutputArgs("[sb]", join(outDir, STORYBOARD_FRAMES_DIR, "%05d.jpg")));
  return {
    src, rungs, fps, keyint, posterAtSec, storyboard, mp4, args, posterArgs,
    codec: o.codec, encoder: enc.encoder, hwaccel: enc.method, hwDecode: onDevice, segments: row.segments, hdr, sdrChain,
  };
}

/** video.mp4 from the top rung's segments: a stream copy, so no second encode. */
export function mp4RemuxArgs(playlist: string, output: string, codec: VideoCodec = "h264"): string[] {
  return [
    "-loglevel", "error",
    // Our own rendition playlist: the one place the hls demuxer is allowed.
    ...inputArgs(playlist, "file", `hls,${MEDIA_DEMUXERS}`),
    "-map", "0:v:0", "-map", "0:a:0?",
    "-c", "copy",
    // ADTS (TS) → ASC (MP4) headers; fMP4 segments carry ASC already.
    ...(CODECS[codec].segments === "mpegts" ? ["-bsf:a", "aac_adtstoasc"] : []),
    // hvc1: parameter sets in the sample entry, the form Safari/QuickTime play.
    ...(codec === "hevc" ? ["-tag:v", "hvc1"] : []),
    ...STRIP_METADATA,
    "-movflags", "+faststart",
    output,
  ];
}
