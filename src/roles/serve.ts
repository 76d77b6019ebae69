// `medianode serve` and `medianode worker`: builds deps once and starts the chosen roles.
// Everything started here is stopped in reverse order by stop().
import { mkdirSync, chmodSync } from "node:fs";
import type { Server } from "bun";
import type { Config } from "../config/schema";
import { createApp } from "../api/app";
import { createOpsApp } from "../api/ops";
import { createClientGate } from "../api/client-gate";
import { BadRequestError } from "../errors";
import { createMetrics } from "../metrics/registry";
import { createEventBus } from "../events/bus";
import { createEventHub, type WsData } from "../api/events-ws/hub";
import type { MediaSettings } from "../jobs/pipeline";
import type { Logger } from "../log";
import { ffmpegEncoders, ffmpegHwaccels, ffmpegVersion, resolveBinaries } from "../media/binaries";
import { usableEncoders, usableHwaccels } from "../media/hardware";
import { startHeartbeat } from "../nodes/heartbeat";
import { nodeCapabilities } from "../nodes/capabilities";
import { watchNodes } from "../nodes/watch";
import { VERSION } from "../version";
import { newNodeId } from "../nodes/identity";
import { createRedis, settleWithin, waitForRedis } from "../queue/connection";
import { createQueues, closeQueues } from "../queue/queues";
import { startEmbeddedRedis, type EmbeddedRedis } from "../queue/redis-server";
import type { ServiceDeps } from "../services/deps";
import { startRecorder, type Recorder } from "../services/recorder";
import { startWebhooks } from "../services/webhooks";
import { startRetention } from "../services/retention";
import { ensureAdminToken } from "../services/tokens";
import { createLocalStore, type MediaStore } from "../storage/local";
import { createRemoteStore } from "../storage/remote";
import { dbPath, openDb } from "../store/db";
import { migrate } from "../store/migrate";
import { createMediaPool, type MediaPool } from "../workers/pool";
import { startWorkerRole, type WorkerRole } from "./worker";

export interface Running {
  nodeId: string;
  port: number;
  url: string;
  redisUrl: string;
  /** Set on first start: the admin token, to print once. */
  adminToken: string | null;
  recorder: Recorder | null;
  /** Stops every role; running jobs get `graceMs` (default MEDIANODE_SHUTDOWN_GRACE_SEC) to finish. */
  stop(graceMs?: number): Promise<void>;
}

/** Default image pixel limit: sharp's own (16383²), a guard against decompression bombs. */
export const MAX_PIXELS = 268_402_689;

export function mediaSettings(config: Config): MediaSettings {
  const b = resolveBinaries({ ffmpegPath: config.ffmpegPath, ffprobePath: config.ffprobePath });
  return { ...b, stallMs: config.stallSec * 1000, timeoutMs: config.jobTimeoutSec * 1000, maxPixels: MAX_PIXELS };
}

export interface ServeOptions {
  /** How often open rows are reconciled with Redis. */
  reconcileMs?: number;
}

export async function startServe(config: Config, log: Logger, o: ServeOptions = {}): Promise<Running> {
  const nodeId = newNodeId();
  const nlog = log.child({ node: nodeId });
  const roles = new Set(config.roles);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  chmodSync(config.dataDir, 0o700);
  const stops: (() => Promise<void> | void)[] = [];
  let stopping: Promise<void> | null = null;
  const stopAll = () =>
    (stopping ??= (async () => {
      for (const s of [...stops].reverse()) await Promise.resolve(s()).catch((e) => nlog.error("stop failed", { error: e }));
    })());
  try {
    let embedded: EmbeddedRedis | null = null;
    let redisUrl = config.redisUrl;
    if (!redisUrl) {
      embedded = await startEmbeddedRedis(config.dataDir, nlog);
      stops.push(() => embedded!.stop());
      redisUrl = embedded.url;
    }
    const media = mediaSettings(config);
    const metrics = createMetrics();
    const store = createLocalStore(config.dataDir);
    // A worker without the api role and with --server reaches the media store over HTTP; with
    // a shared mount (no --server) it uses the api node's files in place.
    let workerStore: MediaStore = store;
    if (config.server && !roles.has("api")) {
      if (!config.token) throw new BadRequestError("--server needs --token: a token with the worker scope (MEDIANODE_TOKEN)");
      const remote = createRemoteStore({ dataDir: config.dataDir, server: config.server, token: config.token, log: nlog });
      // Refused or unreachable at start, not a silent hang on the first job.
      await remote.hello();
      workerStore = remote;
    }
    let adminToken: string | null = null;
    let recorder: Recorder | null = null;
    let server: Server<WsData> | null = null;
    let pool: MediaPool | null = null;
    let worker: WorkerRole | null = null;

    if (roles.has("api")) {
      const db = openDb(dbPath(config.dataDir));
      stops.push(() => db.close());
      const applied = migrate(db);
      if (applied.length) nlog.info("migrations applied", { versions: applied });
      const redis = createRedis(redisUrl, "producer", `medianode-api-${nodeId}`);
      stops.push(() => redis.disconnect());
      redis.on("error", () => {});
      await waitForRedis(redis, 10_000).catch((e) => nlog.warn("Redis not ready at start; writes answer 503 until it is", { error: e }));
      const queues = createQueues(redis);
      stops.push(() => closeQueues(queues));
      const bus = createEventBus(nlog);
      const deps: ServiceDeps = { config, db, queues, redis, store, media, log: nlog, metrics, bus, nodeId, now: Date.now };
      const retention = startRetention(deps, config.retentionDays);
      stops.push(() => retention.stop());
      const webhooks = await startWebhooks(deps, redisUrl);
      stops.push(() => webhooks.stop());
      recorder = await startRecorder(deps, redisUrl, { reconcileMs: o.reconcileMs ?? 15_000 });
      stops.push(() => recorder!.stop());
      // Start-up repair: rows written but never enqueued, jobs Redis lost, reports missed while
      // down, and jobs enqueued whose row was never written or was taken back (removed).
      const r = await recorder.reconcile().catch((e) => (nlog.warn("start-up reconcile failed", { error: e }), null));
      if (r && (r.applied || r.requeued || r.removed)) nlog.info("start-up reconcile", { ...r });
      const gate = createClientGate(config, nlog);
      const { fetch } = createApp(deps, { refreshGauges: () => metrics.ffmpegProcesses.set(pool?.active() ?? 0), clientOf: gate.clientOf });
      const nodes = await watchNodes(createRedis(redisUrl, "blocking", `medianode-nodes-${nodeId}`), redis, bus);
      stops.push(() => nodes.stop());
      const hub = createEventHub(deps);
      stops.push(() => hub.stop());
      server = Bun.serve<WsData>({
        hostname: config.host,
        port: config.port,
        fetch: (req, srv) => {
          const refused = gate.admit(req, srv.requestIP(req)?.address);
          if (refused) return refused;
          const ws = hub.upgrade(req, srv);
          return ws === null ? fetch(req) : ws;
        },
        websocket: hub.websocket,
        // Uploads are capped while streaming by our own code, not by Bun's 128 MiB default.
        maxRequestBodySize: Number.MAX_SAFE_INTEGER,
        idleTimeout: 120,
      });
      const srv = server;
      stops.push(() => srv.stop(true));
      // Only once the port is ours: a token made by a start that then fails would never be printed.
      adminToken = ensureAdminToken(db, config.dataDir)?.token ?? null;
      nlog.info("api listening", { url: `http://${config.host}:${srv.port}` });
    }
    // What this node can do: advertised by every process, and what decides which
    // requirement queues its worker role consumes (SPEC §2, options.require).
    // Hardware only where its device comes up, not whatever the build lists (media/hardware.ts).
    const [ffVersion, built, hwaccels] = await Promise.all([ffmpegVersion(media.ffmpeg), ffmpegEncoders(media.ffmpeg), ffmpegHwaccels(media.ffmpeg).then((l) => usableHwaccels(media.ffmpeg, l))]);
    const encoders = usableEncoders(built, hwaccels);
    if (roles.has("worker")) {
      pool = createMediaPool(config.workerThreads, nlog);
      const p = pool;
      stops.push(() => p.stop());
      const capabilities = [...nodeCapabilities({ encoders, hwaccels, labels: config.capabilities })];
      worker = await startWorkerRole({ config, redisUrl, pool, store: workerStore, media, nodeId, capabilities, log: nlog });
    }
    if (!roles.has("api")) {
      // No api: a small port of its own for health and metrics (medianode worker: 8081).
      const opsRedis = createRedis(redisUrl, "producer", `medianode-ops-${nodeId}`);
      stops.push(() => opsRedis.disconnect());
      const ops = createOpsApp({ redis: opsRedis, media, store }, metrics, () => metrics.ffmpegProcesses.set(pool?.active() ?? 0));
      server = Bun.serve<WsData>({ hostname: config.host, port: config.port, fetch: (req) => ops.handle(req) });
      const srv = server;
      stops.push(() => srv.stop(true));
      nlog.info("health and metrics listening", { url: `http://${config.host}:${srv.port}` });
    }
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
    const port = server?.port ?? config.port;
    return {
      nodeId,
      port,
      url: `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${port}`,
      redisUrl,
      adminToken,
      recorder,
      async stop(graceMs = config.shutdownGraceSec * 1000) {
        if (worker && !stopping) await worker.stop(graceMs);
        // Flush: what the worker finished while stopping is in SQLite before the recorder stops.
        if (recorder && !stopping) await recorder.reconcile().catch((e) => nlog.warn("final reconcile failed; the next start repairs it", { error: e }));
        await stopAll();
      },
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
