// The job shape of SPEC §2, once. Routes, OpenAPI, the store and the CLI all use these.
import { Type as T, type Static } from "@sinclair/typebox";
import { JOB_TYPES } from "../config/schema";
import { JOB_ERROR_CODES } from "../errors";
import { Waiting } from "../nodes/capabilities";
import { JobNotify } from "../events/notifications/schema";

export const JobStatus = T.Union(
  [T.Literal("queued"), T.Literal("active"), T.Literal("completed"), T.Literal("failed"), T.Literal("cancelled")],
  { description: "Lifecycle state" },
);
export type JobStatus = "queued" | "active" | "completed" | "failed" | "cancelled";
export const TERMINAL: ReadonlySet<JobStatus> = new Set(["completed", "failed", "cancelled"]);

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
      },
      { description: "While active: the latest progress detail; while queued: `waiting`, when no online node can run the job" },
    ),
  ),
});
export type Job = Static<typeof Job>;

export const JobList = T.Object({ items: T.Array(Job), nextCursor: T.Union([T.String(), T.Null()]) });
export type JobList = Static<typeof JobList>;

export const METADATA_MAX_BYTES = 16 * 1024;
