import type { JobRecord } from "../jobs/schema";
import { requirementOf } from "../nodes/capabilities";
import type { WorkItem } from "../queue/payload";
import type { Queues } from "../queue/queues";

/** A record as the payload BullMQ carries to a worker. */
export function workItem(r: Pick<JobRecord, "id" | "run" | "type" | "tenant" | "source" | "options">): WorkItem {
  return { id: r.id, run: r.run, type: r.type, tenant: r.tenant, source: r.source, options: r.options };
}

/** The requirement of a record's job ([] for most jobs). */
export function recordRequirement(r: Pick<JobRecord, "options">): string[] {
  return requirementOf(r.options);
}

/** The queue a record's job is in: its type's, or its requirement queue (the same function submit used). */
export function queueOf(queues: Queues, r: Pick<JobRecord, "type" | "options">) {
  return queues.of(r.type, recordRequirement(r));
}
