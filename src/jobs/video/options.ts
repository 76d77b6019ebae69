// Options of the `video` job (SPEC §2). Every value is an enum or a bounded number, so
// nothing a client sends can reach ffmpeg as free text (SPEC §7).
import { Type as T, type Static } from "@sinclair/typebox";
import { InvalidOptionsError } from "../../errors";

export const X264_PRESETS = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"] as const;
export type X264Preset = (typeof X264_PRESETS)[number];
export const STORYBOARD_METHODS = ["fps", "keyframe"] as const;
export type StoryboardMethod = (typeof STORYBOARD_METHODS)[number];

export const DEFAULT_RENDITIONS = [1080, 720, 480, 360];
export const VIDEO_CODECS = ["h264", "hevc", "av1", "vp9"] as const;
export type VideoCodec = (typeof VIDEO_CODECS)[number];
export const HDR_MODES = ["tonemap", "keep"] as const;
export type HdrMode = (typeof HDR_MODES)[number];
export const HWACCEL_CHOICES = ["auto", "none", "nvenc", "vaapi", "qsv"] as const;
export type HwaccelChoice = (typeof HWACCEL_CHOICES)[number];
/** Codecs that can carry 10-bit HDR here (SPEC §2: `hdr: "keep"`). */
export const HDR_KEEP_CODECS: readonly VideoCodec[] = ["hevc", "av1"];

export const VideoOptions = T.Object(
  {
    renditions: T.Optional(
      T.Array(T.Integer({ minimum: 144, maximum: 2160 }), {
        minItems: 1,
        maxItems: 6,
        uniqueItems: true,
        default: DEFAULT_RENDITIONS,
        description: "Ladder rungs by short edge in pixels (720 = 1280x720 landscape or 720x1280 portrait); rungs above the source are dropped, and a source below every rung gets one rung at its own size",
      }),
    ),
    segmentSec: T.Optional(T.Integer({ minimum: 2, maximum: 10, default: 6, description: "HLS segment length; the GOP is fixed to it" })),
    preset: T.Optional(T.Union(X264_PRESETS.map((p) => T.Literal(p)), { default: "veryfast", description: "libx264 speed/size trade-off" })),
    crf: T.Optional(T.Integer({ minimum: 16, maximum: 35, default: 23, description: "libx264 constant quality, capped per rung by maxrate/bufsize" })),
    audioBitrateKbps: T.Optional(T.Integer({ minimum: 48, maximum: 320, default: 128, description: "AAC bitrate of rungs of 720p and up (smaller rungs get 96k at most)" })),
    maxFps: T.Optional(T.Integer({ minimum: 15, maximum: 120, default: 60, description: "Frame rate cap; faster or unknown rates are resampled to it" })),
    remux: T.Optional(T.Boolean({ default: true, description: "Copy the source as the top rung (no re-encode) when it already fits it: H.264 yuv420p, AAC or no audio, bitrate within the rung cap" })),
    mp4: T.Optional(T.Boolean({ default: true, description: "Write video.mp4 (faststart) of the top rung, remuxed, not re-encoded" })),
    poster: T.Optional(T.Boolean({ default: true, description: "Write poster.jpg from the same decode" })),
    storyboard: T.Optional(T.Boolean({ default: true, description: "Write storyboard.jpg (sprite) + storyboard.vtt" })),
    storyboardMethod: T.Optional(
      T.Union(STORYBOARD_METHODS.map((m) => T.Literal(m)), {
        default: "fps",
        description: "fps: a branch of the one ladder decode; keyframe: a second, keyframe-only decode (-skip_frame nokey)",
      }),
    ),
    storyboardIntervalSec: T.Optional(T.Integer({ minimum: 1, maximum: 600, default: 5, description: "Seconds between storyboard tiles (raised so there are at most 100 tiles)" })),
    storyboardTileWidth: T.Optional(T.Integer({ minimum: 64, maximum: 480, default: 160, description: "Width of one storyboard tile in pixels" })),
    codec: T.Optional(T.Union(VIDEO_CODECS.map((c) => T.Literal(c)), { default: "h264", description: "Video codec of every rung and the MP4; hevc, av1 and vp9 use fMP4 HLS segments" })),
    hdr: T.Optional(
      T.Union(HDR_MODES.map((m) => T.Literal(m)), {
        default: "tonemap",
        description: "tonemap: an HDR source (PQ, HLG, Dolby Vision 8.x) becomes SDR BT.709 8-bit everywhere; keep: 10-bit HDR with its colour signalling (hevc or av1 only)",
      }),
    ),
    hwaccel: T.Optional(
      T.Union(HWACCEL_CHOICES.map((m) => T.Literal(m)), {
        default: "auto",
        description: "auto: the worker's usable hardware encoder for the codec when it has one, else software; none: software; nvenc|vaapi|qsv: that method (the job then requires it)",
      }),
    ),
  },
  { additionalProperties: false },
);
export type VideoOptionsInput = Static<typeof VideoOptions>;
export type ResolvedVideoOptions = Required<VideoOptionsInput> & { preset: X264Preset; storyboardMethod: StoryboardMethod; codec: VideoCodec; hdr: HdrMode; hwaccel: HwaccelChoice };

export function videoDefaults(input: VideoOptionsInput): ResolvedVideoOptions {
  const codec = input.codec ?? "h264";
  const hdr = input.hdr ?? "tonemap";
  if (hdr === "keep" && !HDR_KEEP_CODECS.includes(codec)) {
    throw new InvalidOptionsError(`hdr "keep" needs codec ${HDR_KEEP_CODECS.join(" or ")} (10-bit HDR); ${codec} rungs are tone-mapped to SDR`, { errors: [{ path: "/hdr", message: "keep needs codec hevc or av1" }] });
  }
  return {
    codec,
    hdr,
    hwaccel: input.hwaccel ?? "auto",
    renditions: [...(input.renditions ?? DEFAULT_RENDITIONS)].sort((a, b) => b - a),
    segmentSec: input.segmentSec ?? 6,
    preset: input.preset ?? "veryfast",
    crf: input.crf ?? 23,
    audioBitrateKbps: input.audioBitrateKbps ?? 128,
    maxFps: input.maxFps ?? 60,
    remux: input.remux ?? true,
    mp4: input.mp4 ?? true,
    poster: input.poster ?? true,
    storyboard: input.storyboard ?? true,
    storyboardMethod: input.storyboardMethod ?? "fps",
    storyboardIntervalSec: input.storyboardIntervalSec ?? 5,
    storyboardTileWidth: input.storyboardTileWidth ?? 160,
  };
}
