import { Type as T, type Static } from "@sinclair/typebox";
import { InvalidInputError, UnsupportedMediaError } from "../errors";
import { FILE_ONLY_PROTOCOLS, lastLine, MEDIA_DEMUXERS, runCapture } from "./ffmpeg";

export const ProbeStream = T.Object({
  index: T.Integer(),
  type: T.Union([T.Literal("video"), T.Literal("audio"), T.Literal("subtitle"), T.Literal("data"), T.Literal("attachment")]),
  codec: T.Union([T.String(), T.Null()]),
  width: T.Optional(T.Integer()),
  height: T.Optional(T.Integer()),
  fps: T.Optional(T.Union([T.Number(), T.Null()])),
  pixFmt: T.Optional(T.Union([T.String(), T.Null()])),
  fieldOrder: T.Optional(T.Union([T.String(), T.Null()])),
  /** Display-matrix rotation in degrees, ffprobe's sign convention. */
  rotation: T.Optional(T.Number()),
  /** Cover art in an audio file: a video stream that is one picture. */
  attachedPic: T.Optional(T.Boolean()),
  /** ffprobe profile name ("Main 10", "High"...). */
  profile: T.Optional(T.Union([T.String(), T.Null()])),
  /** Colour signalling of a video stream, ffprobe's names (bt2020, smpte2084, arib-std-b67, bt2020nc, tv). */
  colorPrimaries: T.Optional(T.Union([T.String(), T.Null()])),
  colorTransfer: T.Optional(T.Union([T.String(), T.Null()])),
  colorSpace: T.Optional(T.Union([T.String(), T.Null()])),
  colorRange: T.Optional(T.Union([T.String(), T.Null()])),
  /** The Dolby Vision configuration record, when the stream has one. */
  dolbyVision: T.Optional(T.Object({ profile: T.Integer(), level: T.Integer(), compatibilityId: T.Integer(), baseLayer: T.Boolean(), enhancementLayer: T.Boolean() })),
  sampleRate: T.Optional(T.Integer()),
  channels: T.Optional(T.Integer()),
  channelLayout: T.Optional(T.Union([T.String(), T.Null()])),
  bitrate: T.Optional(T.Union([T.Integer(), T.Null()])),
  durationSec: T.Optional(T.Union([T.Number(), T.Null()])),
});
export type ProbeStream = Static<typeof ProbeStream>;

export const ProbeResult = T.Object({
  format: T.String({ description: "ffprobe format_name" }),
  durationSec: T.Union([T.Number(), T.Null()]),
  bitrate: T.Union([T.Integer(), T.Null()]),
  sizeBytes: T.Union([T.Integer(), T.Null()]),
  streams: T.Array(ProbeStream),
  tags: T.Optional(T.Record(T.String(), T.String())),
});
export type ProbeResult = Static<typeof ProbeResult>;

type Raw = Record<string, unknown>;
const num = (v: unknown): number | null => {
  const n = typeof v === "string" ? Number(v) : typeof v === "number" ? v : NaN;
  return Number.isFinite(n) ? n : null;
};
const int = (v: unknown): number | null => {
  const n = num(v);
  return n === null ? null : Math.round(n);
};
function rate(v: unknown): number | null {
  if (typeof v !== "string") return null;
  const [a, b] = v.split("/").map(Number);
  if (!a || !b) return null;
  return Math.round((a / b) * 1000) / 1000;
}
const str = (v: unknown): string | null => (typeof v === "string" && v !== "unknown" ? v : null);

function dolbyVisionOf(s: Raw): ProbeStream["dolbyVision"] {
  const sides = Array.isArray(s.side_data_list) ? (s.side_data_list as Raw[]) : [];
  const dv = sides.find((sd) => sd.side_data_type === "DOVI configuration record");
  if (!dv) return undefined;
  return { profile: int(dv.dv_profile) ?? 0, level: int(dv.dv_level) ?? 0, compatibilityId: int(dv.dv_bl_signal_compatibility_id) ?? 0, baseLayer: dv.bl_present_flag === 1, enhancementLayer: dv.el_present_flag === 1 };
}

function rotationOf(s: Raw): number | undefined {
  const sides = Array.isArray(s.side_data_list) ? (s.side_data_list as Raw[]) : [];
  for (const sd of sides) if (typeof sd.rotation === "number" || typeof sd.rotation === "string") return Number(sd.rotation);
  const tags = (s.tags ?? {}) as Raw;
  if (tags.rotate !== undefined) return -Number(tags.rotate);
  return undefined;
}

/** ffprobe's -show_format -show_streams JSON → ProbeResult. Pure; throws INVALID_INPUT on junk. */
export function parseProbe(json: unknown): ProbeResult {
  if (json === null || typeof json !== "object") throw new InvalidInputError("ffprobe returned no data");
  const root = json as Raw;
  const format = (root.format ?? {}) as Raw;
  const streams: ProbeStream[] = [];
  for (const s of (Array.isArray(root.streams) ? root.streams : []) as Raw[]) {
    const type = s.codec_type;
    if (type !== "video" && type !== "audio" && type !== "subtitle" && type !== "data" && type !== "attachment") continue;
    const disposition = (s.disposition ?? {}) as Raw;
    const base: ProbeStream = { index: int(s.index) ?? streams.length, type, codec: typeof s.codec_name === "string" ? s.codec_name : null };
    if (type === "video") {
      Object.assign(base, {
        width: int(s.width) ?? 0,
        height: int(s.height) ?? 0,
        fps: rate(s.avg_frame_rate) ?? rate(s.r_frame_rate),
        pixFmt: typeof s.pix_fmt === "string" ? s.pix_fmt : null,
        fieldOrder: typeof s.field_order === "string" ? s.field_order : null,
        attachedPic: disposition.attached_pic === 1,
        profile: str(s.profile),
        colorPrimaries: str(s.color_primaries),
        colorTransfer: str(s.color_transfer),
        colorSpace: str(s.color_space),
        colorRange: str(s.color_range),
      });
      const dv = dolbyVisionOf(s);
      if (dv) base.dolbyVision = dv;
      const rot = rotationOf(s);
      if (rot !== undefined && rot !== 0) base.rotation = rot;
    } else if (type === "audio") {
      Object.assign(base, {
        sampleRate: int(s.sample_rate) ?? 0,
        channels: int(s.channels) ?? 0,
        channelLayout: typeof s.channel_layout === "string" ? s.channel_layout : null,
      });
    }
    base.bitrate = int(s.bit_rate);
    base.durationSec = num(s.duration);
    streams.push(base);
  }
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries((format.tags ?? {}) as Raw)) if (typeof v === "string") tags[k.toLowerCase()] = v.slice(0, 500);
  const dur = num(format.duration);
  return {
    format: typeof format.format_name === "string" ? format.format_name : "unknown",
    durationSec: dur === null ? null : Math.round(dur * 1000) / 1000,
    bitrate: int(format.bit_rate),
    sizeBytes: int(format.size),
    streams,
    ...(Object.keys(tags).length ? { tags } : {}),
  };
}

/** The ffprobe argv (pure): JSON of format and streams, input under a protocol whitelist. */
export function probeArgs(bin: string, input: string, protocols: string = FILE_ONLY_PROTOCOLS): string[] {
  return [bin, "-v", "error", "-hide_banner", "-protocol_whitelist", protocols, "-format_whitelist", MEDIA_DEMUXERS, "-show_format", "-show_streams", "-of", "json", "-i", input];
}

/** Runs ffprobe; a file ffprobe cannot open is INVALID_INPUT (a bad file is not retried). */
export async function probeFile(
  bin: string,
  input: string,
  o: { protocols?: string; signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<ProbeResult> {
  const r = await runCapture(probeArgs(bin, input, o.protocols), { signal: o.signal, timeoutMs: o.timeoutMs ?? 60_000 });
  if (r.killed) throw r.killed;
  if (r.code !== 0) throw new InvalidInputError(`ffprobe could not read the source: ${lastLine(r.stderrTail) || "exit " + r.code}`, { stderrTail: r.stderrTail });
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    throw new InvalidInputError("ffprobe returned malformed output");
  }
  return parseProbe(json);
}

export type MediaKind = "video" | "audio" | "image";

/**
 * What a probe says the file is. Cover art alone does not make audio a video; a one-frame
 * "video" in an image container is an image.
 */
export function mediaKind(p: ProbeResult): MediaKind | null {
  const video = p.streams.filter((s) => s.type === "video" && !s.attachedPic);
  const audio = p.streams.filter((s) => s.type === "audio");
  const imageFormats = /image2|_pipe$|^png|^webp|^gif|^tiff|^bmp|^apng|^jpeg/;
  if (video.length && imageFormats.test(p.format)) return "image";
  if (video.length && video.some((s) => (s.width ?? 0) > 0)) return "video";
  if (audio.length) return "audio";
  return null;
}

export function requireKind(p: ProbeResult, want: MediaKind[]): MediaKind {
  const kind = mediaKind(p);
  if (!kind) throw new UnsupportedMediaError("the source has no audio or video stream", { format: p.format });
  if (!want.includes(kind)) throw new UnsupportedMediaError(`expected ${want.join(" or ")}, got ${kind}`, { format: p.format });
  return kind;
}
