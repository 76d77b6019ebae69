// The record store's interface: what every caller sees, whichever engine holds the records.
// Async, records in and out as domain types (jobs/schema.ts), so the PostgreSQL engine (SPEC
// §11) can sit behind it unchanged for its callers. store/sqlite/ is the embedded engine.
import type { ErrorValue } from "../errors";
import type { Scope } from "./scopes";
import type { JobFilter, StatsGroupBy, StatsRow } from "./job-query";
import type { Channel, JobNotify } from "../events/notifications/schema";
import type { ChannelRecord } from "../channels/schema";
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

export interface ListFilter extends JobFilter {
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
  /** A page of the records matching every filter (store/job-query.ts), newest first. */
  list(f: ListFilter): Promise<JobRecord[]>;
  /** Counts, media seconds and duration percentiles per group, computed by the database. */
  stats(f: JobFilter, groupBy: StatsGroupBy): Promise<StatsRow[]>;
  /** Creates the expression index of each metadata key named (MEDIANODE_INDEXED_METADATA); idempotent. */
  indexMetadata(keys: readonly string[]): Promise<void>;
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

// Tokens, webhooks, deliveries and audit: their records keep the tables' column names (both
// engines hold the same columns); the services turn them into API views.

export interface TokenRow {
  id: string;
  name: string;
  hash: string;
  /** JSON list of scopes. */
  scopes: string;
  tenant: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  /** Signs the webhooks of this token's jobs; null for tokens made before 0007 (the node's secret). */
  webhook_secret: string | null;
}

export interface NewToken {
  id: string;
  name: string;
  hash: string;
  scopes: Scope[];
  tenant: string;
  now: number;
  webhookSecret: string | null;
}

export interface TokenRecords {
  insert(t: NewToken): Promise<TokenRow>;
  get(id: string): Promise<TokenRow | null>;
  list(): Promise<TokenRow[]>;
  countActiveAdmins(): Promise<number>;
  /** Inserts `t` only while no active admin token exists, atomically; null when one does. */
  insertFirstAdmin(t: NewToken): Promise<TokenRow | null>;
  /** true when this call revoked it. */
  revoke(id: string, at: number): Promise<boolean>;
  /** Replaces an active token's webhook secret; false when it is revoked or gone. */
  setWebhookSecret(id: string, secret: string): Promise<boolean>;
  touch(id: string, at: number): Promise<void>;
}

export interface WebhookRow {
  id: string;
  tenant: string;
  url: string;
  /** JSON list of event types. */
  events: string;
  secret: string;
  created_at: number;
}

export interface WebhookRecords {
  insert(w: WebhookRow): Promise<void>;
  get(id: string): Promise<WebhookRow | null>;
  /** A tenant's subscriptions (null = every tenant's). */
  list(tenant: string | null): Promise<WebhookRow[]>;
  delete(id: string): Promise<boolean>;
}

export interface DeliveryRow {
  id: string;
  channel: Channel;
  webhook_id: string | null;
  /** An email/webpush subscription (notifications table); both ids null: the job's own webhook/notify. */
  notification_id: string | null;
  job_id: string | null;
  tenant: string;
  /** webhook: the URL; email: mailto:<address>; webpush: the push endpoint. */
  url: string;
  event_type: string;
  body: string;
  state: "pending" | "delivered" | "failed";
  attempts: number;
  created_at: number;
  finished_at: number | null;
  /** "<jobId>:<run> <breaker key>": one terminal notification per job run per subscription. */
  dedupe_key: string | null;
  /** Set while an attempt is being sent (see migration 0008_add_notifications). */
  sending_attempt: number | null;
}

export type NewDelivery = Omit<DeliveryRow, "state" | "attempts" | "finished_at" | "sending_attempt">;

export interface AttemptRow {
  delivery_id: string;
  attempt: number;
  at: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

export interface BreakerRow {
  /** `webhook:<id>` for a subscription, `job:<tenant> <url>` for a job's own webhook URL (breakerKey). */
  key: string;
  consecutive_failures: number;
  open_until: number | null;
}

export interface DeliveryRecords {
  /** Inserts a pending delivery; false when its dedupe key already has one (nothing to send). */
  insert(d: NewDelivery): Promise<boolean>;
  get(id: string): Promise<DeliveryRow | null>;
  /** Marks an attempt as being sent now; false when the delivery is no longer pending or another send holds it. */
  beginSend(id: string, attempt: number): Promise<boolean>;
  /** The attempt and the delivery's new state (the send mark cleared), in one transaction. */
  recordAttempt(a: AttemptRow, state: DeliveryRow["state"]): Promise<void>;
  /** One subscription's log, newest first: a webhook's (w_…) or an email/webpush subscription's (n_…). */
  list(subscriptionId: string, limit: number): Promise<DeliveryRow[]>;
  /** Pending deliveries made at or after `since`, oldest first (re-queued at start). */
  listPending(since: number, limit: number): Promise<DeliveryRow[]>;
  listAttempts(deliveryId: string): Promise<AttemptRow[]>;
  getBreaker(key: string): Promise<BreakerRow | null>;
  saveBreaker(b: BreakerRow): Promise<void>;
  /** Removes finished deliveries (and their attempts) finished before `before`, up to `batch`; returns how many. */
  prune(before: number, batch: number): Promise<number>;
}

/** An email or Web Push subscription (webhooks keep their own table). */
export interface NotificationRow {
  id: string;
  tenant: string;
  channel: "email" | "webpush";
  /** email: the address; webpush: the PushSubscription JSON. */
  target: string;
  /** JSON list of event types. */
  events: string;
  created_at: number;
}

export interface NotificationRecords {
  insert(n: NotificationRow): Promise<void>;
  get(id: string): Promise<NotificationRow | null>;
  /** A tenant's subscriptions (null = every tenant's), oldest first. */
  list(tenant: string | null): Promise<NotificationRow[]>;
  delete(id: string): Promise<boolean>;
}

export interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  /** JSON text, or null. */
  details: string | null;
}

export interface AuditRecords {
  insert(a: { at: number; actor: string; action: string; target?: string | null; details?: unknown }): Promise<void>;
  list(o: { beforeId?: number; limit: number }): Promise<AuditRow[]>;
  /** Removes up to `batch` entries older than `before`; returns how many. */
  prune(before: number, batch: number): Promise<number>;
}

/** The signing secrets a cluster shares (services/signing-secrets.ts says what each signs). */
export const CLUSTER_SECRETS = ["playback", "webhook", "vapid"] as const;
export type ClusterSecret = (typeof CLUSTER_SECRETS)[number];

export interface SecretRecords {
  /**
   * The stored value of `name`; when there is none, `make()`'s is stored, unless another node
   * stored one meanwhile: every caller, on every node, gets the one value that is stored.
   */
  shared(name: ClusterSecret, make: () => string): Promise<string>;
}

export type Engine = "sqlite" | "postgres";

/** The cluster-wide locks (SPEC §11): "duties" is held by the one api node that runs them. */
export type LockName = "duties";

/** A lock one process holds at a time: it is gone when its holder releases it, stops or dies. */
export interface HeldLock {
  /** Whether it is still ours (false once the connection holding it broke). */
  held(): Promise<boolean>;
  release(): Promise<void>;
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

/** The records of one installation, whichever engine holds them (SPEC §1, §11). */
export interface Records {
  engine: Engine;
  jobs: JobRecords;
  tokens: TokenRecords;
  webhooks: WebhookRecords;
  deliveries: DeliveryRecords;
  notifications: NotificationRecords;
  audit: AuditRecords;
  channels: ChannelRecords;
  secrets: SecretRecords;
  /**
   * Takes `name` if no other process holds it, else null. PostgreSQL: a session advisory lock
   * on a connection of its own, freed by the server the moment its holder dies. SQLite: always
   * granted (the file is one host's, and one api node per Redis writes it).
   */
  tryLock(name: LockName): Promise<HeldLock | null>;
  /** Applies this engine's pending migrations; returns the versions applied. */
  migrate(): Promise<number[]>;
  /** Throws when the engine cannot answer (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A record's `waiting` marker, or null. */
export function waitingOf(r: Pick<JobRecord, "live">): Waiting | null {
  return r.live?.waiting ?? null;
}
