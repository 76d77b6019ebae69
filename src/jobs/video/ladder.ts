// What the source is, as the ladder sees it (displayed size, after rotation), and the rungs
// it gets. Pure: probe + options in, numbers out.
import { UnsupportedMediaError } from "../../errors";
import { hdrInfo, type HdrInfo } from "../../media/hdr";
import type { ProbeResult } from "../../media/probe";
import type { ResolvedVideoOptions } from "./options";

export interface VideoSource {
  /** Absolute stream indexes in the input (maps use `0:<index>`). */
  videoIndex: number;
  audioIndex: number | null;
  /** Displayed size: coded size with a ±90° rotation applied (ffmpeg autorotates on decode). */
  width: number;
  height: number;
  codec: string | null;
  audioCodec: string | null;
  pixFmt: string | null;
  fps: number | null;
  rotation: number;
  interlaced: boolean;
  /** Bits per second of the whole file (format), else of the video stream. */
  bitrate: number | null;
  durationSec: number | null;
  audioSampleRate: number | null;
  audioChannels: number | null;
  /** HDR10/PQ, HLG or Dolby Vision; null for SDR. */
  hdr: HdrInfo | null;
}

export interface Rung {
  /** Folder and variant name, e.g. "720p". */
  name: string;
  width: number;
  height: number;
  videoKbps: number;
  /** VBV cap (maxrate) and buffer. */
  maxrateKbps: number;
  bufsizeKbps: number;
  audioKbps: number;
  /** The source copied as-is (remux), not encoded. */
  copy: boolean;
}

/** ffprobe field_order values of interlaced video (progressive and unknown are not). */
const INTERLACED = new Set(["tt", "bb", "tb", "bt"]);

/** The first real video stream (cover art is not video) and the first audio stream. */
export function describeVideoSource(p: ProbeResult): VideoSource {
  const v = p.streams.find((s) => s.type === "video" && !s.attachedPic && (s.width ?? 0) > 0 && (s.height ?? 0) > 0);
  if (!v) throw new UnsupportedMediaError("the source has no video stream (cover art alone is not video)", { format: p.format });
  const a = p.streams.find((s) => s.type === "audio");
  const rotation = v.rotation ?? 0;
  const quarter = Math.abs(Math.round(rotation / 90)) % 2 === 1;
  return {
    videoIndex: v.index,
    audioIndex: a ? a.index : null,
    width: quarter ? v.height! : v.width!,
    height: quarter ? v.width! : v.height!,
    codec: v.codec,
    audioCodec: a?.codec ?? null,
    pixFmt: v.pixFmt ?? null,
    fps: v.fps ?? null,
    rotation,
    interlaced: INTERLACED.has(v.fieldOrder ?? ""),
    bitrate: p.bitrate ?? v.bitrate ?? null,
    durationSec: p.durationSec,
    audioSampleRate: a?.sampleRate || null,
    audioChannels: a?.channels || null,
    hdr: hdrInfo(v),
  };
}

const even = (n: number) => Math.max(2, 2 * Math.round(n / 2));
const evenDown = (n: number) => Math.max(2, n - (n % 2));

/** Video bitrate cap by short edge at ≤30 fps (kbps); between rows it is interpolated. */
const BITRATE_TABLE: [number, number][] = [
  [2160, 14000],
  [1440, 8000],
  [1080, 5000],
  [720, 2800],
  [480, 1400],
  [360, 800],
  [240, 400],
  [144, 200],
];

/** The maxrate of a rung: the table, ×1.5 above 30 fps. Tiny sources get a floor of 100k. */
export function rungBitrateKbps(shortEdge: number, fps: number | null): number {
  let kbps = BITRATE_TABLE[BITRATE_TABLE.length - 1]![1] * Math.max(shortEdge, 1) / 144;
  for (let i = 0; i < BITRATE_TABLE.length - 1; i++) {
    const [hiEdge, hiRate] = BITRATE_TABLE[i]!;
    const [loEdge, loRate] = BITRATE_TABLE[i + 1]!;
    if (shortEdge >= hiEdge) {
      kbps = i === 0 ? hiRate * (shortEdge / hiEdge) : hiRate;
      break;
    }
    if (shortEdge >= loEdge) {
      kbps = loRate + ((hiRate - loRate) * (shortEdge - loEdge)) / (hiEdge - loEdge);
      break;
    }
  }
  const fpsFactor = fps !== null && fps > 31 ? 1.5 : 1;
  return Math.max(100, Math.round((kbps * fpsFactor) / 10) * 10);
}

/** Size of a rung with short edge `p`, keeping the displayed aspect, both sides even. */
export function rungSize(src: { width: number; height: number }, p: number): { width: number; height: number } {
  if (src.width >= src.height) return { width: even((p * src.width) / src.height), height: even(p) };
  return { width: even(p), height: even((p * src.height) / src.width) };
}

/** Whether the source can be copied as the top rung: HLS/MP4-safe codecs, 8-bit 4:2:0, upright, progressive, under the cap. */
export function canRemux(src: VideoSource, top: { width: number; height: number; maxrateKbps: number }, maxFps: number): boolean {
  return (
    src.codec === "h264" &&
    src.pixFmt === "yuv420p" &&
    src.hdr === null &&
    (src.audioIndex === null || src.audioCodec === "aac") &&
    src.rotation === 0 &&
    !src.interlaced &&
    src.width === top.width &&
    src.height === top.height &&
    src.fps !== null &&
    src.fps <= maxFps &&
    src.bitrate !== null &&
    src.bitrate <= top.maxrateKbps * 1000
  );
}

/**
 * The rungs, largest first: requested sizes not above the source's short edge; a source
 * below every requested rung gets one rung at its own (even) size. The top rung is a copy
 * when the source already fits it.
 */
export function planLadder(src: VideoSource, o: Pick<ResolvedVideoOptions, "renditions" | "audioBitrateKbps" | "remux" | "maxFps">, bitrateFactor = 1): Rung[] {
  const short = Math.min(src.width, src.height);
  const fps = src.fps === null ? null : Math.min(src.fps, o.maxFps);
  const wanted = [...new Set(o.renditions)].sort((a, b) => b - a).filter((p) => p <= short);
  const sizes = wanted.length
    ? wanted.map((p) => ({ p, ...rungSize(src, p) }))
    : [{ p: evenDown(short), width: evenDown(src.width), height: evenDown(src.height) }];
  const rungs = sizes.map(({ p, width, height }) => {
    // The table is H.264's; other codecs reach the same quality with less (encoders.ts CODECS).
    const maxrateKbps = Math.max(100, Math.round((rungBitrateKbps(p, fps) * bitrateFactor) / 10) * 10);
    return {
      name: `${p}p`,
      width,
      height,
      videoKbps: maxrateKbps,
      maxrateKbps,
      bufsizeKbps: maxrateKbps * 2,
      audioKbps: p >= 720 ? o.audioBitrateKbps : Math.min(96, o.audioBitrateKbps),
      copy: false,
    };
  });
  const top = rungs[0]!;
  if (o.remux && canRemux(src, top, o.maxFps)) top.copy = true;
  return rungs;
}
