// The job shape of SPEC §2, once. Routes, OpenAPI, the store and the CLI all use these.
import { Type as T, type Static } from "@sinclair/typebox";
// Imports nothing but errors.ts, so that config (and any layer) can take the type list from here.
import { JOB_ERROR_CODES } from "../errors";
import { JobNotify } from "../events/notifications/schema";

/** The job types (SPEC §2), in the order lists and metrics show them. */
export const JOB_TYPES = ["probe", "image", "video", "audio", "thumbnail"] as const;
export type JobType = (typeof JOB_TYPES)[number];

/** The job statuses (SPEC §2). queued and active are open; the rest are terminal. */
export const JOB_STATUSES = ["queued", "active", "completed", "failed", "cancelled"] as const;
export const JobStatus = T.Union(
  JOB_STATUSES.map((s) => T.Literal(s)),
  { description: "Lifecycle state" },
);
export type JobStatus = (typeof JOB_STATUSES)[number];
export const TERMINAL: ReadonlySet<JobStatus> = new Set(["completed", "failed", "cancelled"]);
export const OPEN_STATUSES = ["queued", "active"] as const satisfies readonly JobStatus[];

/** Why a queued job is not being picked up, shown in its view as `live.waiting` (nodes/capabilities.ts decides). */
export const Waiting = T.Object(
  {
    reason: T.Literal("NO_CAPABLE_NODE", { description: "No online worker has every required capability for this job type" }),
    require: T.Array(T.String(), { description: "The job's options.require" }),
    message: T.String(),
    since: T.String({ format: "date-time", description: "When the job was first seen waiting for such a node" }),
  },
  { description: "Set while no online node can run the job; cleared when one comes online or the job starts" },
);
export type Waiting = Static<typeof Waiting>;

export const JobTypeSchema = T.Union(JOB_TYPES.map((t) => T.Literal(t)), { description: "Pipeline to run" });

export const UrlSource = T.Object({ url: T.String({ format: "uri", maxLength: 4096, description: "http(s) URL to read" }) }, { additionalProperties: false });
export const PathSource = T.Object({ path: T.String({ minLength: 1, maxLength: 4096, description: "Absolute path inside MEDIANODE_IMPORT_DIRS" }) }, { additionalProperties: false });
export const JobSourceInput = T.Union([UrlSource, PathSource]);

/** The stored source: where the bytes are and what the client called them. */
export const StoredSource = T.Union([
  T.Object({ kind: T.Literal("upload"), filename: T.Optional(T.String()), bytes: T.Number(), mime: T.Optional(T.String()) }),
  T.Object({ kind: T.Literal("url"), url: T.String() }),
  T.Object({ kind: T.Literal("path"), path: T.String() }),
]);
export type StoredSource = Static<typeof StoredSource>;

export const JobRequest = T.Object(
  {
    type: JobTypeSchema,
    source: T.Optional(JobSourceInput),
    options: T.Optional(T.Record(T.String(), T.Unknown(), { description: "Per type; unknown keys are refused (422)" })),
    priority: T.Optional(T.Integer({ minimum: -100, maximum: 100, default: 0, description: "Higher runs sooner" })),
    metadata: T.Optional(T.Unknown({ description: "Free JSON (≤ 16 KiB), returned as given" })),
    webhook: T.Optional(T.String({ format: "uri", maxLength: 2048, description: "URL notified on terminal events" })),
    notify: T.Optional(JobNotify),
    idempotencyKey: T.Optional(T.String({ minLength: 1, maxLength: 200, description: "Same key from the same token returns the first job" })),
    attempts: T.Optional(T.Integer({ minimum: 1, maximum: 20, description: "Attempts before the job fails (default MEDIANODE_ATTEMPTS)" })),
  },
  { additionalProperties: false },
);
export type JobRequest = Static<typeof JobRequest>;

/** An output as a processor reports it (and as it crosses Redis); the api adds `url`. */
export const OutputFileSchema = T.Object({
  name: T.String({ description: "Path under the job's out/ folder" }),
  mime: T.String(),
  bytes: T.Integer(),
  width: T.Optional(T.Integer()),
  height: T.Optional(T.Integer()),
  durationSec: T.Optional(T.Number()),
  bitrate: T.Optional(T.Integer()),
});
export type OutputFile = Static<typeof OutputFileSchema>;

export const Output = T.Composite([OutputFileSchema, T.Object({ url: T.String() })]);
export type Output = Static<typeof Output>;


export const JobErrorSchema = T.Object({
  code: T.Union(JOB_ERROR_CODES.map((c) => T.Literal(c))),
  message: T.String(),
  stderrTail: T.Optional(T.String({ description: "Last 4 KiB of ffmpeg's stderr" })),
  probe: T.Optional(T.Unknown({ description: "The probe the failed attempt ran on" })),
});
export type JobError = Static<typeof JobErrorSchema>;

/** A job's live detail: progress while active, `waiting` (and `position`) while queued. */
export const LiveProgress = T.Object({
  etaSec: T.Optional(T.Number({ description: "Seconds left, from ffmpeg's speed" })),
  renditions: T.Optional(T.Record(T.String(), T.Number(), { description: "Per-rendition percent (video)" })),
  waiting: T.Optional(Waiting),
});
export type LiveProgress = Static<typeof LiveProgress>;

/**
 * A job as the record store keeps it and hands it out (store/records.ts): parsed, camelCase,
 * times in epoch ms. The API view (`Job`) is built from it in api/jobs/view.ts.
 */
export const JobRecord = T.Object({
  id: T.String(),
  tenant: T.String(),
  tokenId: T.Union([T.String(), T.Null()]),
  type: JobTypeSchema,
  status: JobStatus,
  progress: T.Number(),
  priority: T.Integer(),
  source: StoredSource,
  options: T.Record(T.String(), T.Unknown()),
  /** undefined when the client sent none (the view shows null). */
  metadata: T.Unknown(),
  outputs: T.Array(OutputFileSchema),
  result: T.Union([T.Record(T.String(), T.Unknown()), T.Null()]),
  error: T.Union([JobErrorSchema, T.Null()]),
  attempts: T.Integer(),
  maxAttempts: T.Integer(),
  node: T.Union([T.String(), T.Null()]),
  webhook: T.Union([T.String(), T.Null()]),
  /** The job's own one-off notifications (never shown in the view: a push subscription's keys). */
  notify: T.Union([JobNotify, T.Null()]),
  idempotencyKey: T.Union([T.String(), T.Null()]),
  /** Bumped by each retry: reports of an older run are ignored. */
  run: T.Integer(),
  live: T.Union([LiveProgress, T.Null()]),
  createdAt: T.Number(),
  startedAt: T.Union([T.Number(), T.Null()]),
  finishedAt: T.Union([T.Number(), T.Null()]),
  updatedAt: T.Number(),
});
export type JobRecord = Static<typeof JobRecord>;

export const Job = T.Object({
  id: T.String(),
  type: JobTypeSchema,
  status: JobStatus,
  progress: T.Number({ minimum: 0, maximum: 100 }),
  priority: T.Integer(),
  source: StoredSource,
  options: T.Record(T.String(), T.Unknown()),
  metadata: T.Union([T.Unknown(), T.Null()]),
  outputs: T.Array(Output),
  result: T.Union([T.Record(T.String(), T.Unknown()), T.Null()]),
  error: T.Union([JobErrorSchema, T.Null()]),
  attempts: T.Integer({ description: "Attempts started so far" }),
  node: T.Union([T.String(), T.Null()]),
  createdAt: T.String({ format: "date-time" }),
  startedAt: T.Union([T.String({ format: "date-time" }), T.Null()]),
  finishedAt: T.Union([T.String({ format: "date-time" }), T.Null()]),
  live: T.Optional(
    T.Object(
      {
        etaSec: T.Optional(T.Number({ description: "Seconds left, from ffmpeg's speed" })),
        renditions: T.Optional(T.Record(T.String(), T.Number(), { description: "Per-rendition percent (video)" })),
        waiting: T.Optional(Waiting),
        position: T.Optional(T.Integer({ minimum: 1, description: "While queued: 1 = next to run within its queue, priority counted" })),
      },
      { description: "While active: the latest progress detail; while queued: `position`, and `waiting` when no online node can run the job" },
    ),
  ),
});
export type Job = Static<typeof Job>;

export const JobList = T.Object({ items: T.Array(Job), nextCursor: T.Union([T.String(), T.Null()]) });
export type JobList = Static<typeof JobList>;

export const METADATA_MAX_BYTES = 16 * 1024;
