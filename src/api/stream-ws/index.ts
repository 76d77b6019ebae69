// GET /v1/stream (SPEC §12): listeners of live audio channels, a monitor-role plugin beside
// the event stream. One timer paces every listener: each tick sends what the pacer
// (channels/pacer.ts) says, as Ogg pages (channels/ogg-stream.ts) or whole ADTS frames, so the
// audio.data messages of one socket concatenate into one decodable stream.
import type { Server, ServerWebSocket } from "bun";
import { Value } from "@sinclair/typebox/value";
import type IORedis from "ioredis";
import { ulid } from "ulid";
import { MedianodeError, toMedianodeError } from "../../errors";
import { locate, playlistSec, type ClockState } from "../../channels/clock";
import type { TrackLibrary } from "../../channels/library";
import { collectFrames, planSend } from "../../channels/pacer";
import { writeListeners, readListeners } from "../../channels/presence";
import type { ChannelRegistry } from "../../channels/registry";
import { chooseCodec, DEFAULT_STREAM_KBPS, renditionFor } from "../../channels/rendition";
import { channelKey, StreamClientMessage, type ChannelRecord, type ChannelReport } from "../../channels/schema";
import { createOggOpusWriter, type OggOpusWriter } from "../../channels/ogg-stream";
import { concat } from "../../channels/ogg";
import type { StreamCodec, TrackFrame } from "../../channels/track";
import type { Logger } from "../../log";
import type { Metrics } from "../../metrics/registry";
import { pushReport, releaseStreamSlot, renewStreamSlots, takeStreamSlot } from "../../channels/cluster";
import { isAdmin, type Principal } from "../../services/deps";
import { requireScope } from "../auth";
import type { WsData } from "../events-ws/hub";
import { refuseUpgrade, type SocketPlugin } from "../ws-plugin";

const TICK_MS = 100;
const STATUS_EVERY_MS = 3000;
/** Unsent bytes above this much audio block the next send (the pacer then lets it fall behind). */
const BLOCK_AFTER_SEC = 1;
/**
 * Broadcast audio relayed this recently keeps a channel's listeners in live mode even before
 * the channel's record says so (the clock change travels through Redis after the first
 * packets), and for a moment after it says the broadcast ended (its last packets).
 */
const LIVE_HOLD_MS = 1000;

/** Close codes a listener may see (with a reason text). */
/** The listeners' WebSocket (served by Bun's upgrade on the monitor role, not an Elysia route). */
export const STREAM_PATH = "/v1/stream";

export const STREAM_CLOSE = { stopped: 1000, going: 1001, badMessage: 4400, notFound: 4404, tooMany: 4429 } as const;

export interface Listener {
  id: string;
  principal: Principal;
  key: string | null;
  rec: ChannelRecord | null;
  codec: StreamCodec | null;
  askedKbps: number;
  cursorSec: number | null;
  fresh: boolean;
  writer: OggOpusWriter | null;
  headerSent: boolean;
  /** "index:lap" of the track last announced by stream.metadata. */
  announced: string | null;
  lastBitrate: number;
  bytes: number;
  startedAt: number;
  lastStatusAt: number;
  skippedSec: number;
  /** Live mode: sending a broadcast's audio instead of the playlist. */
  live: boolean;
}

export interface StreamHubDeps {
  registry: ChannelRegistry;
  library: TrackLibrary;
  redis: IORedis;
  metrics: Metrics;
  log: Logger;
  nodeId: string;
  listenersPerToken: number;
  /** Token checks may read the records (async on PostgreSQL). */
  authenticate(req: Request): Principal | Promise<Principal>;
}

export interface StreamHub extends SocketPlugin {
  /** Broadcast audio for a channel's listeners of that codec on this node (api/live-ws); opusHead for Opus. */
  relayLive(key: string, codec: StreamCodec, frames: TrackFrame[], opusHead: Uint8Array | null): void;
  /** Cluster-wide listener count of a channel (as last read). */
  listeners(key: string): number;
}

const errorBody = (e: unknown) => toMedianodeError(e).toBody();

export function createStreamHub(deps: StreamHubDeps): StreamHub {
  const sockets = new Set<ServerWebSocket<WsData>>();
  const clusterCounts = new Map<string, number>();
  /** When broadcast audio of a channel was last relayed on this node (registry clock). */
  const liveAudioAt = new Map<string, number>();
  const relayedRecently = (key: string, now: number) => now - (liveAudioAt.get(key) ?? -Infinity) < LIVE_HOLD_MS;
  const send = (ws: ServerWebSocket<WsData>, m: unknown) => ws.send(JSON.stringify(m));

  const report = (l: Listener, endedAt: number | null, endReason: string | null) => {
    if (!l.rec || !l.codec) return;
    const r: ChannelReport = { kind: "session", id: l.id, tenant: l.rec.tenant, channel: l.rec.name, tokenId: l.principal.tokenId, node: deps.nodeId, codec: l.codec, bitrateKbps: l.lastBitrate, startedAt: l.startedAt, endedAt, bytes: l.bytes, endReason };
    pushReport(deps.redis, r).catch((e) => deps.log.warn("listener session not reported", { error: e }));
  };
  const tokenKey = (p: Principal) => p.tokenId ?? `jwt:${p.tenant}:${p.name}`;

  const counts = () => {
    const m = new Map<string, number>();
    for (const ws of sockets) {
      const l = ws.data.stream;
      if (l?.key) m.set(l.key, (m.get(l.key) ?? 0) + 1);
    }
    return m;
  };
  const known = new Set<string>();
  const refreshCounts = () => {
    const m = counts();
    for (const k of known) if (!m.has(k)) m.set(k, 0);
    for (const [k, n] of m) {
      known.add(k);
      deps.metrics.streamListeners.set({ channel: k.slice(k.indexOf("/") + 1) }, n);
    }
    return m;
  };

  const stopListener = (ws: ServerWebSocket<WsData>, code: number, reason: string) => {
    const l = ws.data.stream;
    if (l?.key) report(l, Date.now(), reason);
    if (l) {
      releaseStreamSlot(deps.redis, tokenKey(l.principal), l.id).catch(() => {});
      l.key = null;
    }
    ws.close(code, reason);
  };

  const status = (ws: ServerWebSocket<WsData>, l: Listener, now: number, extra: Record<string, unknown> = {}) => {
    const rec = l.rec!;
    const clock = clockOf(rec);
    const at = rec.liveSinceMs === null ? locate(clock, playlistSec(clock, now)) : null;
    send(ws, {
      type: "stream.status",
      channel: rec.name,
      positionSec: at ? round(at.offsetSec) : round((now - (rec.liveSinceMs ?? now)) / 1000),
      jobId: at ? rec.tracks[at.index]!.jobId : null,
      live: rec.liveSinceMs !== null,
      listeners: Math.max(clusterCounts.get(l.key!) ?? 0, 1),
      at: new Date(now).toISOString(),
      ...extra,
    });
    l.lastStatusAt = now;
  };

  const metadata = (ws: ServerWebSocket<WsData>, l: Listener, index: number | null, offsetSec: number, bitrate: number) => {
    const rec = l.rec!;
    const t = index === null ? null : rec.tracks[index]!;
    send(ws, {
      type: "stream.metadata",
      channel: rec.name,
      jobId: t?.jobId ?? null,
      title: t?.title ?? `${rec.name} (live)`,
      durationSec: t?.durationSec ?? null,
      positionSec: round(offsetSec),
      codec: l.codec,
      bitrate,
      renditions: t ? t.renditions.map((r) => ({ codec: r.codec, bitrate: r.bitrateKbps })) : [{ codec: l.codec, bitrate }],
      live: t === null,
    });
  };

  const sendAudio = (ws: ServerWebSocket<WsData>, l: Listener, frames: readonly TrackFrame[], opusHead: Uint8Array | null) => {
    if (!frames.length) return;
    let bytes: Uint8Array;
    if (l.codec === "opus") {
      const parts: Uint8Array[] = [];
      if (!l.headerSent && opusHead) {
        parts.push(l.writer!.headers(opusHead));
        l.headerSent = true;
      }
      parts.push(l.writer!.pages(frames));
      bytes = concat(parts);
    } else bytes = concat(frames.map((f) => f.data));
    ws.send(bytes);
    l.bytes += bytes.length;
    deps.metrics.streamBytes.inc({ channel: l.rec!.name }, bytes.length);
  };

  const pace = (ws: ServerWebSocket<WsData>, l: Listener, now: number) => {
    const rec = deps.registry.get(l.key!);
    if (!rec) return stopListener(ws, STREAM_CLOSE.notFound, "channel deleted");
    const wasLive = l.rec!.liveSinceMs !== null;
    l.rec = rec;
    if (rec.liveSinceMs !== null || (l.live && relayedRecently(l.key!, now))) {
      // A broadcast: its audio comes through relayLive; the playlist waits.
      if (!l.live) goLiveNow(ws, l);
      return;
    }
    if (l.live || wasLive) {
      // The broadcaster stopped: the playlist resumes where it stood.
      l.live = false;
      l.cursorSec = null;
      l.announced = null;
    }
    const clock = clockOf(rec);
    const clockSec = playlistSec(clock, now);
    const bps = (l.lastBitrate * 1000) / 8;
    const plan = planSend({ cursorSec: l.cursorSec, clockSec, blocked: ws.getBufferedAmount() > Math.max(16 * 1024, bps * BLOCK_AFTER_SEC) });
    if (l.fresh) plan.fresh = true;
    if (plan.skippedSec > 0) {
      l.skippedSec += plan.skippedSec;
      deps.log.info("listener skipped forward", { channel: rec.name, skippedSec: round(plan.skippedSec) });
    }
    const c = collectFrames(clock, (i) => {
      const r = renditionFor(rec.tracks[i]!, l.codec!, l.askedKbps);
      return r ? deps.library.get(rec.tracks[i]!.jobId, r) : null;
    }, plan);
    if (plan.skippedSec > 0) status(ws, l, now, { skippedSec: round(plan.skippedSec) });
    for (const s of c.spans) {
      const tag = `${s.index}:${s.lap}`;
      const t = rec.tracks[s.index]!;
      const r = renditionFor(t, l.codec!, l.askedKbps)!;
      l.lastBitrate = r.bitrateKbps;
      if (l.announced !== tag) {
        metadata(ws, l, s.index, s.frames[0]!.startSec, r.bitrateKbps);
        l.announced = tag;
      }
      sendAudio(ws, l, s.frames, deps.library.get(t.jobId, r)?.opusHead ?? null);
    }
    if (c.spans.length || plan.skippedSec > 0 || c.ended) {
      l.cursorSec = c.nextSec;
      l.fresh = false;
    } else if (l.cursorSec === null) {
      // Nothing loaded yet: start at the clock once the track is in memory.
    } else l.cursorSec = Math.max(l.cursorSec, c.nextSec);
  };

  const goLiveNow = (ws: ServerWebSocket<WsData>, l: Listener) => {
    l.live = true;
    metadata(ws, l, null, 0, l.lastBitrate);
  };

  let ticking = false;
  let lastPresence = 0;
  const timer = setInterval(() => {
    if (ticking) return;
    ticking = true;
    try {
      const now = deps.registry.now();
      for (const ws of sockets) {
        const l = ws.data.stream;
        if (!l?.key) continue;
        try {
          pace(ws, l, now);
          if (l.key && now - l.lastStatusAt >= STATUS_EVERY_MS) status(ws, l, now);
        } catch (e) {
          deps.log.error("listener tick failed", { error: e });
        }
      }
      if (now - lastPresence >= 1000) {
        lastPresence = now;
        void presence(now);
      }
    } finally {
      ticking = false;
    }
  }, TICK_MS);

  const presence = async (now: number) => {
    const m = refreshCounts();
    try {
      await writeListeners(deps.redis, deps.nodeId, m, now);
      const keys = deps.registry.all().map((r) => channelKey(r.tenant, r.name));
      for (const [k, n] of await readListeners(deps.redis, keys, now)) clusterCounts.set(k, n);
      // Per-token limits hold cluster-wide: each open stream's entry is renewed here.
      const slots: [string, string][] = [];
      for (const ws of sockets) {
        const l = ws.data.stream;
        if (l?.key && deps.listenersPerToken > 0) slots.push([tokenKey(l.principal), l.id]);
      }
      await renewStreamSlots(deps.redis, slots, now);
    } catch (e) {
      deps.log.warn("listener presence not written", { error: e });
    }
  };

  const takeSlot = async (l: Listener): Promise<boolean> => {
    if (deps.listenersPerToken <= 0 || isAdmin(l.principal)) return true;
    return takeStreamSlot(deps.redis, tokenKey(l.principal), l.id, deps.listenersPerToken, deps.registry.now());
  };

  const start = async (ws: ServerWebSocket<WsData>, l: Listener, channel: string, kbps: number) => {
    const own = deps.registry.get(channelKey(l.principal.tenant, channel));
    const rec = own ?? (isAdmin(l.principal) ? (deps.registry.all().find((r) => r.name === channel) ?? null) : null);
    if (!rec) {
      send(ws, { error: { code: "NOT_FOUND", message: `no channel ${channel}` } });
      if (!l.key) ws.close(STREAM_CLOSE.notFound, `no channel ${channel}`.slice(0, 120));
      return;
    }
    const key = channelKey(rec.tenant, rec.name);
    const codec = chooseCodec(rec.tracks, kbps);
    if (!codec) {
      send(ws, { error: { code: "UNSUPPORTED_MEDIA", message: "the channel's tracks share no streamable codec" } });
      return;
    }
    const sameChannel = l.key === key;
    if (!sameChannel) {
      if (l.key) report(l, Date.now(), "switched channel");
      if (!l.key && !(await takeSlot(l))) {
        send(ws, { error: { code: "RATE_LIMITED", message: `this token already has ${deps.listenersPerToken} streams open` } });
        ws.close(STREAM_CLOSE.tooMany, "too many listeners for this token");
        return;
      }
      l.id = l.key ? ulid() : l.id;
      l.key = key;
      l.rec = rec;
      l.cursorSec = null;
      l.startedAt = Date.now();
      l.bytes = 0;
      l.announced = null;
      l.live = false;
    }
    // Switching bitrate keeps the position: same cursor, the frame playing there in the new rendition.
    if (codec !== l.codec || !sameChannel) {
      l.codec = codec;
      l.writer = codec === "opus" ? createOggOpusWriter((Math.random() * 0xffffffff) >>> 0) : null;
      l.headerSent = false;
      l.announced = null;
    } else l.announced = null;
    l.fresh = true;
    l.askedKbps = kbps;
    const r0 = renditionFor(rec.tracks[0]!, codec, kbps)!;
    l.lastBitrate = r0.bitrateKbps;
    // Load this listener's renditions now, so the first tick has them.
    await Promise.all(rec.tracks.map((t) => { const r = renditionFor(t, codec, kbps); return r ? deps.library.load(t.jobId, r) : null; }));
    report(l, null, null);
    if (ws.readyState === 1 && l.key === key) pace(ws, l, deps.registry.now());
    if (l.key === key) status(ws, l, deps.registry.now());
  };

  const upgradeNow = async (req: Request, srv: Server<WsData>): Promise<Response | undefined> => {
      try {
        if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") throw new MedianodeError("BAD_REQUEST", "GET /v1/stream is a WebSocket: send Upgrade: websocket");
        const principal = await deps.authenticate(req);
        requireScope(principal, "jobs:read");
        const stream: Listener = { id: ulid(), principal, key: null, rec: null, codec: null, askedKbps: DEFAULT_STREAM_KBPS, cursorSec: null, fresh: true, writer: null, headerSent: false, announced: null, lastBitrate: 0, bytes: 0, startedAt: Date.now(), lastStatusAt: 0, skippedSec: 0, live: false };
        if (srv.upgrade(req, { data: { principal, jobs: null, narrowOnOpen: null, stream } })) return undefined;
        throw new MedianodeError("BAD_REQUEST", "WebSocket upgrade failed");
      } catch (e) {
        return refuseUpgrade(e);
      }
    };

  return {
    upgrade(req, srv) {
      const url = new URL(req.url);
      if (url.pathname !== STREAM_PATH) return null;
      return upgradeNow(req, srv);
    },
    open(ws) {
      sockets.add(ws);
    },
    message(ws, raw) {
      const l = ws.data.stream!;
      let msg: unknown;
      try {
        msg = JSON.parse(typeof raw === "string" ? raw : Buffer.from(raw).toString("utf8"));
      } catch {
        msg = null;
      }
      if (!Value.Check(StreamClientMessage, msg)) {
        send(ws, { error: { code: "BAD_REQUEST", message: 'expected {"type":"stream.start","channel":NAME,"bitrate":96} or {"type":"stream.stop"}' } });
        return;
      }
      if (msg.type === "stream.stop") return stopListener(ws, STREAM_CLOSE.stopped, "stream.stop");
      start(ws, l, msg.channel, msg.bitrate ?? DEFAULT_STREAM_KBPS).catch((e) => {
        deps.log.warn("stream.start failed", { error: e });
        send(ws, errorBody(e));
      });
    },
    close(ws) {
      sockets.delete(ws);
      const l = ws.data.stream;
      if (l?.key) {
        report(l, Date.now(), "closed by the listener");
        releaseStreamSlot(deps.redis, tokenKey(l.principal), l.id).catch(() => {});
        l.key = null;
      }
    },
    relayLive(key, codec, frames, opusHead) {
      liveAudioAt.set(key, deps.registry.now());
      for (const ws of sockets) {
        const l = ws.data.stream;
        if (l?.key !== key || l.codec !== codec) continue;
        // The first packets come before the clock change reaches the registry: live from here, none dropped.
        if (!l.live) goLiveNow(ws, l);
        if (ws.getBufferedAmount() > 256 * 1024) continue;
        sendAudio(ws, l, frames, opusHead);
      }
    },
    listeners: (key) => clusterCounts.get(key) ?? 0,
    async stop() {
      clearInterval(timer);
      for (const ws of [...sockets]) stopListener(ws, STREAM_CLOSE.going, "server shutting down");
      await writeListeners(deps.redis, deps.nodeId, new Map([...known].map((k) => [k, 0])), deps.registry.now()).catch(() => {});
    },
  };
}

function clockOf(rec: ChannelRecord): ClockState {
  return { epochMs: rec.epochMs, loop: rec.loop, tracksSec: rec.tracks.map((t) => t.durationSec), pausedSec: rec.pausedSec, liveSinceMs: rec.liveSinceMs };
}

const round = (x: number) => Math.round(x * 1000) / 1000;
