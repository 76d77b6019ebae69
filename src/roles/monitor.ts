// The monitor role: the WebSocket event stream (/v1/events, SPEC §4) of every node's jobs,
// read from Redis (events/bus.ts), plus node.online/offline from the adverts. Runs alone on
// any host: with the record store in reach it accepts opaque tokens and sends a late joiner
// the job's state; without it, JWTs only and no snapshot. Live audio channels (SPEC §12) are
// its second plugin: /v1/stream (listeners) and /v1/channels/:name/live (broadcasters), on
// the channel records and clocks the api role keeps in Redis.
import { authenticate } from "../api/auth";
import { createEventHub, type EventHub } from "../api/events-ws/hub";
import { createEventBus, readEvents } from "../events/bus";
import { snapshotEvent } from "../events/job-event";
import { watchNodes } from "../nodes/watch";
import { createRedis, waitForRedis } from "../queue/connection";
import { getVisibleJob } from "../services/jobs";
import { tokenCheck, tokenRevokedCheck } from "../services/tokens";
import type { Records } from "../store/records";
import type { NodeContext, Role } from "./context";
import { stopAll } from "./stops";
import { createTrackLibrary } from "../channels/library";
import { startChannelRegistry } from "../channels/registry";
import { createStreamHub, type StreamHub } from "../api/stream-ws/index";
import { createLiveHub, type LiveHub } from "../api/live-ws/index";
import type { WebSocketHandler } from "bun";
import type { WsData } from "../api/events-ws/hub";

export interface MonitorRole extends Role {
  hub: EventHub;
  stream: StreamHub;
}

/** One Bun handler for both plugins: a socket's data says whose it is. */
function composeSockets(events: WebSocketHandler<WsData>, stream: StreamHub, live: LiveHub): WebSocketHandler<WsData> {
  return {
    ...events,
    open: (ws) => (ws.data.stream ? stream.open(ws) : ws.data.broadcast ? live.open(ws) : events.open?.(ws)),
    message: (ws, m) => (ws.data.stream ? stream.message(ws, m) : ws.data.broadcast ? live.message(ws, m) : events.message!(ws, m)),
    close: (ws, code, reason) => (ws.data.stream ? stream.close(ws) : ws.data.broadcast ? live.close(ws) : events.close?.(ws, code, reason)),
  };
}

/** `records` for token checks and job snapshots; null where out of reach. */
export async function startMonitorRole(ctx: NodeContext, o: { records: Records | null; positionOf?: (jobId: string) => number | null }): Promise<MonitorRole> {
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
    const { records } = o;
    const tokens = tokenCheck(records);
    const hub = createEventHub({
      bus,
      metrics: ctx.metrics,
      log,
      wsBufferBytes: config.wsBufferBytes,
      wsMessagesPerSec: config.wsMessagesPerSec,
      wsMaxSubscriptions: config.wsMaxSubscriptions,
      tokenRevoked: tokenRevokedCheck(records),
      authenticate: (req) => authenticate(tokens, req, config.jwtSecret),
      snapshot: async (jobId, p) => (records ? snapshotEvent(await getVisibleJob({ records }, jobId, p), o.positionOf?.(jobId) ?? null) : null),
    });
    stops.push(() => hub.stop());
    // The producer connection refuses commands until it is ready: the channels' first read waits for it.
    await waitForRedis(redis, 10_000).catch((e) => log.warn("Redis not ready at start; channels load once it is", { error: e }));
    const registry = await startChannelRegistry({ redis, sub: createRedis(ctx.redisUrl, "blocking", `medianode-channels-${nodeId}`), log });
    stops.push(() => registry.stop());
    const library = createTrackLibrary({ files: ctx.mediaFiles, ffmpeg: ctx.media.ffmpeg, log });
    const stream = createStreamHub({
      registry,
      library,
      redis,
      metrics: ctx.metrics,
      log,
      nodeId,
      listenersPerToken: config.streamListenersPerToken,
      authenticate: (req) => authenticate(tokens, req, config.jwtSecret),
    });
    stops.push(() => stream.stop());
    const live = await createLiveHub({
      registry,
      redis,
      sub: createRedis(ctx.redisUrl, "blocking", `medianode-live-${nodeId}`),
      stream,
      library,
      files: ctx.mediaStore,
      sources: ctx.mediaFiles,
      ffmpeg: ctx.media.ffmpeg,
      log,
      nodeId,
      authenticate: (req) => authenticate(tokens, req, config.jwtSecret),
    });
    // Stopped before the listeners (reverse order): a broadcast in progress is finished and recorded.
    stops.push(() => live.stop());
    log.info("monitor role started", { records: records?.engine ?? null });
    return {
      hub,
      stream,
      http: { upgrade: (req, srv) => hub.upgrade(req, srv) ?? stream.upgrade(req, srv) ?? live.upgrade(req, srv), websocket: composeSockets(hub.websocket, stream, live) },
      stop: () => stopAll(stops, log),
    };
  } catch (e) {
    await stopAll(stops, log);
    throw e;
  }
}
