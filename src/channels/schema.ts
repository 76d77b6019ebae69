// Channel records and the stream protocol's messages (SPEC §12), defined once.
import { Type as T, type Static } from "@sinclair/typebox";
import { STREAM_CODECS } from "./track";

export const CHANNEL_NAME_PATTERN = "^[a-z0-9][a-z0-9_-]{0,63}$";

export const ChannelRequest = T.Object(
  {
    name: T.String({ pattern: CHANNEL_NAME_PATTERN, description: "Lower-case letters, digits, - and _ (≤ 64), unique per tenant" }),
    jobs: T.Array(T.String({ maxLength: 64 }), { minItems: 1, maxItems: 500, description: "Completed audio jobs, played in this order" }),
    loop: T.Optional(T.Boolean({ default: true, description: "Start again after the last track" })),
  },
  { additionalProperties: false },
);
export type ChannelRequest = Static<typeof ChannelRequest>;

export const StreamRendition = T.Object({
  codec: T.Union(STREAM_CODECS.map((c) => T.Literal(c))),
  bitrateKbps: T.Integer(),
  /** The job's output file it is read from. */
  name: T.String(),
});
export type StreamRendition = Static<typeof StreamRendition>;

export const ChannelTrack = T.Object({
  jobId: T.String(),
  title: T.String(),
  durationSec: T.Number(),
  renditions: T.Array(StreamRendition),
});
export type ChannelTrack = Static<typeof ChannelTrack>;

/** A channel as Redis holds it for every monitor: its playlist and its clock (channels/clock.ts). */
export const ChannelRecord = T.Object({
  tenant: T.String(),
  name: T.String(),
  loop: T.Boolean(),
  tracks: T.Array(ChannelTrack),
  epochMs: T.Number(),
  pausedSec: T.Number(),
  liveSinceMs: T.Union([T.Number(), T.Null()]),
  createdAt: T.Number(),
});
export type ChannelRecord = Static<typeof ChannelRecord>;

export const channelKey = (tenant: string, name: string) => `${tenant}/${name}`;

export const NowPlaying = T.Object({
  jobId: T.String(),
  title: T.String(),
  index: T.Integer(),
  positionSec: T.Number(),
  durationSec: T.Number(),
});

export const ChannelView = T.Object({
  name: T.String(),
  jobs: T.Array(T.String()),
  loop: T.Boolean(),
  createdAt: T.String(),
  live: T.Boolean(),
  nowPlaying: T.Union([NowPlaying, T.Null()]),
  listeners: T.Integer({ description: "Listeners on every monitor node" }),
});
export type ChannelView = Static<typeof ChannelView>;

/** What a listener sends on /v1/stream. */
export const StreamClientMessage = T.Union([
  T.Object({ type: T.Literal("stream.start"), channel: T.String({ maxLength: 64 }), bitrate: T.Optional(T.Integer({ minimum: 8, maximum: 512 })) }),
  T.Object({ type: T.Literal("stream.stop") }),
]);
export type StreamClientMessage = Static<typeof StreamClientMessage>;

/** One stored listener session (GET /v1/channels/:name/listeners). */
export const ListenerSession = T.Object({
  id: T.String(),
  channel: T.String(),
  node: T.String(),
  codec: T.String(),
  bitrate: T.Integer({ description: "kbps of the rendition sent" }),
  startedAt: T.String(),
  endedAt: T.Union([T.String(), T.Null()]),
  bytes: T.Integer(),
  endReason: T.Union([T.String(), T.Null()]),
});
export type ListenerSession = Static<typeof ListenerSession>;

/** Monitors → api role (Redis list CHANNEL_REPORTS_KEY): what the records should learn. */
export const ChannelReport = T.Union([
  T.Object({
    kind: T.Literal("session"),
    id: T.String(),
    tenant: T.String(),
    channel: T.String(),
    tokenId: T.Union([T.String(), T.Null()]),
    node: T.String(),
    codec: T.String(),
    bitrateKbps: T.Integer(),
    startedAt: T.Number(),
    endedAt: T.Union([T.Number(), T.Null()]),
    bytes: T.Integer(),
    endReason: T.Union([T.String(), T.Null()]),
  }),
  T.Object({ kind: T.Literal("clock"), tenant: T.String(), channel: T.String(), pausedSec: T.Number(), liveSinceMs: T.Union([T.Number(), T.Null()]) }),
  // A broadcast recorded at <data>/media/<jobId>/source, to submit as an audio job of its broadcaster.
  T.Object({
    kind: T.Literal("broadcast"),
    jobId: T.String(),
    tenant: T.String(),
    principal: T.Object({ tokenId: T.Union([T.String(), T.Null()]), name: T.String(), tenant: T.String(), scopes: T.Array(T.String()) }),
    channel: T.String(),
    bytes: T.Integer(),
    mime: T.String(),
  }),
]);
export type ChannelReport = Static<typeof ChannelReport>;
