// The API view of a job record (SPEC §2): ISO times, output URLs, and of `live` only what the
// status makes meaningful. The one place a record becomes what clients see.
import type { Job, JobRecord, LiveProgress } from "../../jobs/schema";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function outputUrl(jobId: string, name: string): string {
  return `/v1/jobs/${jobId}/outputs/${name.split("/").map(encodeURIComponent).join("/")}`;
}

/** Progress detail while active; only the `waiting` marker while queued; nothing once finished. */
function liveView(r: JobRecord): { live?: LiveProgress } {
  if (!r.live) return {};
  const { waiting, ...progress } = r.live;
  if (r.status === "active") return { live: progress };
  if (r.status === "queued" && waiting) return { live: { waiting } };
  return {};
}

export function jobView(r: JobRecord): Job {
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
    ...liveView(r),
  };
}
