// The API view of a job record (SPEC §2): ISO times, output URLs, and of `live` only what the
// status makes meaningful. The one place a record becomes what clients see.
import type { Job, JobRecord, LiveProgress } from "../../jobs/schema";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function outputUrl(jobId: string, name: string): string {
  return `/v1/jobs/${jobId}/outputs/${name.split("/").map(encodeURIComponent).join("/")}`;
}

/** Progress detail while active; the `waiting` marker and the position while queued; nothing once finished. */
function liveView(r: JobRecord, position: number | null): { live?: Job["live"] } {
  const { waiting, ...progress }: LiveProgress = r.live ?? {};
  if (r.status === "active") return r.live ? { live: progress } : {};
  if (r.status !== "queued" || (!waiting && position === null)) return {};
  return { live: { ...(waiting ? { waiting } : {}), ...(position !== null ? { position } : {}) } };
}

/** `position`: the job's place in its queue (services/positions.ts), null when not known. */
export function jobView(r: JobRecord, position: number | null = null): Job {
  return {
    id: r.id,
    type: r.type,
    status: r.status,
    progress: r.progress,
    priority: r.priority,
    source: r.source,
    options: r.options,
    metadata: r.metadata === undefined ? null : r.metadata,
    outputs: r.outputs.map((o) => ({ ...o, url: outputUrl(r.id, o.name) })),
    result: r.result,
    error: r.error,
    attempts: r.attempts,
    node: r.node,
    createdAt: iso(r.createdAt)!,
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    ...liveView(r, position),
  };
}
