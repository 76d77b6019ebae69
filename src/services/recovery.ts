// Recovery (SPEC §8): the records and Redis brought back into agreement, once at start and
// every MEDIANODE reconcile period. Each pass:
//  - reads every open record and applies what its BullMQ job says (reports missed while the
//    api was down or the event stream was trimmed), through the recorder's applyJob;
//  - re-enqueues records whose job Redis lost or never got (a crash between commit and add);
//  - refreshes queued jobs' live.waiting marker (no online node can run them);
//  - removes BullMQ jobs that have no record (the other half of the outbox repair: an enqueue
//    went through but its record was taken back, the client having been told it failed).
import type { Queue } from "bullmq";
import { JOB_TYPES } from "../jobs/schema";
import { CONTROL_CHANNEL } from "../queue/names";
import type { ControlMessage, WorkItem } from "../queue/payload";
import { bullJobId, parseBullJobId } from "../queue/queues";
import type { ServiceDeps } from "./deps";
import type { Recorder } from "./recorder";
import { onlineNodes, refreshWaiting } from "./waiting";
import { queueOf, recordRequirement } from "./work-item";

export interface Reconciled {
  checked: number;
  applied: number;
  requeued: number;
  /** BullMQ jobs without a record, removed. */
  removed: number;
}

export interface Recovery {
  /** One pass now (or the one already running). */
  reconcile(): Promise<Reconciled>;
  stop(): Promise<void>;
}

export function startRecovery(deps: ServiceDeps, recorder: Recorder, o: { reconcileMs: number }): Recovery {
  let reconciling: Promise<Reconciled> | null = null;
  const reconcileOnce = async () => {
    let checked = 0;
    let applied = 0;
    let requeued = 0;
    let after = "";
    // One read of the adverts per pass refreshes every queued job's live.waiting marker.
    const nodes = await onlineNodes(deps);
    // What Redis holds, one range read per queue and state. A row whose job sits where the row
    // already says it is (queued and waiting, active and active) has nothing to apply: only the
    // others are read job by job. Reading all of them made a pass cost two round trips per open
    // row (a third of the api's CPU with 10,000 jobs queued).
    const snapshot = await snapshotQueues(deps);
    const parked = new Set(snapshot.flatMap((q) => q.parked));
    const running = new Set(snapshot.flatMap((q) => q.running));
    for (;;) {
      const page = await deps.records.jobs.listOpen(after, 500);
      if (page.length === 0) break;
      after = page[page.length - 1]!.id;
      for (const row of page) {
        checked++;
        const bullId = bullJobId(row.id, row.run);
        const unchanged = row.status === "queued" ? parked.has(bullId) : running.has(bullId);
        const r = unchanged ? "none" : await recorder.applyJob(row, await queueOf(deps.queues, row).getJob(bullId));
        if (r === "none" && row.status === "queued" && nodes && recordRequirement(row).length) await refreshWaiting(deps, (await deps.records.jobs.get(row.id)) ?? row, nodes);
        if (r === "applied") applied++;
        if (r === "requeued") requeued++;
      }
    }
    // The same snapshot: a job in it has its row committed already, unless it is an orphan.
    const removed = await removeUnrecordedJobs(deps, snapshot);
    return { checked, applied, requeued, removed };
  };
  const reconcile = () => {
    reconciling ??= reconcileOnce().finally(() => (reconciling = null));
    return reconciling;
  };
  const timer = setInterval(() => {
    if (deps.redis.status !== "ready") return;
    reconcile().catch((e) => deps.log.warn("reconcile failed", { error: e }));
  }, o.reconcileMs);


  return {
    reconcile,
    async stop() {
      clearInterval(timer);
      await reconciling?.catch(() => {});
    },
  };
}

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
