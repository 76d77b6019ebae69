// Options of the `video` job (SPEC §2). Every value is an enum or a bounded number, so
// nothing a client sends can reach ffmpeg as free text (SPEC §7).
import { Type as T, type Static } from "@sinclair/typebox";

export const X264_PRESETS = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"] as const;
export type X264Preset = (typeof X264_PRESETS)[number];
export const STORYBOARD_METHODS = ["fps", "keyframe"] as const;
export type StoryboardMethod = (typeof STORYBOARD_METHODS)[number];

export const DEFAULT_RENDITIONS = [1080, 720, 480, 360];

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
  },
  { additionalProperties: false },
);
export type VideoOptionsInput = Static<typeof VideoOptions>;
export type ResolvedVideoOptions = Required<VideoOptionsInput> & { preset: X264Preset; storyboardMethod: StoryboardMethod };

export function videoDefaults(input: VideoOptionsInput): ResolvedVideoOptions {
  return {
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
