import type { JobRow } from "../store/jobs";
import type { EventType, MedianodeEvent } from "./types";

export function jobEvent(type: EventType, row: JobRow, data?: unknown): MedianodeEvent {
  return { type, jobId: row.id, status: row.status, progress: row.progress, node: row.node, at: new Date().toISOString(), ...(data === undefined ? {} : { data }) };
}

/** The job's current state as one event, for a client that connects late (SPEC §4). */
export function snapshotEvent(row: JobRow): MedianodeEvent {
  const type: EventType =
    row.status === "queued" ? "job.queued" : row.status === "active" ? "job.progress" : row.status === "completed" ? "job.completed" : row.status === "failed" ? "job.failed" : "job.cancelled";
  return jobEvent(type, row, { snapshot: true, ...(row.live ? { live: JSON.parse(row.live) as unknown } : {}) });
}
