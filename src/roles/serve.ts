// `medianode serve` and `medianode worker`: builds what the roles share (roles/context.ts),
// starts the roles asked for (api, monitor, metrics, worker: each `start(ctx) → stop()`), and
// serves them on one port. Everything started is stopped in reverse order by stop().
import { mkdirSync, chmodSync } from "node:fs";
import type { Server } from "bun";
import type { Config } from "../config/schema";
import { createOpsApp } from "../api/ops";
import { createClientGate } from "../api/client-gate";
import type { WsData } from "../api/events-ws/hub";
import { BadRequestError } from "../errors";
import { createMetrics } from "../metrics/registry";
import type { MediaSettings } from "../jobs/pipeline";
import type { Logger } from "../log";
import { ffmpegEncoders, ffmpegHwaccels, ffmpegVersion, resolveBinaries } from "../media/binaries";
import { encoderDevice, usableEncoders, usableHwaccels } from "../media/hardware";
import { findHeifConvert, HEIC_CAPABILITY } from "../media/heif";
import { startHeartbeat } from "../nodes/heartbeat";
import { nodeCapabilities } from "../nodes/capabilities";
import { VERSION } from "../version";
import { newNodeId } from "../nodes/identity";
import { createRedis, settleWithin } from "../queue/connection";
import { startEmbeddedRedis } from "../queue/redis-server";
import { createLocalStore } from "../storage/local";
import type { MediaStore } from "../storage/media-store";
import { createRemoteMediaStore } from "../storage/remote";
import { openRecordsForReading } from "../store/open";
import { openBucket } from "../storage/bucket";
import { createLocalFiles } from "../storage/media-files";
import { createBucketFiles } from "../storage/s3-files";
import { createS3MediaStore } from "../storage/s3";
import type { Records } from "../store/records";
import type { NodeContext, Role } from "./context";
import { startApiRole, type ApiRole } from "./api";
import { startMetricsRole } from "./metrics";
import { startMonitorRole, type MonitorRole } from "./monitor";
import { stopAll } from "./stops";
import { startWorkerRole, type WorkerRole } from "./worker";

export interface Running {
  nodeId: string;
  port: number;
  url: string;
  redisUrl: string;
  /** Set on first start: the admin token, to print once. */
  adminToken: string | null;
  /** Stops every role; running jobs get `graceMs` (default MEDIANODE_SHUTDOWN_GRACE_SEC) to finish. */
  stop(graceMs?: number): Promise<void>;
}

/** Default image pixel limit: sharp's own (16383²), a guard against decompression bombs. */
export const MAX_PIXELS = 268_402_689;

export function mediaSettings(config: Config): MediaSettings {
  const b = resolveBinaries({ ffmpegPath: config.ffmpegPath, ffprobePath: config.ffprobePath });
  return {
    ...b,
    stallMs: config.stallSec * 1000,
    timeoutMs: config.jobTimeoutSec * 1000,
    maxPixels: MAX_PIXELS,
    heifConvert: findHeifConvert(),
    limits: { maxDurationSec: config.maxDurationSec, maxFramePixels: config.maxFramePixels, minBytesPerSec: config.minSourceBytesPerSec },
  };
}

export interface ServeOptions {
  /** How often open records are reconciled with Redis (api role). */
  reconcileMs?: number;
  /** First retention sweep after start (default 30 s; tests sooner). */
  retentionFirstMs?: number;
}

/**
 * The worker's media: the bucket directly when there is one (any host with its credentials);
 * else, without the api role and with --server, over the api node's HTTP; else the data dir.
 */
async function workerMedia(config: Config, ctx: NodeContext): Promise<MediaStore> {
  if (ctx.bucket) return createS3MediaStore({ bucket: ctx.bucket, dataDir: config.dataDir, log: ctx.log });
  if (!config.server || config.roles.includes("api")) return ctx.mediaStore;
  if (!config.token) throw new BadRequestError("--server needs --token: a token with the worker scope (MEDIANODE_TOKEN)");
  const remote = createRemoteMediaStore({ dataDir: config.dataDir, server: config.server, token: config.token, log: ctx.log });
  // Refused or unreachable at start, not a silent hang on the first job.
  await remote.hello();
  return remote;
}

export async function startServe(config: Config, log: Logger, o: ServeOptions = {}): Promise<Running> {
  const nodeId = newNodeId();
  const nlog = log.child({ node: nodeId });
  const roles = new Set(config.roles);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  chmodSync(config.dataDir, 0o700);
  const stops: (() => unknown)[] = [];
  let stopping: Promise<void> | null = null;
  const stopEverything = () => (stopping ??= stopAll(stops, nlog));
  try {
    let redisUrl = config.redisUrl;
    if (!redisUrl) {
      const embedded = await startEmbeddedRedis(config.dataDir, nlog);
      stops.push(() => embedded.stop());
      redisUrl = embedded.url;
    }
    const refreshers: (() => void | Promise<void>)[] = [];
    const mediaStore = createLocalStore(config.dataDir);
    const bucket = openBucket(config);
    // Who the client is (trusted proxies only) and the per-IP limit: before any role sees it.
    const gate = createClientGate(config, nlog);
    const ctx: NodeContext = {
      config,
      nodeId,
      log: nlog,
      redisUrl,
      metrics: createMetrics(),
      media: mediaSettings(config),
      mediaStore,
      bucket,
      mediaFiles: bucket ? createBucketFiles(bucket, mediaStore.root) : createLocalFiles(mediaStore),
      onScrape: (r) => void refreshers.push(r),
      clientOf: gate.clientOf,
      scrape: async () => void (await Promise.all(refreshers.map((r) => Promise.resolve().then(r).catch((e) => nlog.warn("gauge refresh failed", { error: e }))))),
    };
    const start = async <R extends Role>(r: Promise<R>): Promise<R> => {
      const role = await r;
      stops.push(() => role.stop(0));
      return role;
    };
    const api: ApiRole | null = roles.has("api") ? await start(startApiRole(ctx, { reconcileMs: o.reconcileMs ?? 15_000, retentionFirstMs: o.retentionFirstMs })) : null;
    // The roles that read records: the api's own handle in its process, else PostgreSQL, or a
    // read-only SQLite where the file is in reach (same host), else none (they do without).
    let records: Records | null = api?.records ?? null;
    if (!api && (roles.has("monitor") || roles.has("metrics"))) {
      records = await openRecordsForReading(config);
      const r = records;
      if (r) stops.push(() => r.close());
    }
    const monitor: MonitorRole | null = roles.has("monitor") ? await start(startMonitorRole(ctx, { records, positionOf: api?.positionOf })) : null;
    if (roles.has("metrics")) await start(startMetricsRole(ctx, { records }));

    // What this node can do: advertised by every process, and what decides which
    // requirement queues its worker role consumes (SPEC §2, options.require).
    // Hardware only where its device comes up, not whatever the build lists (media/hardware.ts).
    const ff = ctx.media.ffmpeg;
    const [ffVersion, built, hwaccels] = await Promise.all([ffmpegVersion(ff), ffmpegEncoders(ff), ffmpegHwaccels(ff).then((l) => usableHwaccels(ff, l))]);
    const encoders = usableEncoders(built, hwaccels);
    // HEIC/HEIF decoding is a capability too: a node without libheif never takes such a job.
    const decoders = ctx.media.heifConvert ? [HEIC_CAPABILITY] : [];
    let worker: WorkerRole | null = null;
    if (roles.has("worker")) {
      const capabilities = [...nodeCapabilities({ encoders, hwaccels, decoders, labels: config.capabilities })];
      // hwaccel "auto" picks among the hardware encoders whose device came up here.
      const media: MediaSettings = { ...ctx.media, hwEncoders: encoders.filter((e) => encoderDevice(e) !== null) };
      worker = await startWorkerRole(ctx, { mediaStore: await workerMedia(config, ctx), capabilities, media });
      const w = worker;
      // Stopped by stop() with its grace period first; this one is for a failed start.
      stops.push(() => w.stop(0));
    }

    // One port for every role: the monitor's upgrades, the api's routes, or (no api) the
    // small health-and-metrics app every process has.
    let plain = api?.http?.fetch;
    if (!plain) {
      const opsRedis = createRedis(redisUrl, "producer", `medianode-ops-${nodeId}`);
      stops.push(() => opsRedis.disconnect());
      const ops = createOpsApp({ redis: opsRedis, media: ctx.media, mediaStore: ctx.mediaStore, mediaFiles: ctx.mediaFiles, records: records ?? undefined }, ctx.metrics, ctx.scrape);
      plain = (req) => ops.handle(req);
    }
    const main = plain;
    const server: Server<WsData> = Bun.serve<WsData>({
      hostname: config.host,
      port: config.port,
      fetch: (req, srv) => {
        const refused = gate.admit(req, srv.requestIP(req)?.address);
        if (refused) return refused;
        const ws = monitor?.http?.upgrade?.(req, srv) ?? null;
        return ws === null ? main(req) : ws;
      },
      // Without a monitor nothing is upgraded (/v1/events is a 404); Bun still wants a handler.
      websocket: monitor?.http?.websocket ?? { message() {} },
      // Uploads are capped while streaming by our own code, not by Bun's 128 MiB default.
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      idleTimeout: 120,
    });
    stops.push(() => server.stop(true));
    const adminToken = (await api?.adminToken()) ?? null;
    nlog.info("listening", { url: `http://${config.host}:${server.port}`, roles: [...roles] });

    // Every process, whatever its roles, heartbeats its advert (SPEC §2: capabilities).
    // Queues commands while Redis reconnects: a late beat is better than none.
    const beatConn = createRedis(redisUrl, "blocking", `medianode-heartbeat-${nodeId}`);
    const heartbeat = await startHeartbeat(
      beatConn,
      {
        id: nodeId,
        roles: [...roles],
        concurrency: roles.has("worker") ? config.concurrency : {},
        version: VERSION,
        ffmpegVersion: ffVersion,
        encoders,
        hwaccels,
        decoders,
        labels: config.capabilities,
        dataDir: config.dataDir,
        activeJobs: () => worker?.active() ?? 0,
      },
      nlog,
    );
    stops.push(async () => {
      // The offline notice is best effort: with Redis down it would wait in the offline queue
      // forever and hold the exit; the advert expires by its TTL anyway.
      await settleWithin(2000, heartbeat.stop());
      beatConn.disconnect();
    });
    const port = server.port ?? config.port;
    return {
      nodeId,
      port,
      url: `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${port}`,
      redisUrl,
      adminToken,
      async stop(graceMs = config.shutdownGraceSec * 1000) {
        if (worker && !stopping) await worker.stop(graceMs);
        // Flush: what the worker finished while stopping is in the records before the recorder stops.
        if (api && !stopping) await api.flush();
        await stopEverything();
      },
    };
  } catch (e) {
    await stopEverything();
    throw e;
  }
}
