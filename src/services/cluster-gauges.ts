// The cluster's gauges (metrics role): queue depths of every job type, nodes online by role,
// job records by status. Read on each scrape: a handful of Redis calls and one GROUP BY.
import type IORedis from "ioredis";
import { ALL_ROLES } from "../config/schema";
import { JOB_TYPES } from "../jobs/schema";
import type { Metrics } from "../metrics/registry";
import { listNodes } from "../nodes/heartbeat";
import { countType, type Queues } from "../queue/queues";
import type { Records } from "../store/records";

export interface ClusterGaugeDeps {
  redis: IORedis;
  queues: Queues;
  metrics: Metrics;
  /** null where the record store is out of reach: medianode_jobs is then not exported. */
  records: Records | null;
}

const QUEUE_STATES = ["waiting", "active", "delayed", "failed", "completed"] as const;

export async function refreshClusterGauges(d: ClusterGaugeDeps): Promise<void> {
  if (d.records) for (const [status, n] of Object.entries(await d.records.jobs.countByStatus())) d.metrics.jobsByStatus.set({ status }, n);
  if (d.redis.status !== "ready") return;
  const [counts, nodes] = await Promise.all([Promise.all(JOB_TYPES.map(async (t) => [t, await countType(d.queues, t)] as const)), listNodes(d.redis)]);
  for (const [t, c] of counts) for (const s of QUEUE_STATES) d.metrics.queueJobs.set({ queue: t, state: s }, c[s]);
  // Reset first: a role no node has any more reads 0, not its last value.
  d.metrics.nodesOnline.reset();
  for (const role of ALL_ROLES) d.metrics.nodesOnline.set({ role }, nodes.filter((n) => n.roles.includes(role)).length);
}
