import type { ErrorValue } from "../errors";
import type { JobType } from "../config/schema";
import type { Job, JobError, JobStatus, Output, StoredSource } from "../jobs/schema";
import type { Db } from "./db";
import type { Waiting } from "../nodes/capabilities";

export interface JobRow {
  id: string;
  tenant: string;
  token_id: string | null;
  type: JobType;
  status: JobStatus;
  progress: number;
  priority: number;
  source: string;
  options: string;
  metadata: string | null;
  outputs: string;
  result: string | null;
  error: string | null;
  attempts: number;
  max_attempts: number;
  node: string | null;
  webhook: string | null;
  /** The job's own one-off notifications: JobNotify JSON ({email?, webpush?}). */
  notify: string | null;
  idempotency_key: string | null;
  run: number;
  live: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

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
  notify?: unknown;
  idempotencyKey: string | null;
  maxAttempts: number;
  now: number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The API view of a row (SPEC §2); `urlBase` turns output names into URLs. */
export function toJobView(row: JobRow): Job {
  const outputs = (JSON.parse(row.outputs) as Omit<Output, "url">[]).map((o) => ({
    ...o,
    url: `/v1/jobs/${row.id}/outputs/${o.name.split("/").map(encodeURIComponent).join("/")}`,
  }));
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    progress: row.progress,
    priority: row.priority,
    source: JSON.parse(row.source) as StoredSource,
    options: JSON.parse(row.options) as Record<string, unknown>,
    metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as unknown),
    outputs,
    result: row.result === null ? null : (JSON.parse(row.result) as Record<string, unknown>),
    error: row.error === null ? null : (JSON.parse(row.error) as JobError),
    attempts: row.attempts,
    node: row.node,
    createdAt: iso(row.created_at)!,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    ...liveView(row),
  };
}

/** Progress detail while active; only the `waiting` marker while queued; nothing once finished. */
function liveView(row: JobRow): { live?: LiveProgress } {
  if (!row.live) return {};
  const live = JSON.parse(row.live) as LiveProgress;
  const { waiting, ...progress } = live;
  if (row.status === "active") return { live: progress };
  if (row.status === "queued" && waiting) return { live: { waiting } };
  return {};
}

export function insertJob(db: Db, j: NewJob): JobRow {
  const row: JobRow = {
    id: j.id,
    tenant: j.tenant,
    token_id: j.tokenId,
    type: j.type,
    status: "queued",
    progress: 0,
    priority: j.priority,
    source: JSON.stringify(j.source),
    options: JSON.stringify(j.options),
    metadata: j.metadata === undefined ? null : JSON.stringify(j.metadata),
    outputs: "[]",
    result: null,
    error: null,
    attempts: 0,
    max_attempts: j.maxAttempts,
    node: null,
    webhook: j.webhook,
    notify: j.notify === undefined || j.notify === null ? null : JSON.stringify(j.notify),
    idempotency_key: j.idempotencyKey,
    run: 1,
    live: null,
    created_at: j.now,
    started_at: null,
    finished_at: null,
    updated_at: j.now,
  };
  db.query(
    `INSERT INTO jobs (id, tenant, token_id, type, status, priority, source, options, metadata, webhook, idempotency_key, max_attempts, created_at, updated_at, notify)
     VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13)`,
  ).run(row.id, row.tenant, row.token_id, row.type, row.priority, row.source, row.options, row.metadata, row.webhook, row.idempotency_key, row.max_attempts, row.created_at, row.notify);
  return row;
}

export function getJob(db: Db, id: string): JobRow | null {
  return db.query<JobRow, [string]>("SELECT * FROM jobs WHERE id = ?").get(id);
}

export function findByIdempotencyKey(db: Db, tokenId: string, key: string): JobRow | null {
  return db.query<JobRow, [string, string]>("SELECT * FROM jobs WHERE token_id = ? AND idempotency_key = ?").get(tokenId, key);
}

export interface ListFilter {
  tenant?: string;
  status?: JobStatus;
  type?: JobType;
  /** Rows with an id below this (ids sort by creation time; newest first). */
  cursor?: string;
  limit: number;
}

export function listJobs(db: Db, f: ListFilter): JobRow[] {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (f.tenant !== undefined) (where.push("tenant = ?"), args.push(f.tenant));
  if (f.status !== undefined) (where.push("status = ?"), args.push(f.status));
  if (f.type !== undefined) (where.push("type = ?"), args.push(f.type));
  if (f.cursor !== undefined) (where.push("id < ?"), args.push(f.cursor));
  const sql = `SELECT * FROM jobs ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY id DESC LIMIT ?`;
  return db.query<JobRow, (string | number)[]>(sql).all(...args, f.limit);
}

/** Non-terminal rows, oldest first, for reconciling with Redis. */
export function listOpen(db: Db, afterId: string, limit: number): JobRow[] {
  return db
    .query<JobRow, [string, number]>("SELECT * FROM jobs WHERE status IN ('queued','active') AND id > ? ORDER BY id LIMIT ?")
    .all(afterId, limit);
}

/**
 * Applies a worker's "active" report unless the row is terminal or the report is from an older
 * run. Returns the row only when something changed (one job.active per attempt and node).
 */
export function markActive(db: Db, id: string, run: number, attempt: number, node: string, at: number): JobRow | null {
  return db
    .query<JobRow, Record<string, string | number>>(
      `UPDATE jobs SET status = 'active', node = $node, attempts = MAX(attempts, $attempt),
         started_at = COALESCE(started_at, $at), updated_at = $at
       WHERE id = $id AND run = $run
         AND (status = 'queued' OR (status = 'active' AND (node IS NOT $node OR attempts < $attempt))) RETURNING *`,
    )
    .get({ id, run, attempt, node, at });
}

/** A failed attempt that BullMQ will retry: back to queued, attempts recorded. */
export function markRetrying(db: Db, id: string, run: number, attempts: number, at: number): JobRow | null {
  return db
    .query<JobRow, Record<string, string | number>>(
      `UPDATE jobs SET status = 'queued', progress = 0, live = NULL, attempts = MAX(attempts, $attempts), updated_at = $at
       WHERE id = $id AND run = $run AND status IN ('queued','active') RETURNING *`,
    )
    .get({ id, run, attempts, at });
}

export function setProgress(db: Db, id: string, run: number, progress: number, live: LiveProgress | null, at: number): void {
  db.query("UPDATE jobs SET progress = ?, live = ?, updated_at = ? WHERE id = ? AND run = ? AND status IN ('queued','active')").run(
    progress,
    live ? JSON.stringify(live) : null,
    at,
    id,
    run,
  );
}

export interface LiveProgress {
  etaSec?: number;
  renditions?: Record<string, number>;
  /** Queued only: no online node can run the job (nodes/capabilities.ts). */
  waiting?: Waiting;
}

/** A row's `waiting` marker, or null. */
export function waitingOf(row: Pick<JobRow, "live">): Waiting | null {
  return row.live ? ((JSON.parse(row.live) as LiveProgress).waiting ?? null) : null;
}

/**
 * Sets (or, with null, clears) the `waiting` marker of a queued row. Returns the row only
 * when the marker changed, so a caller emits one event per change.
 */
export function setWaiting(db: Db, id: string, run: number, waiting: Waiting | null, at: number): JobRow | null {
  const row = getJob(db, id);
  if (!row || row.run !== run || row.status !== "queued") return null;
  const had = waitingOf(row);
  if ((had === null) === (waiting === null)) return null;
  return db
    .query<JobRow, [string | null, number, string, number]>("UPDATE jobs SET live = ?, updated_at = ? WHERE id = ? AND run = ? AND status = 'queued' RETURNING *")
    .get(waiting ? JSON.stringify({ waiting }) : null, at, id, run);
}

export interface Finish {
  status: "completed" | "failed" | "cancelled";
  outputs?: Omit<Output, "url">[];
  result?: Record<string, unknown> | null;
  error?: (ErrorValue & Partial<JobError>) | null;
  attempts?: number;
  node?: string | null;
  at: number;
}

/**
 * The one terminal transition. Returns the row only when this call made it terminal:
 * a second report of the same end (or of an older run) changes nothing (SPEC §8).
 */
export function finishJob(db: Db, id: string, run: number | null, f: Finish): JobRow | null {
  return db
    .query<JobRow, Record<string, string | number | null>>(
      `UPDATE jobs SET status = $status, progress = CASE WHEN $status = 'completed' THEN 100 ELSE progress END,
         outputs = COALESCE($outputs, outputs), result = $result, error = $error,
         attempts = MAX(attempts, COALESCE($attempts, 0)), node = COALESCE($node, node),
         finished_at = $at, updated_at = $at, live = NULL
       WHERE id = $id AND status IN ('queued','active') AND ($run IS NULL OR run = $run) RETURNING *`,
    )
    .get({
      id,
      run,
      status: f.status,
      outputs: f.outputs ? JSON.stringify(f.outputs) : null,
      result: f.result ? JSON.stringify(f.result) : null,
      error: f.error ? JSON.stringify(f.error) : null,
      attempts: f.attempts ?? null,
      node: f.node ?? null,
      at: f.at,
    });
}

/** failed/cancelled → queued for a new run; returns null when the row is not in one of those states. */
export function requeueJob(db: Db, id: string, at: number): JobRow | null {
  return db
    .query<JobRow, [number, string]>(
      `UPDATE jobs SET status = 'queued', progress = 0, error = NULL, result = NULL, outputs = '[]', attempts = 0, node = NULL,
         run = run + 1, started_at = NULL, finished_at = NULL, updated_at = ?1
       WHERE id = ?2 AND status IN ('failed','cancelled') RETURNING *`,
    )
    .get(at, id);
}

export function countByStatus(db: Db): Record<JobStatus, number> {
  const out: Record<JobStatus, number> = { queued: 0, active: 0, completed: 0, failed: 0, cancelled: 0 };
  for (const r of db.query<{ status: JobStatus; n: number }, []>("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status").all()) out[r.status] = r.n;
  return out;
}

export function listFinishedBefore(db: Db, cutoff: number, limit: number): JobRow[] {
  return db
    .query<JobRow, [number, number]>("SELECT * FROM jobs WHERE status IN ('completed','failed','cancelled') AND finished_at < ? ORDER BY finished_at LIMIT ?")
    .all(cutoff, limit);
}

export function deleteJob(db: Db, id: string): void {
  db.query("DELETE FROM jobs WHERE id = ?").run(id);
}

/** Takes back rows whose enqueue failed (the client got a 503): only while still untouched. */
export function deleteUnstarted(db: Db, ids: readonly string[]): void {
  db.transaction(() => {
    for (const id of ids) db.query("DELETE FROM jobs WHERE id = ? AND status = 'queued'").run(id);
  })();
}

/** Which of these job ids have a row. */
export function existingJobIds(db: Db, ids: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const rows = db.query<{ id: string }, string[]>(`SELECT id FROM jobs WHERE id IN (${chunk.map(() => "?").join(",")})`).all(...chunk);
    for (const r of rows) out.add(r.id);
  }
  return out;
}
