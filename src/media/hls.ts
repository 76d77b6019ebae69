// HLS master playlists, written by us rather than by ffmpeg's -master_pl_name: the bundled
// 2018 ffmpeg segfaults on it with several variants, and ffmpeg's master lacks CODECS for
// copied streams. BANDWIDTH comes from the segments actually written, CODECS from ffprobe.
import { readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { FILE_ONLY_PROTOCOLS, runCapture } from "./ffmpeg";

export interface MasterVariant {
  /** Playlist path relative to the master, e.g. "720p/index.m3u8". */
  uri: string;
  /** Peak segment bitrate, bits/s (RFC 8216 §4.3.4.2). */
  bandwidth: number;
  averageBandwidth?: number;
  width?: number;
  height?: number;
  frameRate?: number;
  /** RFC 6381 codec strings, e.g. ["avc1.64001f", "mp4a.40.2"]. */
  codecs: string[];
  /** RFC 8216bis VIDEO-RANGE: SDR, or PQ/HLG for HDR kept. */
  videoRange?: "SDR" | "PQ" | "HLG";
}

/** The master playlist text. Pure. */
export function masterPlaylist(variants: MasterVariant[]): string {
  // VIDEO-RANGE needs version 8 of the protocol (RFC 8216bis); fMP4 media playlists say 7 themselves.
  const lines = ["#EXTM3U", `#EXT-X-VERSION:${variants.some((v) => v.videoRange) ? 8 : 3}`, "#EXT-X-INDEPENDENT-SEGMENTS"];
  for (const v of variants) {
    const attrs = [`BANDWIDTH=${Math.max(1, Math.round(v.bandwidth))}`];
    if (v.averageBandwidth) attrs.push(`AVERAGE-BANDWIDTH=${Math.round(v.averageBandwidth)}`);
    if (v.width && v.height) attrs.push(`RESOLUTION=${v.width}x${v.height}`);
    if (v.frameRate) attrs.push(`FRAME-RATE=${v.frameRate.toFixed(3)}`);
    if (v.codecs.length) attrs.push(`CODECS="${v.codecs.join(",")}"`);
    if (v.videoRange) attrs.push(`VIDEO-RANGE=${v.videoRange}`);
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(",")}`, v.uri);
  }
  return lines.join("\n") + "\n";
}

export interface PlaylistSegment {
  uri: string;
  durationSec: number;
}

/** The init segment of an fMP4 media playlist (EXT-X-MAP URI), or null. Pure. */
export function playlistInitUri(text: string): string | null {
  return /^#EXT-X-MAP:.*URI="([^"]+)"/m.exec(text)?.[1] ?? null;
}

/** Segments of a media playlist (EXTINF + URI lines). Pure. */
export function parseMediaPlaylist(text: string): PlaylistSegment[] {
  const out: PlaylistSegment[] = [];
  let pending: number | null = null;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#EXTINF:")) pending = Number.parseFloat(line.slice(8));
    else if (line && !line.startsWith("#") && pending !== null) {
      out.push({ uri: line, durationSec: pending });
      pending = null;
    }
  }
  return out;
}

export interface VariantStats {
  /** EXT-X-MAP of an fMP4 playlist. */
  initUri: string | null;
  segments: { uri: string; durationSec: number; bytes: number }[];
  durationSec: number;
  bytes: number;
  peakBitrate: number;
  averageBitrate: number;
}

/** Reads a media playlist and the sizes of its segments. */
export async function variantStats(playlistPath: string): Promise<VariantStats> {
  const text = await readFile(playlistPath, "utf8");
  const segs = parseMediaPlaylist(text);
  const dir = dirname(playlistPath);
  const segments = await Promise.all(segs.map(async (s) => ({ ...s, bytes: (await stat(join(dir, s.uri))).size })));
  const durationSec = Math.round(segments.reduce((a, s) => a + s.durationSec, 0) * 1000) / 1000;
  const bytes = segments.reduce((a, s) => a + s.bytes, 0);
  // Very short segments (the last one) give noisy peaks; they still count when they are all there is.
  const rated = segments.filter((s) => s.durationSec >= 1);
  const peakBitrate = Math.max(0, ...(rated.length ? rated : segments).map((s) => (s.bytes * 8) / Math.max(s.durationSec, 0.001)));
  return { initUri: playlistInitUri(text), segments, durationSec, bytes, peakBitrate, averageBitrate: durationSec > 0 ? (bytes * 8) / durationSec : 0 };
}

/** RFC 6381 string of an H.264 stream from ffprobe's profile name and level (e.g. "High", 31 → avc1.64001f). */
export function avcCodecString(profile: string | null, level: number | null): string {
  const p = (profile ?? "").toLowerCase();
  const [idc, constraints] =
    p === "constrained baseline" ? [0x42, 0xe0] : p === "baseline" ? [0x42, 0x00] : p === "main" ? [0x4d, 0x40] : p === "high 10" ? [0x6e, 0x00] : [0x64, 0x00];
  const lvl = level && level > 0 ? level : 40;
  const hex = (n: number) => n.toString(16).padStart(2, "0");
  return `avc1.${hex(idc)}${hex(constraints)}${hex(lvl)}`;
}

/** RFC 6381 string of an AAC stream from ffprobe's profile name (HE-AAC → 40.5, HE-AACv2 → 40.29). */
export function aacCodecString(profile: string | null): string {
  const p = (profile ?? "").toLowerCase();
  return p === "he-aacv2" ? "mp4a.40.29" : p === "he-aac" ? "mp4a.40.5" : "mp4a.40.2";
}

/** ffprobe argv for the codecs of one segment. Pure. */
export function segmentCodecArgs(ffprobe: string, segment: string): string[] {
  return [ffprobe, "-v", "error", "-protocol_whitelist", FILE_ONLY_PROTOCOLS, "-show_entries", "stream=codec_type,codec_name,profile,level", "-of", "json", "-i", segment];
}

/** CODECS of a segment, read with ffprobe (so a copied rung reports its real profile/level). */
export async function segmentCodecs(ffprobe: string, segment: string, signal?: AbortSignal): Promise<string[]> {
  const r = await runCapture(segmentCodecArgs(ffprobe, segment), { signal, timeoutMs: 30_000 });
  if (r.killed) throw r.killed;
  let streams: { codec_type?: string; codec_name?: string; profile?: string; level?: number }[] = [];
  try {
    streams = (JSON.parse(r.stdout) as { streams?: typeof streams }).streams ?? [];
  } catch {
    streams = [];
  }
  const out: string[] = [];
  for (const s of streams) {
    if (s.codec_type === "video" && s.codec_name === "h264") out.push(avcCodecString(s.profile ?? null, s.level ?? null));
    else if (s.codec_type === "audio" && s.codec_name === "aac") out.push(aacCodecString(s.profile ?? null));
  }
  return out;
}
