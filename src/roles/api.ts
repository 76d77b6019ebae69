// The api role: REST, uploads, output files, the dashboard, and the record keeping that goes
// with them (recorder, webhooks, retention). It is the one writer of the record store, and it
// relays every event it records to Redis for the monitors (events/bus.ts).
import { createApp } from "../api/app";
import { createEventBus, relayEvents } from "../events/bus";
import { createRedis, waitForRedis } from "../queue/connection";
import { createQueues, closeQueues } from "../queue/queues";
import type { ServiceDeps } from "../services/deps";
import { startRecorder } from "../services/recorder";
import { startRecovery } from "../services/recovery";
import { createSubmitter } from "../services/submitter";
import { createQueuePositions } from "../services/positions";
import { startWebhooks } from "../services/webhooks";
import { playbackLinkFor } from "../api/playback/index";
import { startRetention } from "../services/retention";
import { startChannelKeeping } from "../services/channels";
import { ensureAdminToken } from "../services/tokens";
import { dbPath, openDb, type Db } from "../store/db";
import { migrate } from "../store/migrate";
import type { Records } from "../store/records";
import { sqliteRecords } from "../store/sqlite/index";
import type { NodeContext, Role } from "./context";
import { stopAll } from "./stops";

export interface ApiRoleOptions {
  /** How often open records are reconciled with Redis. */
  reconcileMs: number;
  /** First retention sweep after start (default 30 s; tests sooner). */
  retentionFirstMs?: number;
}

export interface ApiRole extends Role {
  /** The record store this role writes (a monitor in the same process reads it). */
  db: Db;
  records: Records;
  /** A queued job's position, for a monitor in the same process (services/positions.ts). */
  positionOf(jobId: string): number | null;
  /** Set on first start: the admin token, to print once. */
  adminToken(): string | null;
  /** What a worker finished while stopping reaches the records before the recorder stops. */
  flush(): Promise<void>;
}

export async function startApiRole(ctx: NodeContext, o: ApiRoleOptions): Promise<ApiRole> {
  const { config, log } = ctx;
  const stops: (() => unknown)[] = [];
  try {
    const db = openDb(dbPath(config.dataDir));
    stops.push(() => db.close());
    const applied = migrate(db);
    if (applied.length) log.info("migrations applied", { versions: applied });
    const redis = createRedis(ctx.redisUrl, "producer", `medianode-api-${ctx.nodeId}`);
    stops.push(() => redis.disconnect());
    await waitForRedis(redis, 10_000).catch((e) => log.warn("Redis not ready at start; writes answer 503 until it is", { error: e }));
    const queues = createQueues(redis, { perTenant: config.requireSetsPerTenant, idleMs: config.requireSetIdleSec * 1000 });
    stops.push(() => closeQueues(queues));
    const bus = createEventBus(log);
    // Queues while Redis reconnects (a "blocking" connection): a late event beats a lost one.
    const relayConn = createRedis(ctx.redisUrl, "blocking", `medianode-relay-${ctx.nodeId}`);
    stops.push(() => relayConn.disconnect());
    stops.push(relayEvents(bus, relayConn, log));
    const records = sqliteRecords(db);
    const positions = createQueuePositions({ records, bus, log });
    stops.push(() => positions.stop());
    const base = { config, records, db, queues, redis, mediaStore: ctx.mediaStore, mediaFiles: ctx.mediaFiles, media: ctx.media, log, metrics: ctx.metrics, bus, nodeId: ctx.nodeId, now: Date.now, positions };
    const deps: ServiceDeps = { ...base, submitter: createSubmitter(base) };
    const retention = startRetention({ ...deps, mediaStore: deps.mediaFiles }, { jobs: config.retentionDays, logs: config.logRetentionDays }, { firstMs: o.retentionFirstMs });
    stops.push(() => retention.stop());
    // Mails about a finished video or audio job link its playback URL (signed like /playback's).
    const webhooks = await startWebhooks(deps, ctx.redisUrl, { playbackLink: playbackLinkFor(config, deps.now) });
    stops.push(() => webhooks.stop());
    // Channels (SPEC §12): their records mirrored into Redis, monitors' reports drained into SQLite.
    const channels = startChannelKeeping(deps);
    stops.push(() => channels.stop());
    const recorder = await startRecorder(deps, ctx.redisUrl);
    stops.push(() => recorder.stop());
    const recovery = startRecovery(deps, recorder, { reconcileMs: o.reconcileMs });
    stops.push(() => recovery.stop());
    // Start-up repair: rows written but never enqueued, jobs Redis lost, reports missed while
    // down, and jobs enqueued whose row was never written or was taken back (removed).
    const r = await recovery.reconcile().catch((e) => (log.warn("start-up reconcile failed", { error: e }), null));
    if (r && (r.applied || r.requeued || r.removed)) log.info("start-up reconcile", { ...r });
    const { fetch } = createApp(deps, { scrape: ctx.scrape, clientOf: ctx.clientOf });
    let adminToken: string | null = null;
    let tokenMade = false;
    return {
      db,
      records,
      positionOf: positions.of,
      http: { fetch },
      adminToken() {
        // Made once the port is ours (serve calls this after listen): a token made by a start
        // that then fails would never be printed.
        if (!tokenMade) adminToken = ensureAdminToken(db, config.dataDir)?.token ?? null;
        tokenMade = true;
        return adminToken;
      },
      async flush() {
        await recovery.reconcile().catch((e) => log.warn("final reconcile failed; the next start repairs it", { error: e }));
      },
      stop: () => stopAll(stops, log),
    };
  } catch (e) {
    await stopAll(stops, log);
    throw e;
  }
}
