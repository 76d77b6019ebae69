// "If no node has it, the job says so instead of waiting silently" (issue 6): a queued job
// whose options.require no online worker covers carries `live.waiting`, set at submit and
// refreshed by every reconcile; it is cleared when a capable node comes online or the job
// starts. A job still waiting after MEDIANODE_JOB_TIMEOUT_SEC fails with TIMEOUT, so a
// requirement nobody will ever meet (a typo, a retired GPU host) ends instead of lingering.
import { jobEvent } from "../events/job-event";
import type { NodeAdvert } from "../nodes/advert";
import { requirementOf, waitingFor } from "../nodes/capabilities";
import { type Waiting } from "../jobs/schema";
import { listNodes } from "../nodes/heartbeat";
import { bullJobId } from "../queue/queues";
import { waitingOf } from "../store/records";
import type { JobRecord } from "../jobs/schema";
import type { ServiceDeps } from "./deps";
import { queueOf } from "./work-item";

/** Online adverts, or null when Redis cannot say (then no marker is changed). */
export async function onlineNodes(deps: Pick<ServiceDeps, "redis">): Promise<NodeAdvert[] | null> {
  try {
    return await listNodes(deps.redis);
  } catch {
    return null;
  }
}

/**
 * Brings one queued record's marker up to date with the online nodes; emits `job.queued` with
 * `data.waiting` (the marker, or null once cleared) when it changes. Returns the row as it
 * is now. `event: false` at submit, where the caller's own job.queued carries the marker.
 */
export async function refreshWaiting(deps: ServiceDeps, row: JobRecord, nodes: readonly NodeAdvert[], o: { event?: boolean } = {}): Promise<JobRecord> {
  if (row.status !== "queued") return row;
  const require = requirementOf(row.options);
  if (require.length === 0) return row;
  const now = deps.now();
  const had = waitingOf(row);
  const next = waitingFor(nodes, row.type, require, had?.since ?? new Date(now).toISOString());
  if (next && now - Date.parse(next.since) > deps.config.jobTimeoutSec * 1000) return await expire(deps, row, next);
  const changed = await deps.records.jobs.setWaiting(row.id, row.run, next, now);
  if (!changed) return row;
  if (o.event !== false) deps.bus.emit(jobEvent("job.queued", changed, { waiting: next }), changed.tenant);
  if (next) deps.log.warn("job waits for a capable node", { jobId: row.id, require });
  return changed;
}

async function expire(deps: ServiceDeps, row: JobRecord, w: Waiting): Promise<JobRecord> {
  const message = `no online node had ${w.require.join(", ")} for ${deps.config.jobTimeoutSec} s (MEDIANODE_JOB_TIMEOUT_SEC)`;
  const done = await deps.records.jobs.finish(row.id, row.run, { status: "failed", error: { code: "TIMEOUT", message }, at: deps.now() });
  if (!done) return row;
  deps.metrics.jobsTotal.inc({ type: done.type, status: "failed" });
  deps.metrics.jobFailures.inc({ type: done.type, code: "TIMEOUT" });
  deps.bus.emit(jobEvent("job.failed", done, { error: { code: "TIMEOUT", message } }), done.tenant);
  // The row is the record; a job left in its queue would run later with nobody to record it.
  await queueOf(deps.queues, row)
    .getJob(bullJobId(row.id, row.run))
    .then((j) => j?.remove())
    .catch(() => {});
  return done;
}
