// The api role: REST, uploads, output files, the dashboard, and the record keeping that goes
// with them (recorder, webhooks, retention). It is the one writer of the record store, and it
// relays every event it records to Redis for the monitors (events/bus.ts).
import { createApp } from "../api/app";
import { messageSubmitter } from "../api/jobs/message";
import { startBusBridge } from "../bus/bridge";
import { watchNodes } from "../nodes/watch";
import { createEventBus, relayEvents } from "../events/bus";
import { createRedis, waitForRedis } from "../queue/connection";
import { createQueues, closeQueues } from "../queue/queues";
import type { ServiceDeps } from "../services/deps";
import { startRecorder } from "../services/recorder";
import { startDuties, type Duties } from "../services/duties";
import { listOnlineNodes } from "../services/nodes";
import { startRecovery, type Recovery } from "../services/recovery";
import { createSubmitter } from "../services/submitter";
import { createQueuePositions } from "../services/positions";
import { startWebhooks } from "../services/webhooks";
import { playbackLinkFor } from "../api/playback/index";
import { startRetention } from "../services/retention";
import { startChannelKeeping } from "../services/channels";
import { shareSigningSecrets } from "../services/signing-secrets";
import { ensureAdminToken } from "../services/tokens";
import { openRecords } from "../store/open";
import type { Records } from "../store/records";
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
  records: Records;
  /** A queued job's position, for a monitor in the same process (services/positions.ts). */
  positionOf(jobId: string): number | null;
  /** Set on first start: the admin token, to print once. */
  adminToken(): Promise<string | null>;
  /** What a worker finished while stopping reaches the records before the recorder stops. */
  flush(): Promise<void>;
}

export async function startApiRole(ctx: NodeContext, o: ApiRoleOptions): Promise<ApiRole> {
  const { log } = ctx;
  const stops: (() => unknown)[] = [];
  try {
    const records = await openRecords(ctx.config);
    stops.push(() => records.close());
    const applied = await records.migrate();
    if (applied.length) log.info("migrations applied", { engine: records.engine, versions: applied });
    // Several api nodes share the records: what one signs (playback URLs, webhooks, Web Push),
    // another must verify or send with, so the secrets left unconfigured come from the records.
    const config = await shareSigningSecrets(ctx.config, records);
    if (config.indexedMetadata.length) {
      // On a big table the first start with a new key takes a while (the index is built once).
      const t0 = performance.now();
      await records.jobs.indexMetadata(config.indexedMetadata);
      log.info("metadata indexes ready", { keys: config.indexedMetadata, ms: Math.round(performance.now() - t0) });
    }
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
    // Set once the duties lock has been tried (below); until then this node announces nothing.
    let duties: Duties | null = null;
    const leading = () => duties?.leading() ?? false;
    const positions = createQueuePositions({ records, bus, log, leading });
    stops.push(() => positions.stop());
    const base = { config, records, queues, redis, mediaStore: ctx.mediaStore, mediaFiles: ctx.mediaFiles, media: ctx.media, log, metrics: ctx.metrics, bus, nodeId: ctx.nodeId, now: Date.now, positions };
    const deps: ServiceDeps = { ...base, submitter: createSubmitter(base) };
    // Mails about a finished video or audio job link its playback URL (signed like /playback's).
    const webhooks = await startWebhooks(deps, ctx.redisUrl, { playbackLink: playbackLinkFor(config, deps.now) });
    stops.push(() => webhooks.stop());
    // Channels (SPEC §12): their records mirrored into Redis, monitors' reports drained into the records (idempotent on every api node).
    const channels = startChannelKeeping(deps);
    stops.push(() => channels.stop());
    // Every api node records what workers report (a transition changes a row once, so one node
    // emits its event); progress, positions and pauses are announced by the duties' holder only.
    const recorder = await startRecorder(deps, ctx.redisUrl, { leading });
    stops.push(() => recorder.stop());
    let recovery: Recovery | null = null;
    duties = await startDuties({ records, log }, async () => {
      const rec = startRecovery(deps, recorder, { reconcileMs: o.reconcileMs });
      const retention = startRetention({ ...deps, mediaStore: deps.mediaFiles }, { jobs: config.retentionDays, logs: config.logRetentionDays }, { firstMs: o.retentionFirstMs });
      recovery = rec;
      // Start-up (or take-over) repair: rows written but never enqueued, jobs Redis lost, reports
      // missed while no one watched, and jobs enqueued whose row was never written or was taken back.
      const r = await rec.reconcile().catch((e) => (log.warn("start-up reconcile failed", { error: e }), null));
      if (r && (r.applied || r.requeued || r.removed)) log.info("start-up reconcile", { ...r });
      return async () => {
        recovery = null;
        retention.stop();
        await rec.stop();
      };
    });
    const d = duties;
    stops.push(() => d.stop());
    // SQLite: one api node per Redis (each would take the other's jobs for refused ones): say so.
    if (records.engine === "sqlite")
      void listOnlineNodes(deps)
        .then((ns) => {
          const others = ns.filter((n) => n.roles.includes("api") && n.id !== ctx.nodeId).map((n) => n.id);
          if (others.length) log.warn("another api node uses this Redis while the records are in SQLite: give each its own Redis, or share PostgreSQL (DATABASE_URL)", { others });
        })
        .catch(() => {});
    if (config.busUrl) {
      // Node changes are seen by every node: the bridge publishes them from the duties' holder only.
      const nodeEvents = createEventBus(log);
      const nodes = await watchNodes(createRedis(ctx.redisUrl, "blocking", `medianode-bus-nodes-${ctx.nodeId}`), redis, nodeEvents);
      stops.push(() => nodes.stop());
      const bridge = startBusBridge({ config: { ...config, busUrl: config.busUrl }, log, nodeId: ctx.nodeId, events: bus, nodeEvents, leading, submit: messageSubmitter(deps) });
      deps.busStatus = bridge.status;
      // Stopped first (stops run in reverse): no message is taken once the rest begins to stop.
      stops.push(() => bridge.stop());
    }
    const { fetch } = createApp(deps, { scrape: ctx.scrape, clientOf: ctx.clientOf });
    let adminToken: string | null = null;
    let tokenMade = false;
    return {
      records,
      positionOf: positions.of,
      http: { fetch },
      async adminToken() {
        // Made once the port is ours (serve calls this after listen): a token made by a start
        // that then fails would never be printed.
        if (!tokenMade) adminToken = (await ensureAdminToken(records, config.dataDir))?.token ?? null;
        tokenMade = true;
        return adminToken;
      },
      async flush() {
        // The duties' holder only: another api node's records are the holder's to reconcile.
        await recovery?.reconcile().catch((e) => log.warn("final reconcile failed; the next start repairs it", { error: e }));
      },
      stop: () => stopAll(stops, log),
    };
  } catch (e) {
    await stopAll(stops, log);
    throw e;
  }
}
