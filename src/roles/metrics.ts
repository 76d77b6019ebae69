// The metrics role: the cluster's gauges on this process's /metrics (SPEC §1, §9): queue
// depths of every job type, nodes online, job records by status. Needs only Redis, plus the
// record store where it can read it (for medianode_jobs). What a process measures about
// itself (HTTP, jobs it ran, ffmpeg processes) is exported whatever its roles.
import { createRedis, waitForRedis } from "../queue/connection";
import { createQueues, closeQueues } from "../queue/queues";
import { refreshClusterGauges } from "../services/cluster-gauges";
import type { Records } from "../store/records";
import type { NodeContext, Role } from "./context";

export async function startMetricsRole(ctx: NodeContext, o: { records: Records | null }): Promise<Role> {
  const redis = createRedis(ctx.redisUrl, "producer", `medianode-metrics-${ctx.nodeId}`);
  // BullMQ's queues on a connection that is not ready yet never become usable (as in the api role).
  await waitForRedis(redis, 10_000).catch((e) => ctx.log.warn("Redis not ready at start; cluster gauges stay empty until it is", { error: e }));
  const queues = createQueues(redis);
  ctx.onScrape(() => refreshClusterGauges({ redis, queues, metrics: ctx.metrics, records: o.records }));
  ctx.log.info("metrics role started", { records: o.records !== null });
  return {
    async stop() {
      await closeQueues(queues).catch(() => {});
      redis.disconnect();
    },
  };
}
