// The monitor role: the WebSocket event stream (/v1/events, SPEC §4) of every node's jobs,
// read from Redis (events/bus.ts), plus node.online/offline from the adverts. Runs alone on
// any host: with the record store in reach it accepts opaque tokens and sends a late joiner
// the job's state; without it, JWTs only and no snapshot. Live audio channels (SPEC §12)
// are the next plugin of this role.
import { authenticate } from "../api/auth";
import { createEventHub, type EventHub } from "../api/events-ws/hub";
import { createEventBus, readEvents } from "../events/bus";
import { snapshotEvent } from "../events/job-event";
import { watchNodes } from "../nodes/watch";
import { createRedis } from "../queue/connection";
import { getVisibleJob } from "../services/jobs";
import { tokenCheck, tokenRevokedCheck } from "../services/tokens";
import type { Db } from "../store/db";
import type { Records } from "../store/records";
import type { NodeContext, Role } from "./context";
import { stopAll } from "./stops";

export interface MonitorRole extends Role {
  hub: EventHub;
}

/** `db` for token checks (not behind the records interface yet), `records` for job snapshots; null where out of reach. */
export async function startMonitorRole(ctx: NodeContext, o: { db: Db | null; records: Records | null; positionOf?: (jobId: string) => number | null }): Promise<MonitorRole> {
  const { config, log, nodeId } = ctx;
  const stops: (() => unknown)[] = [];
  try {
    const bus = createEventBus(log);
    const events = await readEvents(createRedis(ctx.redisUrl, "blocking", `medianode-monitor-${nodeId}`), bus);
    stops.push(() => events.stop());
    const redis = createRedis(ctx.redisUrl, "producer", `medianode-monitor-reads-${nodeId}`);
    stops.push(() => redis.disconnect());
    const nodes = await watchNodes(createRedis(ctx.redisUrl, "blocking", `medianode-nodes-${nodeId}`), redis, bus);
    stops.push(() => nodes.stop());
    const { db, records } = o;
    const tokens = tokenCheck(db);
    const hub = createEventHub({
      bus,
      metrics: ctx.metrics,
      log,
      wsBufferBytes: config.wsBufferBytes,
      wsMessagesPerSec: config.wsMessagesPerSec,
      wsMaxSubscriptions: config.wsMaxSubscriptions,
      tokenRevoked: tokenRevokedCheck(db),
      authenticate: (req) => authenticate(tokens, req, config.jwtSecret),
      snapshot: async (jobId, p) => (records ? snapshotEvent(await getVisibleJob({ records }, jobId, p), o.positionOf?.(jobId) ?? null) : null),
    });
    stops.push(() => hub.stop());
    log.info("monitor role started", { records: db !== null });
    return {
      hub,
      http: { upgrade: hub.upgrade, websocket: hub.websocket },
      stop: () => stopAll(stops, log),
    };
  } catch (e) {
    await stopAll(stops, log);
    throw e;
  }
}
