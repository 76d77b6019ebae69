import type { JobRecord } from "../jobs/schema";
import type { EventType, MedianodeEvent } from "./types";

export function jobEvent(type: EventType, r: JobRecord, data?: unknown): MedianodeEvent {
  return { type, jobId: r.id, status: r.status, progress: r.progress, node: r.node, at: new Date().toISOString(), ...(data === undefined ? {} : { data }) };
}

/** The job's current state as one event, for a client that connects late (SPEC §4); `position` while queued, where known. */
export function snapshotEvent(r: JobRecord, position: number | null = null): MedianodeEvent {
  const type: EventType =
    r.status === "queued" ? "job.queued" : r.status === "active" ? "job.progress" : r.status === "completed" ? "job.completed" : r.status === "failed" ? "job.failed" : "job.cancelled";
  const live = { ...r.live, ...(r.status === "queued" && position !== null ? { position } : {}) };
  return jobEvent(type, r, { snapshot: true, ...(Object.keys(live).length ? { live } : {}) });
}
