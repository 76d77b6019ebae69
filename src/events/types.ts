// The SPEC §4 event list and payload, once. The WebSocket hub, webhooks, the recorder
// and the dashboard import these; a test compares them with the SPEC.
import { Type as T, type Static } from "@sinclair/typebox";
import { JobStatus } from "../jobs/schema";

export const EVENT_TYPES = [
  "job.queued",
  "job.active",
  "job.progress",
  "job.completed",
  "job.failed",
  "job.retrying",
  "job.cancelled",
  "node.online",
  "node.offline",
  "queue.paused",
  "queue.resumed",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Terminal events: the only ones webhooks deliver. */
export const TERMINAL_EVENTS: ReadonlySet<EventType> = new Set(["job.completed", "job.failed", "job.cancelled"]);

export const MedianodeEvent = T.Object({
  type: T.Union(EVENT_TYPES.map((t) => T.Literal(t))),
  jobId: T.Optional(T.String()),
  status: T.Optional(JobStatus),
  progress: T.Optional(T.Number()),
  node: T.Optional(T.Union([T.String(), T.Null()])),
  at: T.String({ format: "date-time" }),
  data: T.Optional(T.Unknown()),
});
export type MedianodeEvent = Static<typeof MedianodeEvent> & { type: EventType };

/** In-process listeners (WebSocket hub, webhooks, metrics) of the api role. */
export type EventListener = (e: MedianodeEvent, tenant: string | null) => void;
