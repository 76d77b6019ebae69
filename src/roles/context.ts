// What every role of one process shares: its identity, config, log, Redis URL, metrics
// registry and media settings. Built once by serve.ts; each role takes what it needs.
import type { Server, WebSocketHandler } from "bun";
import type { Config } from "../config/schema";
import type { MediaSettings } from "../jobs/pipeline";
import type { Logger } from "../log";
import type { Metrics } from "../metrics/registry";
import type { LocalMediaStore } from "../storage/local";
import type { Bucket } from "../storage/bucket";
import type { MediaFiles } from "../storage/media-files";
import type { WsData } from "../api/events-ws/hub";
import type { ClientInfo } from "../api/forwarded";

export interface NodeContext {
  config: Config;
  nodeId: string;
  log: Logger;
  redisUrl: string;
  metrics: Metrics;
  media: MediaSettings;
  /** The media files in this host's data dir. */
  mediaStore: LocalMediaStore;
  /** The media bucket of MEDIANODE_MEDIA_URL, or null (media in the data dir). */
  bucket: Bucket | null;
  /** The api side's media store: the data dir's, or the bucket's. */
  mediaFiles: MediaFiles;
  /** Who sent a request (its address through trusted proxies only), as the node's gate found it. */
  clientOf(req: Request): ClientInfo;
  /** Gauges read on demand: each role adds its own; /metrics runs them all before it answers. */
  onScrape(refresh: () => void | Promise<void>): void;
  /** Runs every refresh added with onScrape (a failing one leaves its gauges as they were). */
  scrape(): Promise<void>;
}

export type Fetch = (req: Request) => Promise<Response>;

/** What a role answers on the node's one port. */
export interface RoleHttp {
  /** Plain requests (the api role's routes). */
  fetch?: Fetch;
  /** WebSocket upgrades (the monitor role): undefined when answered, null for other paths. */
  upgrade?(req: Request, server: Server<WsData>): Promise<Response | undefined> | null;
  websocket?: WebSocketHandler<WsData>;
}

/** The one shape of a role: started with its deps, it runs until stop(). */
export interface Role {
  http?: RoleHttp;
  /** Stops what the role started; running jobs get `graceMs` (the worker role). */
  stop(graceMs: number): Promise<void>;
}
