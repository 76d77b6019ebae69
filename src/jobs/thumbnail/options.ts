// Options of the `thumbnail` job (SPEC §2): frames at given times or every N seconds.
import { Type as T, type Static } from "@sinclair/typebox";
import { InvalidOptionsError } from "../../errors";
import type { ImageFormat } from "../../media/image";

export const MAX_FRAMES = 100;

export const ThumbnailOptions = T.Object(
  {
    times: T.Optional(T.Array(T.Number({ minimum: 0, maximum: 86400 }), { minItems: 1, maxItems: MAX_FRAMES, default: [], description: "Seconds to take frames at (clamped to the duration); exclusive with everySec" })),
    everySec: T.Optional(T.Number({ minimum: 0.5, maximum: 3600, default: 0, description: "One frame every N seconds (at most 100 frames); exclusive with times" })),
    count: T.Optional(T.Integer({ minimum: 1, maximum: MAX_FRAMES, default: 3, description: "Frames spread evenly over the duration, when neither times nor everySec is given" })),
    size: T.Optional(T.Integer({ minimum: 16, maximum: 3840, default: 320, description: "Longest edge in pixels; never enlarged" })),
    format: T.Optional(T.Union([T.Literal("webp"), T.Literal("jpeg"), T.Literal("png"), T.Literal("avif")], { default: "webp", description: "Image format of the frames" })),
    quality: T.Optional(T.Integer({ minimum: 1, maximum: 100, default: 80, description: "Encoder quality" })),
  },
  { additionalProperties: false },
);
export type ThumbnailOptionsInput = Static<typeof ThumbnailOptions>;

export interface ResolvedThumbnailOptions {
  /** Exactly one way to pick frames. */
  mode: "times" | "every" | "count";
  times: number[];
  everySec: number;
  count: number;
  size: number;
  format: ImageFormat;
  quality: number;
}

export function thumbnailDefaults(input: ThumbnailOptionsInput): ResolvedThumbnailOptions {
  const hasTimes = !!input.times?.length;
  const hasEvery = !!input.everySec;
  if (hasTimes && hasEvery) throw new InvalidOptionsError("give either times or everySec, not both");
  return {
    mode: hasTimes ? "times" : hasEvery ? "every" : "count",
    times: input.times ?? [],
    everySec: input.everySec ?? 0,
    count: input.count ?? 3,
    size: input.size ?? 320,
    format: input.format ?? "webp",
    quality: input.quality ?? 80,
  };
}
