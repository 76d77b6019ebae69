import type { StoredSource } from "../jobs/schema";
import { requirementOf } from "../nodes/capabilities";
import type { WorkItem } from "../queue/payload";
import type { Queues } from "../queue/queues";
import type { JobRow } from "../store/jobs";

/** A row as the payload BullMQ carries to a worker. */
export function workItem(row: JobRow): WorkItem {
  return workItemOf(row, JSON.parse(row.source) as StoredSource, JSON.parse(row.options) as Record<string, unknown>);
}

/** The same from a row just written, with the source and options it was written from (no re-parse on the submit path). */
export function workItemOf(row: Pick<JobRow, "id" | "run" | "type" | "tenant">, source: StoredSource, options: Record<string, unknown>): WorkItem {
  return { id: row.id, run: row.run, type: row.type, tenant: row.tenant, source, options };
}

/** The requirement of a row's job ([] for most jobs). */
export function rowRequirement(row: Pick<JobRow, "options">): string[] {
  return requirementOf(JSON.parse(row.options) as Record<string, unknown>);
}

/** The queue a row's job is in: its type's, or its requirement queue (the same function submit used). */
export function queueOf(queues: Queues, row: Pick<JobRow, "type" | "options">) {
  return queues.of(row.type, rowRequirement(row));
}
