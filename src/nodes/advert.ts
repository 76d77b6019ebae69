// What a node tells the others about itself (SPEC §2, §3): kept in Redis with a TTL.
import { Type as T, type Static } from "@sinclair/typebox";

export const NodeAdvert = T.Object({
  id: T.String(),
  host: T.String(),
  roles: T.Array(T.String()),
  concurrency: T.Record(T.String(), T.Integer()),
  activeJobs: T.Integer(),
  version: T.String(),
  ffmpegVersion: T.Union([T.String(), T.Null()]),
  encoders: T.Array(T.String()),
  hwaccels: T.Array(T.String()),
  decoders: T.Optional(T.Array(T.String(), { description: "Image formats this node decodes beyond sharp's own: \"heic\" when libheif's heif-convert is installed (absent from older nodes)" })),
  labels: T.Optional(T.Array(T.String(), { description: "MEDIANODE_CAPABILITIES: operator labels (absent from older nodes)" })),
  freeDiskBytes: T.Union([T.Integer(), T.Null()]),
  startedAt: T.String(),
  lastSeen: T.String(),
});
export type NodeAdvert = Static<typeof NodeAdvert>;

export const NODE_KEY_PREFIX = "medianode:nodes:";
export const NODE_EVENTS_CHANNEL = "medianode:node-events";
/** A node not seen for this long is offline (SPEC: "nodes seen in the last minute"). */
export const NODE_TTL_SEC = 60;
export const HEARTBEAT_MS = 10_000;
