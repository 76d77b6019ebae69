// The worker role: BullMQ Workers per job type (worker-queues.ts), media work in the thread pool.
// Workers never open SQLite: they report through Redis (BullMQ state, return values,
// progress) and the api role records it (SPEC §1).
import { rm } from "node:fs/promises";
import { UnrecoverableError, type Job } from "bullmq";
import { Value } from "@sinclair/typebox/value";
import { JOB_TYPES, type Config, type JobType } from "../config/schema";
import { CancelledError, MedianodeError, NON_RETRYABLE, toJobErrorCode, toMedianodeError } from "../errors";
import type { MediaSettings } from "../jobs/pipeline";
import { pipelineFor, SUPPORTED_TYPES } from "../jobs/registry";
import { inspectSource } from "../sources/validate";
import type { JobError } from "../jobs/schema";
import type { Logger } from "../log";
import { createRedis } from "../queue/connection";
import { CONTROL_CHANNEL } from "../queue/names";
import { ControlMessage, WorkItem, type WorkProgress, type WorkResult } from "../queue/payload";
import { startRangeProxy, type RangeProxy } from "../sources/range-proxy";
import { downloadUrl, type UrlPolicy } from "../sources/url";
import type { MediaStore } from "../storage/media-store";
import type { MediaPool } from "../workers/pool";
import { startConsumers } from "./worker-queues";

export interface WorkerRoleDeps {
  config: Config;
  redisUrl: string;
  pool: MediaPool;
  store: MediaStore;
  media: MediaSettings;
  nodeId: string;
  /** Encoders, hwaccels and MEDIANODE_CAPABILITIES labels: what options.require may ask of this node. */
  capabilities: string[];
  log: Logger;
}

export interface WorkerRole {
  /** Jobs running on this node now. */
  active(): number;
  /** Stop taking jobs; wait for running ones up to `graceMs`, then hand them back. */
  stop(graceMs?: number): Promise<void>;
}

const PROGRESS_EVERY_MS = 500;

// A dead worker's job comes back after its lock expires and a stall check runs: within
// LOCK_MS + STALLED_CHECK_MS (30 s). The lock is renewed every LOCK_MS/2 by the main thread,
// which media work never blocks (it runs in ffmpeg children and pool threads), so a two-hour
// encode keeps its lock for as long as its worker lives.
const LOCK_MS = 20_000;
const STALLED_CHECK_MS = 10_000;

export async function startWorkerRole(deps: WorkerRoleDeps): Promise<WorkerRole> {
  const { config, log } = deps;
  const connection = createRedis(deps.redisUrl, "blocking", `medianode-worker-${deps.nodeId}`);
  const sub = createRedis(deps.redisUrl, "blocking", `medianode-control-${deps.nodeId}`);
  const registryConn = createRedis(deps.redisUrl, "blocking", `medianode-registry-${deps.nodeId}`);
  const running = new Map<string, AbortController>();
  // A download may take as long as the job may: the job timeout is its time cap.
  const urlPolicy: UrlPolicy = { allowlist: config.urlAllowlist, maxBytes: config.maxUploadBytes, timeoutMs: config.jobTimeoutSec * 1000 };

  const processor = (type: JobType) => async (job: Job<WorkItem, WorkResult>, _token?: string, signal?: AbortSignal): Promise<WorkResult> => {
    if (!Value.Check(WorkItem, job.data)) throw new UnrecoverableError("malformed job payload");
    const item = job.data;
    const attempt = job.attemptsMade + 1;
    const jlog = log.child({ jobId: item.id, type, attempt, node: deps.nodeId });
    const ac = new AbortController();
    running.set(item.id, ac);
    signal?.addEventListener("abort", () => ac.abort(new CancelledError("cancelled")), { once: true });
    let lastSent = 0;
    const report = (p: Omit<WorkProgress, "run" | "node">, force = false) => {
      const now = Date.now();
      if (!force && now - lastSent < PROGRESS_EVERY_MS) return;
      lastSent = now;
      job.updateProgress({ run: item.run, node: deps.nodeId, ...p } satisfies WorkProgress).catch(() => {});
    };
    report({ progress: 0 }, true);
    jlog.info("job started");
    let proxy: RangeProxy | null = null;
    let attemptDir: string | null = null;
    try {
      let input: string;
      let inputProtocols = "file";
      const src = item.source;
      if (src.kind === "upload") input = await deps.store.fetchSource(item.id, ac.signal);
      else if (src.kind === "path") input = await deps.store.importSource(item.id, src.path, config.importDirs, ac.signal);
      else if (type === "probe") {
        proxy = startRangeProxy(src.url, urlPolicy);
        input = proxy.url;
        inputProtocols = "http,tcp";
      } else {
        input = deps.store.sourcePath(item.id);
        try {
          await downloadUrl(src.url, input, urlPolicy);
        } catch (e) {
          // Nothing of a refused download stays on disk.
          await rm(input, { force: true });
          throw e;
        }
        // A downloaded source gets the same check as an upload: media of the job's kind, or 415.
        await inspectSource(input, pipelineFor(type).accepts, { ffprobe: deps.media.ffprobe, maxPixels: deps.media.maxPixels });
      }
      attemptDir = await deps.store.prepareAttempt(item.id, item.run, attempt);
      const out = await deps.pool.run(
        type,
        { jobId: item.id, input, inputProtocols, outDir: attemptDir, options: item.options, media: deps.media },
        { signal: ac.signal, timeoutMs: config.jobTimeoutSec * 1000, onProgress: (p) => report(p) },
      );
      if (proxy) out.result.bytesFetched = proxy.bytesFetched();
      await deps.store.commitAttempt(item.id, attemptDir, ac.signal);
      attemptDir = null;
      jlog.info("job completed", { outputs: out.outputs.length });
      return { run: item.run, node: deps.nodeId, outputs: out.outputs, result: out.result };
    } catch (e) {
      const raw: MedianodeError = ac.signal.aborted && ac.signal.reason instanceof Error ? toMedianodeError(ac.signal.reason) : toMedianodeError(e);
      const err = new MedianodeError(toJobErrorCode(raw.code), raw.message, raw.details);
      const details = (err.details ?? (e as { details?: unknown }).details) as { stderrTail?: string; probe?: unknown } | undefined;
      const lastError: JobError = {
        code: err.code as JobError["code"],
        message: err.message,
        ...(details?.stderrTail ? { stderrTail: details.stderrTail.slice(-4096) } : {}),
        ...(details?.probe ? { probe: details.probe } : {}),
      };
      const final = NON_RETRYABLE.has(err.code) || attempt >= (job.opts.attempts ?? 1);
      (final ? jlog.error : jlog.warn)("job attempt failed", { code: err.code, error: err.message, final });
      await job.updateData({ ...item, lastError }).catch(() => {});
      if (NON_RETRYABLE.has(err.code)) throw new UnrecoverableError(`${err.code}: ${err.message}`);
      throw new Error(`${err.code}: ${err.message}`);
    } finally {
      running.delete(item.id);
      proxy?.stop();
      if (attemptDir) await deps.store.discardAttempt(attemptDir).catch(() => {});
      // A remote worker's copies (source, outputs) go once the attempt ends; in place: nothing.
      await deps.store.releaseJob(item.id).catch(() => {});
    }
  };

  // The type queues, and the requirement queues this node's capabilities cover (worker-queues.ts).
  const consumers = await startConsumers({
    connection,
    redis: registryConn,
    sub: createRedis(deps.redisUrl, "blocking", `medianode-requirements-${deps.nodeId}`),
    concurrency: Object.fromEntries(JOB_TYPES.filter((t) => SUPPORTED_TYPES.includes(t)).map((t) => [t, config.concurrency[t]])),
    capabilities: new Set(deps.capabilities),
    processor,
    workerOptions: {
      lockDuration: LOCK_MS,
      stalledInterval: STALLED_CHECK_MS,
      // A job whose worker died is put back, not failed: only a job that stalls again and
      // again (a poison job that kills its worker) ends as failed.
      maxStalledCount: 3,
    },
    log,
  });

  await sub.subscribe(CONTROL_CHANNEL);
  sub.on("message", (_ch, raw) => {
    let msg: unknown;
    try {
      msg = JSON.parse(raw);
    } catch {
      return;
    }
    if (!Value.Check(ControlMessage, msg)) return;
    const ac = running.get(msg.jobId);
    if (ac) {
      log.info("cancelling job", { jobId: msg.jobId });
      ac.abort(new CancelledError("cancelled by request"));
    }
  });
  log.info("worker role started", { node: deps.nodeId, queues: consumers.names(), capabilities: deps.capabilities.length });

  return {
    active: () => running.size,
    async stop(graceMs = 30_000) {
      await consumers.stop(graceMs);
      sub.disconnect();
      registryConn.disconnect();
      connection.disconnect();
    },
  };
}
