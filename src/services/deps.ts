import type IORedis from "ioredis";
import type { Config } from "../config/schema";
import type { MediaSettings } from "../jobs/pipeline";
import type { Logger } from "../log";
import type { Queues } from "../queue/queues";
import type { EventBus } from "../events/bus";
import type { Metrics } from "../metrics/registry";
import type { LocalMediaStore } from "../storage/local";
import type { MediaFiles } from "../storage/media-files";
import type { Records } from "../store/records";
import type { Submitter } from "./submitter";
import type { QueuePositions } from "./positions";
import type { Scope } from "../store/scopes";

/** Everything the api-side use-cases need, built once in roles/api.ts. */
export interface ServiceDeps {
  config: Config;
  /** Every record, behind one async interface (SQLite or PostgreSQL, store/open.ts). */
  records: Records;
  queues: Queues;
  /** Fail-fast connection (no offline queue) for adds, reads and control publishes. */
  redis: IORedis;
  /** The data dir's media folder (the HTTP store of `worker --server` works on it). */
  mediaStore: LocalMediaStore;
  /** Where sources and outputs are for the routes: the data dir, or the media bucket (SPEC §11). */
  mediaFiles: MediaFiles;
  media: MediaSettings;
  log: Logger;
  metrics: Metrics;
  bus: EventBus;
  nodeId: string;
  now(): number;
  /** The group commit of submissions (services/submitter.ts), one per api role. */
  submitter: Submitter;
  /** Queued jobs' live.position, kept in memory from the queues' events (services/positions.ts). */
  positions: QueuePositions;
  /** The message-bus bridge's connection (SPEC §13), when MEDIANODE_BUS_URL is set. */
  busStatus?: () => { ok: boolean; detail: string };
}

/** Who is calling: resolved from a token (or, later, a JWT) by api/auth.ts. */
export interface Principal {
  tokenId: string | null;
  name: string;
  tenant: string;
  scopes: Scope[];
  /** When the credential stops being valid (a JWT's exp, leeway included); long-lived streams are closed then. */
  expiresAtMs?: number;
}

export const isAdmin = (p: Principal) => p.scopes.includes("admin");

export type { Scope };
