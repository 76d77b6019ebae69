import type { StoredSource } from "../jobs/schema";
import type { WorkItem } from "../queue/payload";
import type { JobRow } from "../store/jobs";

/** A row as the payload BullMQ carries to a worker. */
export function workItem(row: JobRow): WorkItem {
  return {
    id: row.id,
    run: row.run,
    type: row.type,
    tenant: row.tenant,
    source: JSON.parse(row.source) as StoredSource,
    options: JSON.parse(row.options) as Record<string, unknown>,
  };
}
