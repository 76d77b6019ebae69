// A jobs row (snake_case, JSON text columns) as both engines store it, and its one mapping to
// the domain record (jobs/schema.ts). Rows never leave store/.
import type { JobRecord, JobStatus, LiveProgress } from "../jobs/schema";
import type { NewJob } from "./records";

/** BIGINT columns arrive as strings from PostgreSQL, as numbers from SQLite. */
export const numOrNull = (v: number | string | null): number | null => (v === null ? null : Number(v));

/** The jobs table as either engine holds it (PostgreSQL hands BIGINT columns back as strings). */
export interface JobRow {
  id: string;
  tenant: string;
  token_id: string | null;
  type: JobRecord["type"];
  status: JobStatus;
  progress: number | string;
  priority: number | string;
  source: string;
  options: string;
  metadata: string | null;
  outputs: string;
  result: string | null;
  error: string | null;
  attempts: number | string;
  max_attempts: number | string;
  node: string | null;
  webhook: string | null;
  notify: string | null;
  idempotency_key: string | null;
  run: number | string;
  live: string | null;
  created_at: number | string;
  started_at: number | string | null;
  finished_at: number | string | null;
  updated_at: number | string;
}

const json = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

export function fromRow(r: JobRow): JobRecord {
  return {
    id: r.id,
    tenant: r.tenant,
    tokenId: r.token_id,
    type: r.type,
    status: r.status,
    progress: Number(r.progress),
    priority: Number(r.priority),
    source: JSON.parse(r.source) as JobRecord["source"],
    options: JSON.parse(r.options) as Record<string, unknown>,
    metadata: r.metadata === null ? undefined : (JSON.parse(r.metadata) as unknown),
    outputs: JSON.parse(r.outputs) as JobRecord["outputs"],
    result: json<Record<string, unknown>>(r.result),
    error: json<JobRecord["error"]>(r.error),
    attempts: Number(r.attempts),
    maxAttempts: Number(r.max_attempts),
    node: r.node,
    webhook: r.webhook,
    notify: json<JobRecord["notify"]>(r.notify),
    idempotencyKey: r.idempotency_key,
    run: Number(r.run),
    live: json<LiveProgress>(r.live),
    createdAt: Number(r.created_at),
    startedAt: numOrNull(r.started_at),
    finishedAt: numOrNull(r.finished_at),
    updatedAt: Number(r.updated_at),
  };
}


/** The record a fresh insert makes (what the row reads back as, without reading it). */
export function newJobRecord(j: NewJob): JobRecord {
  return {
    id: j.id,
    tenant: j.tenant,
    tokenId: j.tokenId,
    type: j.type,
    status: "queued",
    progress: 0,
    priority: j.priority,
    source: j.source,
    options: j.options,
    metadata: j.metadata,
    outputs: [],
    result: null,
    error: null,
    attempts: 0,
    maxAttempts: j.maxAttempts,
    node: null,
    webhook: j.webhook,
    notify: j.notify ?? null,
    idempotencyKey: j.idempotencyKey,
    run: 1,
    live: null,
    createdAt: j.now,
    startedAt: null,
    finishedAt: null,
    updatedAt: j.now,
  };
}
