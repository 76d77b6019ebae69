// The audio job's ffmpeg argv, built purely from (probe, resolved options, paths): ONE run
// decodes the source once; asplit feeds every rendition file, the optional HLS ladder and
// a low-rate mono PCM for the waveform.
import { join } from "node:path";
import { UnsupportedMediaError } from "../../errors";
import { inputArgs } from "../../media/ffmpeg";
import { STRIP_METADATA } from "../../media/metadata";
import type { ProbeResult } from "../../media/probe";
import type { AudioCodec, ResolvedAudioOptions } from "./options";

export const WAVEFORM_RATE = 8000;
export const WAVEFORM_PCM = ".waveform.pcm";
export const TAGS_FILE = ".tags.ffmeta";
/** Tags copied to the renditions; every other tag is stripped. */
export const KEPT_TAGS = ["title", "artist", "album"] as const;

const EXT: Record<AudioCodec, string> = { aac: "m4a", mp3: "mp3", opus: "opus" };
export const AUDIO_MIME: Record<AudioCodec, string> = { aac: "audio/mp4", mp3: "audio/mpeg", opus: "audio/ogg" };
/** Containers that can carry a cover picture (Ogg in ffmpeg 5.1 cannot). */
const COVER_OK: ReadonlySet<AudioCodec> = new Set(["aac", "mp3"]);

export interface AudioSource {
  audioIndex: number;
  channels: number;
  sampleRate: number;
  /** Cover picture stream (jpeg/png attached pic), if any. */
  coverIndex: number | null;
  durationSec: number | null;
}

export function describeAudioSource(p: ProbeResult): AudioSource {
  const a = p.streams.find((s) => s.type === "audio");
  if (!a) throw new UnsupportedMediaError("the source has no audio stream", { format: p.format });
  const cover = p.streams.find((s) => s.type === "video" && s.attachedPic && (s.codec === "mjpeg" || s.codec === "png"));
  return { audioIndex: a.index, channels: a.channels ?? 2, sampleRate: a.sampleRate ?? 0, coverIndex: cover ? cover.index : null, durationSec: p.durationSec };
}

export interface AudioFilePlan {
  name: string;
  codec: AudioCodec;
  bitrateKbps: number;
  mime: string;
  withCover: boolean;
}

export interface AudioPlan {
  src: AudioSource;
  files: AudioFilePlan[];
  hlsRungs: { name: string; bitrateKbps: number }[];
  /** ffmetadata text for the kept tags, or null when there are none. */
  tagsText: string | null;
  args: string[];
}

/** ffmetadata escaping: '=', ';', '#', '\' and newlines are backslash-escaped. */
export function escapeFfmetadata(v: string): string {
  return v.replace(/[=;#\\\n]/g, (c) => "\\" + c);
}

/** The kept tags as an ffmetadata file (a file, not arguments: tag text never reaches argv). */
export function tagsFile(tags: Record<string, string> | undefined): string | null {
  const lines = KEPT_TAGS.filter((k) => tags?.[k]).map((k) => `${k}=${escapeFfmetadata(tags![k]!)}`);
  return lines.length ? [";FFMETADATA1", ...lines].join("\n") + "\n" : null;
}

/** Filters before the split: optional loudnorm (single pass), then the output rate and ≤2 channels. */
export function audioPreFilters(src: AudioSource, o: Pick<ResolvedAudioOptions, "normalize" | "loudnessLufs" | "sampleRate">): string[] {
  const f: string[] = [];
  if (o.normalize) f.push(`loudnorm=I=${o.loudnessLufs}:TP=-1.5:LRA=11`);
  const layout = src.channels === 1 ? "mono" : "stereo";
  f.push(`aresample=${o.sampleRate}`, `aformat=sample_fmts=fltp:sample_rates=${o.sampleRate}:channel_layouts=${layout}`);
  return f;
}

function codecArgs(codec: AudioCodec, kbps: number): string[] {
  if (codec === "aac") return ["-c:a", "aac", "-b:a", `${kbps}k`, "-movflags", "+faststart"];
  if (codec === "mp3") return ["-c:a", "libmp3lame", "-b:a", `${kbps}k`, "-id3v2_version", "3", "-write_id3v1", "0"];
  return ["-c:a", "libopus", "-b:a", `${kbps}k`, "-vbr", "on"];
}

export function buildAudioPlan(probe: ProbeResult, o: ResolvedAudioOptions, input: string, protocols: string, outDir: string): AudioPlan {
  const src = describeAudioSource(probe);
  // Title/artist/album only when the job asks for them (options.tags "keep"): by default an
  // output says nothing about its source.
  const tagsText = o.tags === "keep" ? tagsFile(probe.tags) : null;
  const files: AudioFilePlan[] = o.renditions.map((r) => ({
    name: `audio-${r.bitrateKbps}k.${EXT[r.codec]}`,
    codec: r.codec,
    bitrateKbps: r.bitrateKbps,
    mime: AUDIO_MIME[r.codec],
    withCover: o.coverArt === "keep" && src.coverIndex !== null && COVER_OK.has(r.codec),
  }));
  const hlsRungs = o.hls ? o.hlsBitratesKbps.map((k) => ({ name: `${k}k`, bitrateKbps: k })) : [];

  const branches: { label: string; chain: string | null }[] = [
    // Opus only takes 48 kHz.
    ...files.map((f, i) => ({ label: `a${i}`, chain: f.codec === "opus" && o.sampleRate !== 48000 ? "aresample=48000" : null })),
    ...hlsRungs.map((_, i) => ({ label: `h${i}`, chain: null })),
    ...(o.waveform ? [{ label: "wf", chain: `aresample=${WAVEFORM_RATE},aformat=sample_fmts=s16:channel_layouts=mono` }] : []),
  ];
  const head = `[0:${src.audioIndex}]${[...audioPreFilters(src, o), `asplit=${branches.length}`].join(",")}${branches.map((b) => (b.chain ? `[s_${b.label}]` : `[${b.label}]`)).join("")}`;
  const graph = [head, ...branches.filter((b) => b.chain).map((b) => `[s_${b.label}]${b.chain}[${b.label}]`)].join(";");

  const args = ["-loglevel", "error", ...inputArgs(input, protocols)];
  if (tagsText) args.push("-f", "ffmetadata", ...inputArgs(join(outDir, TAGS_FILE), "file", "ffmetadata"));
  args.push("-filter_complex", graph);
  // Global tags from the tags file only; no stream-level tags (encoder, handler, comments…) and
  // no chapters (MP4 would carry them as an extra text track).
  const meta = tagsText ? ["-map_metadata", "1", "-map_metadata:s", "-1", "-map_chapters", "-1"] : [...STRIP_METADATA];
  files.forEach((f, i) => {
    args.push("-map", `[a${i}]`);
    if (f.withCover) args.push("-map", `0:${src.coverIndex}`, "-c:v", "copy", "-disposition:v:0", "attached_pic", "-metadata:s:v", "comment=Cover (front)");
    args.push(...codecArgs(f.codec, f.bitrateKbps), ...meta, join(outDir, f.name));
  });
  if (hlsRungs.length) {
    hlsRungs.forEach((_, i) => args.push("-map", `[h${i}]`));
    hlsRungs.forEach((r, i) => args.push(`-c:a:${i}`, "aac", `-b:a:${i}`, `${r.bitrateKbps}k`));
    args.push(
      ...STRIP_METADATA,
      "-f", "hls",
      "-hls_time", String(o.segmentSec),
      "-hls_playlist_type", "vod",
      "-hls_segment_type", "mpegts",
      "-hls_segment_filename", join(outDir, "%v", "seg_%03d.ts"),
      "-var_stream_map", hlsRungs.map((r, i) => `a:${i},name:${r.name}`).join(" "),
      join(outDir, "%v", "index.m3u8"),
    );
  }
  if (o.waveform) args.push("-map", "[wf]", "-c:a", "pcm_s16le", "-f", "s16le", join(outDir, WAVEFORM_PCM));
  return { src, files, hlsRungs, tagsText, args };
}
