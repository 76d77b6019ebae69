// GET /v1/events: the live event stream (SPEC §4) on Bun's native WebSocket topics, so
// fan-out to thousands of clients happens in Bun's C++ publish, not in a JS loop.
// Topics: "all" (admins), "tenant:<t>" (a tenant's jobs), "job:<id>" (one job),
// "global" (node.* and queue.* events, for every unfiltered client). A job's own topic names
// its tenant ("job:<tenant>:<id>", and "job:*:<id>" for admins), so a client narrowed to a job
// hears only its own tenant's events even where the monitor cannot read the record store.
// Mounted by the monitor role (roles/monitor.ts); events arrive from Redis (events/bus.ts).
import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import { Type as T } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { MedianodeError, toMedianodeError } from "../../errors";
import type { MedianodeEvent } from "../../events/types";
import type { EventBus } from "../../events/bus";
import type { Logger } from "../../log";
import type { Metrics } from "../../metrics/registry";
import { isAdmin, type Principal } from "../../services/deps";
import { requireScope } from "../auth";
import type { Listener } from "../stream-ws/index";
import type { Broadcaster } from "../live-ws/index";
import { createRateLimiter } from "../rate-limit";

/** The stream's path (served by Bun's upgrade, not an Elysia route). */
export const EVENTS_PATH = "/v1/events";

export interface WsData {
  principal: Principal;
  /** Set when the stream is narrowed to jobs (?jobId= or subscribe messages). */
  jobs: Set<string> | null;
  /** ?jobId= of the upgrade: applied once the socket is open, its snapshot (read at upgrade) sent first. */
  narrowOnOpen: { jobId: string; snapshot: MedianodeEvent | null } | null;
  /** Set on /v1/stream sockets (api/stream-ws): the monitor routes them there. */
  stream?: Listener;
  /** Set on /v1/channels/:name/live sockets (api/live-ws). */
  broadcast?: Broadcaster;
}

/** Job ids one subscribe message may name: each costs a read of the job's row. */
export const SUBSCRIBE_MAX_IDS = 20;
const ClientMessage = T.Union([
  T.Object({ subscribe: T.Array(T.String({ pattern: "^job:", maxLength: 64 }), { minItems: 1, maxItems: SUBSCRIBE_MAX_IDS }) }),
  T.Object({ unsubscribe: T.Array(T.String({ pattern: "^job:", maxLength: 64 }), { minItems: 1, maxItems: SUBSCRIBE_MAX_IDS }) }),
]);

const CLOSE_TOO_SLOW = 1013;
/** Policy violation: too many messages. */
const CLOSE_POLICY = 1008;
/** The stream's credential was revoked or expired (4000-4999: application codes; 4401 mirrors HTTP 401). */
export const CLOSE_UNAUTHORIZED = 4401;
/** How often open streams re-check their credential (revocation, JWT expiry). */
const RECHECK_MS = 1000;

export interface HubDeps {
  /** Every event to stream, whichever node it came from. */
  bus: EventBus;
  metrics: Metrics;
  log: Logger;
  /** MEDIANODE_WS_BUFFER_BYTES: a client further behind is closed. */
  wsBufferBytes: number;
  /** The caller's principal, or a 401 error. */
  authenticate(req: Request): Promise<Principal>;
  /**
   * A late joiner's first message: the job's current state, or null where this monitor has no
   * record store to read it from. Throws NOT_FOUND for a job the principal may not see.
   */
  snapshot(jobId: string, p: Principal): Promise<MedianodeEvent | null>;
  /** MEDIANODE_WS_MESSAGES_PER_SEC: client messages per connection. */
  wsMessagesPerSec: number;
  /** MEDIANODE_WS_MAX_SUBSCRIPTIONS: jobs one connection may follow. */
  wsMaxSubscriptions: number;
  /** Whether an opaque token was revoked since the stream opened; null where this monitor cannot read tokens (JWTs only). */
  tokenRevoked: ((tokenId: string) => Promise<boolean>) | null;
}

export interface EventHub {
  /** Answers the upgrade (undefined: done) or an error response; null for other paths. */
  upgrade(req: Request, server: Server<WsData>): Promise<Response | undefined> | null;
  websocket: WebSocketHandler<WsData>;
  clients(): number;
  stop(): void;
}

function broadTopics(p: Principal): string[] {
  return [isAdmin(p) ? "all" : `tenant:${p.tenant}`, "global"];
}

function jobTopic(p: Principal, jobId: string): string {
  return `job:${isAdmin(p) ? "*" : p.tenant}:${jobId}`;
}

export function createEventHub(deps: HubDeps): EventHub {
  let server: Server<WsData> | null = null;
  let count = 0;
  const sockets = new Set<ServerWebSocket<WsData>>();
  const limit = deps.wsBufferBytes;
  // Bun applies closeOnBackpressureLimit to send() but not to topic publish(), so the bound
  // is enforced here: after a burst of events, any client too far behind is closed (1013).
  let sweepQueued = false;
  const sweep = () => {
    sweepQueued = false;
    for (const ws of sockets) {
      if (ws.getBufferedAmount() > limit) {
        sockets.delete(ws);
        deps.metrics.wsDropped.inc();
        deps.log.warn("WebSocket client dropped: it read too slowly", { bufferedBytes: ws.getBufferedAmount() });
        ws.close(CLOSE_TOO_SLOW, "too slow: events dropped");
      }
    }
  };
  const send = (ws: ServerWebSocket<WsData>, e: unknown) => ws.send(JSON.stringify(e));
  // Client messages per connection (each socket its own bucket): a flood is closed, not served.
  const perSocket = new WeakMap<ServerWebSocket<WsData>, string>();
  let socketSeq = 0;
  const messages = createRateLimiter(deps.wsMessagesPerSec, "connection");

  // Opaque tokens found revoked by the last re-check (the records are async on either engine,
  // so a client message is judged by the verdict at most RECHECK_MS old).
  const revoked = new Set<string>();
  /** Why a stream's principal no longer holds (revoked token, expired JWT), or null. */
  const revokedReason = (p: Principal, now: number): string | null => {
    if (p.expiresAtMs !== undefined && p.expiresAtMs <= now) return "token expired";
    if (p.tokenId && revoked.has(p.tokenId)) return "token revoked";
    return null;
  };
  const tooManySubscriptions = () =>
    new MedianodeError("RATE_LIMITED", `a connection follows at most ${deps.wsMaxSubscriptions} jobs (MEDIANODE_WS_MAX_SUBSCRIPTIONS); unsubscribe some first`);
  const closeUnauthorized = (ws: ServerWebSocket<WsData>, reason: string) => {
    sockets.delete(ws);
    ws.close(CLOSE_UNAUTHORIZED, reason);
  };
  // Revocation takes effect on open streams too: every second, one row read per token in use.
  let checking = false;
  const recheck = setInterval(() => {
    if (checking) return;
    checking = true;
    void (async () => {
      const ids = new Set<string>();
      for (const ws of sockets) {
        const id = ws.data.principal.tokenId;
        if (id && !id.startsWith("jwt:") && !revoked.has(id)) ids.add(id);
      }
      if (deps.tokenRevoked)
        for (const id of ids) {
          // A busy database: try again next round.
          if (await deps.tokenRevoked(id).catch(() => false)) revoked.add(id);
        }
      const now = Date.now();
      for (const ws of [...sockets]) {
        const why = revokedReason(ws.data.principal, now);
        if (why) closeUnauthorized(ws, why);
      }
    })().finally(() => (checking = false));
  }, RECHECK_MS);

  const narrowTo = (ws: ServerWebSocket<WsData>, jobId: string, snapshot: MedianodeEvent | null) => {
    if (ws.data.jobs?.has(jobId)) return;
    if ((ws.data.jobs?.size ?? 0) >= deps.wsMaxSubscriptions) throw tooManySubscriptions();
    if (!ws.data.jobs) {
      for (const t of broadTopics(ws.data.principal)) ws.unsubscribe(t);
      ws.data.jobs = new Set();
    }
    ws.data.jobs.add(jobId);
    ws.subscribe(jobTopic(ws.data.principal, jobId));
    // A client that connects late gets the job's current state first.
    if (snapshot) send(ws, snapshot);
  };

  const off = deps.bus.on((e: MedianodeEvent, tenant: string | null) => {
    if (!server) return;
    if (!sweepQueued) {
      sweepQueued = true;
      setImmediate(sweep);
    }
    const text = JSON.stringify(e);
    if (tenant === null) {
      // Every unfiltered client, admins included, is subscribed to "global": once is enough.
      server.publish("global", text);
      return;
    }
    server.publish("all", text);
    server.publish(`tenant:${tenant}`, text);
    if (e.jobId) {
      server.publish(`job:${tenant}:${e.jobId}`, text);
      server.publish(`job:*:${e.jobId}`, text);
    }
  });

  return {
    upgrade(req, srv) {
      const url = new URL(req.url);
      if (url.pathname !== EVENTS_PATH) return null;
      server = srv;
      return (async () => {
        try {
          if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") throw new MedianodeError("BAD_REQUEST", "GET /v1/events is a WebSocket: send Upgrade: websocket");
          const principal = await deps.authenticate(req);
          requireScope(principal, "jobs:read");
          const jobId = url.searchParams.get("jobId");
          // Another tenant's job is refused here (404), before the socket opens.
          const narrowOnOpen = jobId ? { jobId, snapshot: await deps.snapshot(jobId, principal) } : null;
          if (srv.upgrade(req, { data: { principal, jobs: null, narrowOnOpen } })) return undefined;
          throw new MedianodeError("BAD_REQUEST", "WebSocket upgrade failed");
        } catch (e) {
          const m = toMedianodeError(e);
          return new Response(JSON.stringify(m.toBody()), { status: m.status, headers: { "content-type": "application/json" } });
        }
      })();
    },
    websocket: {
      // A slow client is closed rather than buffered without bound (MEDIANODE_WS_BUFFER_BYTES).
      backpressureLimit: deps.wsBufferBytes,
      closeOnBackpressureLimit: true,
      idleTimeout: 120,
      sendPings: true,
      open(ws) {
        sockets.add(ws);
        count++;
        deps.metrics.wsClients.set(count);
        const n = ws.data.narrowOnOpen;
        if (n) narrowTo(ws, n.jobId, n.snapshot);
        else for (const t of broadTopics(ws.data.principal)) ws.subscribe(t);
      },
      message(ws, raw) {
        let key = perSocket.get(ws);
        if (!key) perSocket.set(ws, (key = String(++socketSeq)));
        try {
          messages.take(key);
        } catch (e) {
          deps.log.warn("WebSocket client closed: too many messages", { tokenId: ws.data.principal.tokenId });
          sockets.delete(ws);
          ws.close(CLOSE_POLICY, `too many messages (MEDIANODE_WS_MESSAGES_PER_SEC=${deps.wsMessagesPerSec})`);
          return;
        }
        const why = revokedReason(ws.data.principal, Date.now());
        if (why) return closeUnauthorized(ws, why);
        let msg: unknown;
        try {
          msg = JSON.parse(typeof raw === "string" ? raw : Buffer.from(raw).toString("utf8"));
        } catch {
          send(ws, { error: { code: "BAD_REQUEST", message: 'messages are JSON: {"subscribe":["job:ID"]}' } });
          return;
        }
        if (!Value.Check(ClientMessage, msg)) {
          send(ws, { error: { code: "BAD_REQUEST", message: `expected {"subscribe":["job:ID"]} or {"unsubscribe":[...]}, 1 to ${SUBSCRIBE_MAX_IDS} ids` } });
          return;
        }
        if ("subscribe" in msg) {
          for (const t of msg.subscribe) {
            const jobId = t.slice(4);
            // A repeat is not read again; past the cap nothing is read at all.
            if (ws.data.jobs?.has(jobId)) continue;
            if ((ws.data.jobs?.size ?? 0) >= deps.wsMaxSubscriptions) {
              send(ws, tooManySubscriptions().toBody());
              continue;
            }
            deps.snapshot(jobId, ws.data.principal).then(
              (snapshot) => {
                try {
                  narrowTo(ws, jobId, snapshot);
                } catch (e) {
                  send(ws, toMedianodeError(e).toBody());
                }
              },
              // Another tenant's job looks like no job at all (404, never 403).
              (e) => send(ws, toMedianodeError(e).toBody()),
            );
          }
        } else
          for (const t of msg.unsubscribe) {
            ws.unsubscribe(jobTopic(ws.data.principal, t.slice(4)));
            ws.data.jobs?.delete(t.slice(4));
          }
      },
      close(ws) {
        sockets.delete(ws);
        count--;
        deps.metrics.wsClients.set(count);
      },
    },
    clients: () => count,
    stop() {
      off();
      clearInterval(recheck);
    },
  };
}
