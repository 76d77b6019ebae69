// Turns what workers report through Redis into records (the api role is the only writer).
// BullMQ's event stream starts at "now" and is trimmed, so it is only a fast hint: the truth
// is the BullMQ job itself, read on every hint and by the periodic reconcile of all open
// records (services/recovery.ts), which applies what it finds with this recorder's applyJob.
import type { Job, Queue, QueueEvents } from "bullmq";
import { Value } from "@sinclair/typebox/value";
import { JOB_TYPES, type JobType } from "../jobs/schema";
import type { MedianodeEvent } from "../events/types";
import { isErrorCode, toJobErrorCode, type JobErrorCode } from "../errors";
import { jobEvent } from "../events/job-event";
import type { JobError, JobRecord } from "../jobs/schema";
import { createRedis, settleWithin } from "../queue/connection";
import { createQueueEvents } from "../queue/events";
import { WorkItem, WorkProgress, WorkResult } from "../queue/payload";
import { parseBullJobId } from "../queue/queues";
import type { ServiceDeps } from "./deps";
import { enqueue } from "./jobs";
import { queueOf } from "./work-item";
import { watchRequirementQueues } from "../queue/requirement-queues";

/** What applying one BullMQ job's state to its record did. */
export type Applied = "applied" | "requeued" | "none";

export interface Recorder {
  /** Applies the state of one BullMQ job (null: Redis has none) to its open record. */
  applyJob(row: JobRecord, found: Job | null | undefined): Promise<Applied>;
  stop(): Promise<void>;
}


/** The failed record's error code, bounded to SPEC §2's list (a label value never grows). */
function failureCode(row: JobRecord): JobErrorCode {
  const code = row.error?.code;
  return isErrorCode(code) ? toJobErrorCode(code) : "INTERNAL";
}

/** `leading`: whether this node announces progress and pauses (the duties' holder: one announcement per cluster). */
export async function startRecorder(deps: ServiceDeps, redisUrl: string, o: { leading(): boolean }): Promise<Recorder> {
  const observe = (e: MedianodeEvent, row: JobRecord) => {
    const m = deps.metrics;
    if (e.type === "job.active" && row.startedAt) m.jobWait.observe({ type: row.type }, Math.max(0, (row.startedAt - row.createdAt) / 1000));
    if (e.type === "job.completed" || e.type === "job.failed") {
      m.jobsTotal.inc({ type: row.type, status: row.status });
      if (e.type === "job.failed") m.jobFailures.inc({ type: row.type, code: failureCode(row) });
      if (row.startedAt && row.finishedAt) m.jobDuration.observe({ type: row.type }, Math.max(0, (row.finishedAt - row.startedAt) / 1000));
      const dur = row.result?.durationSec;
      if (e.type === "job.completed" && row.type !== "probe" && typeof dur === "number" && dur > 0) m.mediaSeconds.inc({ type: row.type }, dur);
    }
  };
  const emit = (e: MedianodeEvent, row: JobRecord) => {
    observe(e, row);
    deps.bus.emit(e, row.tenant);
  };

  /**
   * A job that ran and ended before its start was recorded (the holder announcing starts died
   * or was taken over meanwhile, another api node applied the end first, or no api ran at the
   * time) is recorded active before it is finished: job.active is emitted once like any other
   * transition, before the end, and started_at is when the worker took it (BullMQ's processedOn).
   */
  const activeFirst = async (row: JobRecord, job: Job, node: string, now: number) => {
    if (row.status !== "queued") return;
    const r = await deps.records.jobs.markActive(row.id, row.run, Math.max(job.attemptsMade, 1), node, job.processedOn ?? now);
    if (r) emit(jobEvent("job.active", r), r);
  };

  /** Applies the state of one BullMQ job to its row. Returns true when the row changed. */
  const applyJob = async (row: JobRecord, found: Job | null | undefined): Promise<Applied> => {
    let job = found;
    const now = deps.now();
    if (!job) {
      // Never handed over (a crash between commit and add) or lost by Redis (FLUSHALL, a
      // restart without persistence): the row is the record. A submission still in flight
      // is harmless here: BullMQ dedupes the second add of the same job id.
      deps.log.warn("job missing from Redis; enqueueing it", { jobId: row.id });
      await enqueue(deps, row);
      return "requeued";
    }
    const state = await job.getState();
    // The job object may have been read before it finished: re-read it once its state is
    // final, or its return value / failure detail would be the stale (empty) one.
    if (state === "completed" || state === "failed") {
      const fresh = await queueOf(deps.queues, row).getJob(job.id!);
      if (fresh) job = fresh;
    }
    if (state === "completed") {
      const rv: unknown = typeof job.returnvalue === "string" ? JSON.parse(job.returnvalue) : job.returnvalue;
      if (!Value.Check(WorkResult, rv)) {
        const r = await deps.records.jobs.finish(row.id, row.run, { status: "failed", error: { code: "INTERNAL", message: "worker returned a malformed result" }, at: now });
        if (r) emit(jobEvent("job.failed", r, { error: r.error }), r);
        return r ? "applied" : "none";
      }
      await activeFirst(row, job, rv.node, now);
      const r = await deps.records.jobs.finish(row.id, row.run, { status: "completed", outputs: rv.outputs, result: rv.result, node: rv.node, attempts: job.attemptsMade, at: now });
      if (r) emit(jobEvent("job.completed", r, { outputs: rv.outputs.length }), r);
      return r ? "applied" : "none";
    }
    if (state === "failed") {
      const data = Value.Check(WorkItem, job.data) ? job.data : null;
      const error: JobError = data?.lastError ?? { code: "INTERNAL", message: job.failedReason || "failed" };
      if (Value.Check(WorkProgress, job.progress)) await activeFirst(row, job, job.progress.node, now);
      const r = await deps.records.jobs.finish(row.id, row.run, { status: "failed", error, attempts: Math.max(job.attemptsMade, 1), at: now });
      if (r) emit(jobEvent("job.failed", r, { error: { code: error.code, message: error.message } }), r);
      return r ? "applied" : "none";
    }
    if (state === "active" && row.status === "queued") {
      // The worker's first progress report names its node; until it lands, there is nothing to record.
      const p = Value.Check(WorkProgress, job.progress) ? job.progress : null;
      if (!p) return "none";
      const r = await deps.records.jobs.markActive(row.id, row.run, job.attemptsMade + 1, p.node, now);
      if (r) emit(jobEvent("job.active", r), r);
      return r ? "applied" : "none";
    }
    if ((state === "delayed" || state === "waiting" || state === "prioritized") && row.status === "active" && job.attemptsMade > 0) {
      const r = await deps.records.jobs.markRetrying(row.id, row.run, job.attemptsMade, now);
      if (r) emit(jobEvent("job.retrying", r, { attempts: job.attemptsMade, error: job.failedReason }), r);
      return r ? "applied" : "none";
    }
    return "none";
  };

  const applyById = async (bullId: string) => {
    const ids = parseBullJobId(bullId);
    if (!ids) return;
    const row = await deps.records.jobs.get(ids.id);
    if (!row || row.run !== ids.run || (row.status !== "queued" && row.status !== "active")) return;
    const job = await queueOf(deps.queues, row).getJob(bullId);
    if (job) await applyJob(row, job);
  };

  const onProgress = async (bullId: string, data: unknown) => {
    const ids = parseBullJobId(bullId);
    if (!ids || !o.leading() || !Value.Check(WorkProgress, data)) return;
    const now = deps.now();
    let row = await deps.records.jobs.get(ids.id);
    if (!row || row.run !== ids.run || (row.status !== "queued" && row.status !== "active")) return;
    if (row.status === "queued") {
      const r = await deps.records.jobs.markActive(row.id, row.run, row.attempts + 1, data.node, now);
      if (r) emit(jobEvent("job.active", r), r);
      row = r ?? row;
    }
    const live = data.etaSec !== undefined || data.renditions ? { etaSec: data.etaSec, renditions: data.renditions } : null;
    await deps.records.jobs.setProgress(row.id, row.run, data.progress, live, now);
    emit({ ...jobEvent("job.progress", row), progress: data.progress, node: data.node, data: { etaSec: data.etaSec, renditions: data.renditions } }, row);
  };

  const events: QueueEvents[] = [];
  const conns: ReturnType<typeof createRedis>[] = [];
  const hint = (bullId: string) => {
    applyById(bullId).catch((e) => deps.log.warn("could not apply job report; reconcile will retry", { bullId, error: e }));
  };
  // One QueueEvents per queue: the type queues now, requirement queues as they are registered.
  const watchQueue = (queue: Queue<WorkItem>, type: JobType, isTypeQueue: boolean, fromStart = false) => {
    const name = queue.name;
    const conn = createRedis(redisUrl, "blocking", `medianode-events-${name}`);
    conns.push(conn);
    // A queue registered while we run is read from its first event: its first jobs may be
    // added (and run) before this watcher is ready. Queues known at start begin at "now";
    // the start-up reconcile covers what happened before.
    const qe = createQueueEvents(name, conn, { fromStart });
    qe.on("progress", ({ jobId, data }) => void onProgress(jobId, data).catch((e) => deps.log.warn("could not record progress", { bullId: jobId, error: e })));
    qe.on("completed", ({ jobId }) => hint(jobId));
    qe.on("failed", ({ jobId }) => hint(jobId));
    qe.on("delayed", ({ jobId }) => hint(jobId));
    qe.on("active", ({ jobId }) => {
      hint(jobId);
      // Everyone behind it moves up one now (services/positions.ts).
      deps.positions.touch(queue, true);
    });
    qe.on("waiting", () => deps.positions.touch(queue));
    qe.on("removed", () => deps.positions.touch(queue));
    qe.on("error", (e) => deps.log.warn("queue events error", { queue: name, error: e }));
    // Pauses from any node reach every monitor through the queue's event stream; a type's
    // requirement queues pause with it, so only the type queue's events are announced.
    if (isTypeQueue) {
      for (const [bull, ours] of [["paused", "queue.paused"], ["resumed", "queue.resumed"]] as const) {
        qe.on(bull, () => {
          if (!o.leading()) return;
          const e: MedianodeEvent = { type: ours, at: new Date().toISOString(), data: { queue: type } };
          deps.bus.emit(e, null);
        });
      }
    }
    events.push(qe);
    return qe;
  };
  for (const type of JOB_TYPES) watchQueue(deps.queues.of(type), type, true);
  const requirementWatch = await watchRequirementQueues(deps.redis, createRedis(redisUrl, "blocking", `medianode-requirements-${deps.nodeId}`), (q, atStart) => {
    watchQueue(deps.queues.of(q.type, q.require), q.type, false, !atStart);
  });
  await Promise.all(events.map((e) => e.waitUntilReady()));

  return {
    applyJob,
    async stop() {
      requirementWatch.stop();
      await settleWithin(2000, Promise.all(events.map((e) => e.close())));
      for (const c of conns) c.disconnect();
    },
  };
}
