// The record store's interface: what every caller sees, whichever engine holds the records.
// Async, records in and out as domain types (jobs/schema.ts), so the PostgreSQL engine (SPEC
// §11) can sit behind it unchanged for its callers. store/sqlite/ is the embedded engine.
import type { ErrorValue } from "../errors";
import type { ChannelRecord } from "../channels/schema";
import type { JobNotify } from "../events/notifications/schema";
import type { JobError, JobRecord, JobStatus, JobType, LiveProgress, OutputFile, StoredSource, Waiting } from "../jobs/schema";

export interface NewJob {
  id: string;
  tenant: string;
  tokenId: string | null;
  type: JobType;
  priority: number;
  source: StoredSource;
  options: Record<string, unknown>;
  metadata: unknown;
  webhook: string | null;
  notify?: JobNotify | null;
  idempotencyKey: string | null;
  maxAttempts: number;
  now: number;
}

export interface ListFilter {
  tenant?: string;
  status?: JobStatus;
  type?: JobType;
  /** Records with an id below this (ids sort by creation time; newest first). */
  cursor?: string;
  limit: number;
}

export interface Finish {
  status: "completed" | "failed" | "cancelled";
  outputs?: OutputFile[];
  result?: Record<string, unknown> | null;
  error?: (ErrorValue & Partial<JobError>) | null;
  attempts?: number;
  node?: string | null;
  at: number;
}

/** One submission's outcome in a group insert: the new record, the earlier one of its idempotency key, or its error. */
export type Inserted = { record: JobRecord; created: boolean } | { error: unknown };

/** Every transition returns the record only when the call changed it (so a caller emits one event per change). */
export interface JobRecords {
  /**
   * Writes many new jobs in one transaction (the submit path's group commit). A job whose
   * (token, idempotency key) is taken returns the existing record with created false.
   */
  insertMany(jobs: readonly NewJob[]): Promise<Inserted[]>;
  get(id: string): Promise<JobRecord | null>;
  /** Just what a playback URL is checked against on every request (SPEC §10): no JSON columns read. */
  generation(id: string): Promise<{ status: JobStatus; finishedAt: number | null } | null>;
  findByIdempotencyKey(tokenId: string, key: string): Promise<JobRecord | null>;
  list(f: ListFilter): Promise<JobRecord[]>;
  /** Open (queued or active) records, oldest first, for reconciling with Redis. */
  listOpen(afterId: string, limit: number): Promise<JobRecord[]>;
  /** A worker's "active" report, unless terminal or from an older run (one change per attempt and node). */
  markActive(id: string, run: number, attempt: number, node: string, at: number): Promise<JobRecord | null>;
  /** A failed attempt BullMQ will retry: back to queued, attempts recorded. */
  markRetrying(id: string, run: number, attempts: number, at: number): Promise<JobRecord | null>;
  setProgress(id: string, run: number, progress: number, live: LiveProgress | null, at: number): Promise<void>;
  /** Sets (or, with null, clears) the `waiting` marker of a queued record. */
  setWaiting(id: string, run: number, waiting: Waiting | null, at: number): Promise<JobRecord | null>;
  /** The one terminal transition: a second report of the same end (or an older run) changes nothing (SPEC §8). */
  finish(id: string, run: number | null, f: Finish): Promise<JobRecord | null>;
  /** failed/cancelled → queued for a new run. */
  requeue(id: string, at: number): Promise<JobRecord | null>;
  countByStatus(): Promise<Record<JobStatus, number>>;
  listFinishedBefore(cutoff: number, limit: number): Promise<JobRecord[]>;
  delete(id: string): Promise<void>;
  /** Takes back records whose enqueue failed (the client got a 503): only while still untouched. */
  deleteUnstarted(ids: readonly string[]): Promise<void>;
  /** Which of these job ids have a record. */
  existingIds(ids: readonly string[]): Promise<Set<string>>;
}

/** A live audio channel as stored (SPEC §12): its playlist and clock, and who made it. */
export type StoredChannel = ChannelRecord & { jobs: string[]; tokenId: string | null };

/** One listener session (SPEC §12), reported by the monitor that served it. */
export interface StoredListenerSession {
  id: string;
  tenant: string;
  channel: string;
  tokenId: string | null;
  node: string;
  codec: string;
  bitrateKbps: number;
  startedAt: number;
  endedAt: number | null;
  bytes: number;
  endReason: string | null;
}

export interface ChannelRecords {
  /** false when the tenant already has a channel of that name. */
  insert(c: StoredChannel): Promise<boolean>;
  get(tenant: string, name: string): Promise<StoredChannel | null>;
  /** A tenant's channels (null: every tenant's). */
  list(tenant: string | null): Promise<StoredChannel[]>;
  /** The channel and its listener sessions. */
  delete(tenant: string, name: string): Promise<boolean>;
  setClock(tenant: string, name: string, pausedSec: number, liveSinceMs: number | null): Promise<void>;
  /** Inserts or updates (a session is reported at its start and its end); sessions of a deleted channel are dropped. */
  upsertSessions(s: readonly StoredListenerSession[]): Promise<void>;
  /** Newest first. */
  listSessions(tenant: string, channel: string, limit: number, before?: number): Promise<StoredListenerSession[]>;
}

/** The records of one installation. Tokens, webhooks, deliveries and audit join this interface next (issue 14). */
export interface Records {
  jobs: JobRecords;
  channels: ChannelRecords;
}

/** A record's `waiting` marker, or null. */
export function waitingOf(r: Pick<JobRecord, "live">): Waiting | null {
  return r.live?.waiting ?? null;
}
