// The shape of the monitor's WebSocket plugins beside the event stream (stream-ws, live-ws):
// roles/monitor.ts routes each socket to its plugin by its data.
import type { Server, ServerWebSocket } from "bun";
import { toMedianodeError } from "../errors";
import type { WsData } from "./events-ws/hub";

export interface SocketPlugin {
  /** The upgrade's answer (undefined: upgraded) or null for a path that is not the plugin's. */
  upgrade(req: Request, server: Server<WsData>): Promise<Response | undefined> | null;
  open(ws: ServerWebSocket<WsData>): void;
  message(ws: ServerWebSocket<WsData>, raw: string | Buffer): void;
  close(ws: ServerWebSocket<WsData>): void;
  stop(): Promise<void>;
}

/** A refused upgrade: the SPEC's error body with its status (401, 403, 404, 409…). */
export function refuseUpgrade(e: unknown): Response {
  const m = toMedianodeError(e);
  return new Response(JSON.stringify(m.toBody()), { status: m.status, headers: { "content-type": "application/json" } });
}
