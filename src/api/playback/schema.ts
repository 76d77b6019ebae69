// Shapes of the playback routes (SPEC §10): validation, types and OpenAPI from one place.
import { Type as T, type Static } from "@sinclair/typebox";

const Url = (description: string) => T.Union([T.String({ format: "uri" }), T.Null()], { description });

export const PlaybackView = T.Object({
  hls: Url("The HLS master playlist (video, or audio with hls), or null"),
  mp4: Url("The MP4 (video jobs), or null"),
  poster: Url("The poster image (video jobs), or null"),
  base: T.String({ format: "uri", description: "base + an output's name reaches any output of this job (and nothing else)" }),
  expiresAt: T.String({ format: "date-time", description: "When these URLs stop working (410)" }),
});
export type PlaybackView = Static<typeof PlaybackView>;

export const PlaybackParams = T.Object({ id: T.String({ maxLength: 64, description: "Job id" }) });

export const PlaybackQuery = T.Object({
  ttl: T.Optional(T.String({ pattern: "^[0-9]{1,10}$", description: "Lifetime in seconds (default 86400, or MEDIANODE_PLAYBACK_MAX_TTL_SEC if lower; at most that)" })),
  token: T.Optional(T.String()),
});

// The wildcard ("*": the output's name) is not declared: Elysia cannot mirror a "*" key.
export const PlaybackFileParams = T.Object({ token: T.String({ description: "The signed playback token" }) }, { additionalProperties: true });

export const DEFAULT_TTL_SEC = 86_400;
