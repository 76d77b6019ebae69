// The other half of the outbox repair (SPEC §8 "crash between accept and enqueue"): a BullMQ
// job whose SQLite row does not exist. That happens when an enqueue went through but its row
// was taken back (the client got a 503 and may resubmit) or never committed. The row is the
// record, so such a job is removed, not recorded: recording it would run a job the client was
// told failed, and a resubmission would then run twice.
import { JOB_TYPES } from "../jobs/schema";
import type { Queue } from "bullmq";
import { CONTROL_CHANNEL } from "../queue/names";
import type { ControlMessage, WorkItem } from "../queue/payload";
import { parseBullJobId } from "../queue/queues";
import type { ServiceDeps } from "./deps";

/** A queue's job ids as one range read found them, per state that matters here. */
export interface QueueSnapshot {
  queue: Queue<WorkItem>;
  /** Waiting to run: wait, prioritized, delayed, waiting-children. */
  parked: string[];
  running: string[];
}

/** One range read per queue and state, across every queue of every type. */
export async function snapshotQueues(deps: ServiceDeps): Promise<QueueSnapshot[]> {
  const queues = (await Promise.all(JOB_TYPES.map((t) => deps.queues.ofType(t)))).flat();
  return await Promise.all(
    queues.map(async (queue) => ({
      queue,
      parked: await queue.getRanges(["wait", "prioritized", "delayed", "waiting-children"], 0, -1),
      running: await queue.getRanges(["active"], 0, -1),
    })),
  );
}

/** Removes (or, when a worker already runs it, cancels) every open BullMQ job in `snapshot` without a row. */
export async function removeUnrecordedJobs(deps: ServiceDeps, snapshot: QueueSnapshot[]): Promise<number> {
  let removed = 0;
  for (const { queue: q, parked, running } of snapshot) {
    const ours = [...parked, ...running].flatMap((b) => {
      const ids = parseBullJobId(b);
      return ids ? [{ bullId: b, id: ids.id }] : [];
    });
    if (ours.length === 0) continue;
    const known = await deps.records.jobs.existingIds(ours.map((o) => o.id));
    for (const o of ours) {
      if (known.has(o.id)) continue;
      const job = await q.getJob(o.bullId);
      if (!job) continue;
      if ((await job.getState()) === "active") {
        const msg: ControlMessage = { kind: "cancel", jobId: o.id };
        await deps.redis.publish(CONTROL_CHANNEL, JSON.stringify(msg));
      } else {
        await job.remove().catch(() => {});
      }
      deps.log.warn("job in Redis has no row (its submission was refused); removed", { jobId: o.id, bullId: o.bullId });
      removed++;
    }
  }
  return removed;
}
