// The worker role: consumes the queues this node can serve (queue/consumers.ts) and runs each
// attempt with jobs/attempt.ts; media work runs in the thread pool. It owns the queue side of
// an attempt: progress reports, cancel messages, the lock, hand-back on shutdown.
// Workers never open SQLite: they report through Redis (BullMQ state, return values,
// progress) and the api role records it (SPEC §1).
import { UnrecoverableError, WaitingError, type Job } from "bullmq";
import { Value } from "@sinclair/typebox/value";
import { type Config } from "../config/schema";
import { JOB_TYPES, type JobType } from "../jobs/schema";
import { CancelledError } from "../errors";
import { runAttempt, type AttemptDeps } from "../jobs/attempt";
import { attemptFailure, failureMessage } from "../jobs/attempt-failure";
import type { MediaSettings } from "../jobs/pipeline";
import { SUPPORTED_TYPES } from "../jobs/registry";
import type { Logger } from "../log";
import { createRedis, onChannelMessage, subscribeWhenReady } from "../queue/connection";
import { CONTROL_CHANNEL } from "../queue/names";
import { ControlMessage, WorkItem, type WorkProgress, type WorkResult } from "../queue/payload";
import type { UrlPolicy } from "../sources/url";
import type { MediaStore } from "../storage/media-store";
import { createMediaPool, type MediaPool } from "../pool/pool";
import type { NodeContext, Role } from "./context";
import { startConsumers } from "../queue/consumers";
import { jobRelativeText } from "../storage/paths";

export interface WorkerRoleOptions {
  /** The media files: in place (this host or a shared mount) or the api node's over HTTP. */
  mediaStore: MediaStore;
  /** Encoders, hwaccels and MEDIANODE_CAPABILITIES labels: what options.require may ask of this node. */
  capabilities: string[];
  /** Media settings for this role (hardware encoders found here); the node's by default. */
  media?: MediaSettings;
}

interface WorkerRoleDeps extends WorkerRoleOptions {
  config: Config;
  redisUrl: string;
  pool: MediaPool;
  media: MediaSettings;
  nodeId: string;
  log: Logger;
}

export interface WorkerRole extends Role {
  /** Jobs running on this node now. */
  active(): number;
  /** Stop taking jobs; wait for running ones up to `graceMs`, then hand them back. */
  stop(graceMs: number): Promise<void>;
}

/** The worker role: its thread pool, and consumers for the queues this node's capabilities cover. */
export async function startWorkerRole(ctx: NodeContext, o: WorkerRoleOptions): Promise<WorkerRole> {
  const pool = createMediaPool(ctx.config.workerThreads, ctx.log);
  ctx.onScrape(() => ctx.metrics.ffmpegProcesses.set(pool.active()));
  try {
    const consumers = await startQueueConsumers({ ...o, config: ctx.config, redisUrl: ctx.redisUrl, pool, media: o.media ?? ctx.media, nodeId: ctx.nodeId, log: ctx.log });
    let stopping: Promise<void> | null = null;
    return {
      active: consumers.active,
      // Once: serve stops it with the grace period, then again (a no-op) with the rest.
      stop: (graceMs) => (stopping ??= consumers.stop(graceMs).then(() => pool.stop())),
    };
  } catch (e) {
    await pool.stop();
    throw e;
  }
}

/** One job this node runs now. */
interface Running {
  bullId: string;
  ac: AbortController;
  /** Another worker may hold the job now: nothing of this attempt may reach Redis or out/. */
  lost: boolean;
  /** Stopping: give the job back to the queue instead of failing it. */
  handBack: boolean;
}

const PROGRESS_EVERY_MS = 500;

async function startQueueConsumers(deps: WorkerRoleDeps): Promise<WorkerRole> {
  const { config, log } = deps;
  // A dead worker's job comes back after its lock expires and a stall check runs: within
  // lockMs * 1.5 (30 s by default). The lock is renewed at least every lockMs/2 by the main
  // thread, which media work never blocks (it runs in ffmpeg children and pool threads), so a
  // two-hour encode keeps its lock for as long as its worker lives and can reach Redis.
  // MEDIANODE_LOCK_SEC exists so fault tests can watch a takeover in seconds.
  const lockMs = config.lockSec * 1000;
  const stalledCheckMs = Math.round(lockMs / 2);
  const connection = createRedis(deps.redisUrl, "blocking", `medianode-worker-${deps.nodeId}`);
  const sub = createRedis(deps.redisUrl, "blocking", `medianode-control-${deps.nodeId}`);
  const registryConn = createRedis(deps.redisUrl, "blocking", `medianode-registry-${deps.nodeId}`);
  const running = new Map<string, Running>();
  // A download may take as long as the job may: the job timeout is its time cap.
  const urlPolicy: UrlPolicy = { allowlist: config.urlAllowlist, maxBytes: config.maxUploadBytes, timeoutMs: config.jobTimeoutSec * 1000 };

  const attemptDeps: AttemptDeps = { mediaStore: deps.mediaStore, pool: deps.pool, media: deps.media, urlPolicy, importDirs: config.importDirs, jobTimeoutMs: config.jobTimeoutSec * 1000 };

  const processor = (type: JobType) => async (job: Job<WorkItem, WorkResult>, token?: string, signal?: AbortSignal): Promise<WorkResult> => {
    if (!Value.Check(WorkItem, job.data)) throw new UnrecoverableError("malformed job payload");
    const item = job.data;
    const attempt = job.attemptsMade + 1;
    const jlog = log.child({ jobId: item.id, type, attempt, node: deps.nodeId });
    const ac = new AbortController();
    const me: Running = { bullId: job.id!, ac, lost: false, handBack: false };
    running.set(item.id, me);
    signal?.addEventListener("abort", () => ac.abort(new CancelledError("cancelled")), { once: true });
    let lastSent = 0;
    // Whether this attempt got anywhere: a TIMEOUT with no progress at all is not retried
    // (another attempt would spend the same hours on the same file, issue #12). A pipeline's
    // first report is its "started" mark (probe says 10): only a rise past it counts.
    let progressed = false;
    let baseline: number | null = null;
    const onProgress = (p: Omit<WorkProgress, "run" | "node">) => {
      if (baseline === null) baseline = p.progress;
      else if (p.progress > baseline) progressed = true;
      report(p);
    };
    const report = (p: Omit<WorkProgress, "run" | "node">, force = false) => {
      const now = Date.now();
      if (me.lost || (!force && now - lastSent < PROGRESS_EVERY_MS)) return;
      lastSent = now;
      job.updateProgress({ run: item.run, node: deps.nodeId, ...p } satisfies WorkProgress).catch(() => {});
    };
    report({ progress: 0 }, true);
    jlog.info("job started");
    try {
      const out = await runAttempt(attemptDeps, {
        item,
        type,
        attempt,
        signal: ac.signal,
        onProgress,
        lockToken: token,
        // Only the lock holder may move outputs into place: a worker cut off from Redis longer
        // than its lock finds another worker owns the job now, and its attempt is dropped.
        keepLock: async () => {
          const held = !!token && (await job.extendLock(token, lockMs)) === 1;
          if (!held) me.lost = true;
          return held;
        },
      });
      jlog.info("job completed", { outputs: out.outputs.length });
      return { run: item.run, node: deps.nodeId, outputs: out.outputs, result: out.result };
    } catch (e) {
      if (me.lost) {
        // The job is another worker's now: write nothing to it (its data, its state).
        jlog.warn("job lock lost; attempt abandoned", { error: (e as Error).message });
        throw new WaitingError();
      }
      if (me.handBack && token) {
        // Stopping after the grace period: back to the queue now, not after a lock expiry.
        await job.moveToWait(token).catch((err) => jlog.warn("could not hand the job back; it returns after its lock expires", { error: err }));
        jlog.info("job handed back on shutdown");
        throw new WaitingError();
      }
      // Job errors reach the tenant: name files relative to the job, not by this node's paths.
      const relative = (t: string) => jobRelativeText(t, deps.mediaStore.root);
      const f = attemptFailure(e, ac.signal.aborted ? ac.signal.reason : undefined, attempt, job.opts.attempts ?? 1, { progressed, relative });
      (f.final ? jlog.error : jlog.warn)("job attempt failed", { code: f.error.code, error: f.error.message, final: f.final, ...(f.error.code === "TIMEOUT" ? { progressed } : {}) });
      await job.updateData({ ...item, lastError: f.error }).catch(() => {});
      // The one place a non-retryable code becomes BullMQ's "do not retry".
      if (!f.retryable) throw new UnrecoverableError(failureMessage(f));
      throw new Error(failureMessage(f));
    } finally {
      // Only our own entry: after a lost lock, this node may already run the job again.
      if (running.get(item.id) === me) running.delete(item.id);
    }
  };

  // The type queues, and the requirement queues this node's capabilities cover (queue/consumers.ts).
  const consumers = await startConsumers({
    connection,
    redis: registryConn,
    sub: createRedis(deps.redisUrl, "blocking", `medianode-requirements-${deps.nodeId}`),
    concurrency: Object.fromEntries(JOB_TYPES.filter((t) => SUPPORTED_TYPES.includes(t)).map((t) => [t, config.concurrency[t]])),
    capabilities: new Set(deps.capabilities),
    processor,
    workerOptions: {
      lockDuration: lockMs,
      stalledInterval: stalledCheckMs,
      // A job whose worker died is put back, not failed: only a job that stalls again and
      // again (a poison job that kills its worker) ends as failed.
      maxStalledCount: 3,
    },
    // BullMQ only reports a failed renewal; stopping the work is ours to do (SPEC §8: the
    // side effects happen once): kill the ffmpeg of a job another worker may now be running.
    onLockLost(bullIds) {
      for (const r of running.values()) {
        if (!bullIds.includes(r.bullId)) continue;
        log.warn("job lock lost; stopping its work", { bullId: r.bullId });
        r.lost = true;
        r.ac.abort(new CancelledError("lost the job's lock"));
      }
    },
    log,
  });

  await subscribeWhenReady(sub, CONTROL_CHANNEL);
  onChannelMessage(sub, CONTROL_CHANNEL, ControlMessage, (msg) => {
    const r = running.get(msg.jobId);
    if (r) {
      log.info("cancelling job", { jobId: msg.jobId });
      r.ac.abort(new CancelledError("cancelled by request"));
    }
  });
  log.info("worker role started", { node: deps.nodeId, queues: consumers.names(), capabilities: deps.capabilities.length });

  return {
    active: () => running.size,
    async stop(graceMs) {
      // Fetching stops at once; running jobs are counted here (see Consumers.pause).
      consumers.pause();
      const until = Date.now() + graceMs;
      while (running.size && Date.now() < until) await Bun.sleep(100);
      if (running.size) log.warn("grace period over; handing running jobs back", { jobs: [...running.keys()], graceMs });
      // Jobs still running are handed back (moved to wait, so another node starts them at once)
      // and their ffmpeg is killed; close() then waits for their processors to unwind.
      const unwinding = running.size;
      for (const r of running.values()) {
        r.handBack = true;
        r.ac.abort(new CancelledError("node shutting down"));
      }
      if (!(await consumers.close(unwinding ? 10_000 : 2000))) {
        log.warn("workers did not close in time; disconnecting anyway (unfinished jobs return after their lock expires)");
      }
      sub.disconnect();
      registryConn.disconnect();
      connection.disconnect();
    },
  };
}
