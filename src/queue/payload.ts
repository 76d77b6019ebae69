// What crosses Redis between the api role and the workers. Both sides check it with
// these schemas: a payload is `unknown` until Value.Check passes.
import { Type as T, type Static } from "@sinclair/typebox";
import { JobTypeSchema, StoredSource, JobErrorSchema, OutputFileSchema } from "../jobs/schema";

export const WorkItem = T.Object({
  id: T.String(),
  /** The record's run counter: reports of an older run (before a retry) are ignored. */
  run: T.Integer(),
  type: JobTypeSchema,
  tenant: T.String(),
  source: StoredSource,
  options: T.Record(T.String(), T.Unknown()),
  /** Set by the worker before it throws on an attempt: the detail a failedReason cannot carry. */
  lastError: T.Optional(JobErrorSchema),
});
export type WorkItem = Static<typeof WorkItem>;

/** A completed attempt's return value, stored by BullMQ atomically with the completion. */
export const WorkResult = T.Object({
  run: T.Integer(),
  node: T.String(),
  outputs: T.Array(OutputFileSchema),
  result: T.Record(T.String(), T.Unknown()),
});
export type WorkResult = Static<typeof WorkResult>;

/** Progress as the worker publishes it with job.updateProgress (at most every 500 ms). */
export const WorkProgress = T.Object({
  run: T.Integer(),
  progress: T.Number(),
  node: T.String(),
  etaSec: T.Optional(T.Number()),
  renditions: T.Optional(T.Record(T.String(), T.Number())),
});
export type WorkProgress = Static<typeof WorkProgress>;

/** Control messages on CONTROL_CHANNEL. */
export const ControlMessage = T.Object({ kind: T.Literal("cancel"), jobId: T.String() });
export type ControlMessage = Static<typeof ControlMessage>;
