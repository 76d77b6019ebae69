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

const ClientMessage = T.Union([
  T.Object({ subscribe: T.Array(T.String({ pattern: "^job:" }), { minItems: 1, maxItems: 100 }) }),
  T.Object({ unsubscribe: T.Array(T.String({ pattern: "^job:" }), { minItems: 1, maxItems: 100 }) }),
]);

const CLOSE_TOO_SLOW = 1013;

export interface HubDeps {
  /** Every event to stream, whichever node it came from. */
  bus: EventBus;
  metrics: Metrics;
  log: Logger;
  /** MEDIANODE_WS_BUFFER_BYTES: a client further behind is closed. */
  wsBufferBytes: number;
  /** The caller's principal, or a 401 error. */
  authenticate(req: Request): Principal;
  /**
   * A late joiner's first message: the job's current state, or null where this monitor has no
   * record store to read it from. Throws NOT_FOUND for a job the principal may not see.
   */
  snapshot(jobId: string, p: Principal): Promise<MedianodeEvent | null>;
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

  const narrowTo = (ws: ServerWebSocket<WsData>, jobId: string, snapshot: MedianodeEvent | null) => {
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
      if (url.pathname !== "/v1/events") return null;
      server = srv;
      return (async () => {
        try {
          if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") throw new MedianodeError("BAD_REQUEST", "GET /v1/events is a WebSocket: send Upgrade: websocket");
          const principal = deps.authenticate(req);
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
        let msg: unknown;
        try {
          msg = JSON.parse(typeof raw === "string" ? raw : Buffer.from(raw).toString("utf8"));
        } catch {
          send(ws, { error: { code: "BAD_REQUEST", message: 'messages are JSON: {"subscribe":["job:ID"]}' } });
          return;
        }
        if (!Value.Check(ClientMessage, msg)) {
          send(ws, { error: { code: "BAD_REQUEST", message: 'expected {"subscribe":["job:ID"]} or {"unsubscribe":[...]}' } });
          return;
        }
        if ("subscribe" in msg) {
          for (const t of msg.subscribe) {
            const jobId = t.slice(4);
            deps.snapshot(jobId, ws.data.principal).then(
              (snapshot) => narrowTo(ws, jobId, snapshot),
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
    },
  };
}
