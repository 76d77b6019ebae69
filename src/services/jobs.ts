// Job use-cases for the api and the CLI: the only layer that touches both SQLite and BullMQ.
// SQLite is written first (the outbox), so a 202 is never a job that exists nowhere.
import { ConflictError, InvalidOptionsError, NotFoundError, UnavailableError, type MedianodeError } from "../errors";
import { resolveOptions } from "../jobs/registry";
import { METADATA_MAX_BYTES, TERMINAL, type JobRequest, type JobStatus, type StoredSource } from "../jobs/schema";
import type { JobType } from "../config/schema";
import { withRedis } from "../queue/connection";
import { CONTROL_CHANNEL } from "../queue/names";
import { bullJobId, jobOptions } from "../queue/queues";
import type { ControlMessage } from "../queue/payload";
import {
  findByIdempotencyKey,
  finishJob,
  getJob,
  listJobs,
  requeueJob,
  type JobRow,
} from "../store/jobs";
import { audit } from "./audit";
import { checkUrl } from "../sources/url";
import { createSubmitter, type Submitter } from "./submitter";
import { workItem } from "./work-item";
import { jobEvent } from "../events/job-event";
import { isAdmin, type Principal, type ServiceDeps } from "./deps";

export interface SubmitInput {
  request: JobRequest;
  /** The stored source (upload already on disk, or a url/path reference). */
  source: StoredSource;
  /** Set when the upload was streamed under this id before the row existed. */
  id?: string;
}


/** Hands a row to BullMQ. Idempotent: BullMQ dedupes on the job id while the job exists. */
export async function enqueue(deps: ServiceDeps, row: JobRow): Promise<void> {
  await withRedis(() => deps.queues[row.type].add(row.type, workItem(row), jobOptions(bullJobId(row.id, row.run), row.priority, row.max_attempts)));
}

/** Redis must answer before a row is written, so a down Redis costs the client a 503, not a phantom job. */
async function requireRedis(deps: ServiceDeps): Promise<void> {
  if (deps.redis.status !== "ready") throw new UnavailableError("Redis is unreachable; try again shortly", { redis: deps.redis.status });
}

/** A job's webhook URL passes the same SSRF rules as URL sources (SPEC §7). */
async function checkWebhookUrl(deps: ServiceDeps, url: string): Promise<void> {
  await checkUrl(url, { allowlist: deps.config.urlAllowlist, maxBytes: 0, timeoutMs: 10_000 });
}

export function checkRequest(type: JobType, req: Pick<JobRequest, "options" | "metadata">): Record<string, unknown> {
  const options = resolveOptions(type, req.options);
  if (req.metadata !== undefined && Buffer.byteLength(JSON.stringify(req.metadata)) > METADATA_MAX_BYTES) {
    throw new InvalidOptionsError(`metadata exceeds ${METADATA_MAX_BYTES} bytes`);
  }
  return options;
}

const submitters = new WeakMap<ServiceDeps, Submitter>();
function submitterFor(deps: ServiceDeps): Submitter {
  let s = submitters.get(deps);
  if (!s) submitters.set(deps, (s = createSubmitter(deps)));
  return s;
}

export async function submitJob(deps: ServiceDeps, input: SubmitInput, who: Principal): Promise<{ row: JobRow; created: boolean }> {
  const req = input.request;
  if (req.idempotencyKey && who.tokenId) {
    const existing = findByIdempotencyKey(deps.db, who.tokenId, req.idempotencyKey);
    if (existing) return { row: existing, created: false };
  }
  const options = checkRequest(req.type, req);
  if (req.webhook) await checkWebhookUrl(deps, req.webhook);
  await requireRedis(deps);
  const r = await submitterFor(deps).submit({ request: req, source: input.source, options, who, id: input.id });
  if (r.created) deps.bus.emit(jobEvent("job.queued", r.row), r.row.tenant);
  return r;
}

/** The row if this principal may see it; another tenant's job is 404, never 403 (SPEC §7). */
export function getVisibleJob(deps: Pick<ServiceDeps, "db">, id: string, who: Principal): JobRow {
  const row = getJob(deps.db, id);
  if (!row || (!isAdmin(who) && row.tenant !== who.tenant)) throw new NotFoundError(`no job ${id}`);
  return row;
}

export function listVisibleJobs(deps: Pick<ServiceDeps, "db">, who: Principal, q: { status?: JobStatus; type?: JobType; cursor?: string; limit?: number }) {
  const limit = Math.min(Math.max(q.limit ?? 50, 1), 500);
  const rows = listJobs(deps.db, { tenant: isAdmin(who) ? undefined : who.tenant, status: q.status, type: q.type, cursor: q.cursor, limit: limit + 1 });
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  return { rows: items, nextCursor: more ? items[items.length - 1]!.id : null };
}

export async function cancelJob(deps: ServiceDeps, id: string, who: Principal): Promise<JobRow> {
  const row = getVisibleJob(deps, id, who);
  if (TERMINAL.has(row.status)) throw new ConflictError(`job ${id} is already ${row.status}`);
  const done = finishJob(deps.db, id, null, { status: "cancelled", error: { code: "CANCELLED", message: "cancelled by request" }, at: deps.now() });
  if (!done) throw new ConflictError(`job ${id} finished before it could be cancelled`);
  deps.metrics.jobsTotal.inc({ type: done.type, status: "cancelled" });
  deps.bus.emit(jobEvent("job.cancelled", done), done.tenant);
  audit(deps, who, "job.cancel", id);
  // Best effort: the row is already terminal, and a late report of this run is ignored.
  try {
    const job = await deps.queues[row.type].getJob(bullJobId(row.id, row.run));
    const state = job ? await job.getState() : null;
    if (job && state !== "active") await job.remove().catch(() => {});
    const msg: ControlMessage = { kind: "cancel", jobId: row.id };
    await deps.redis.publish(CONTROL_CHANNEL, JSON.stringify(msg));
  } catch (e) {
    deps.log.warn("cancel: could not reach Redis; the worker will stop at its next report", { jobId: id, error: e });
  }
  return done;
}

export async function retryJob(deps: ServiceDeps, id: string, who: Principal): Promise<JobRow> {
  const row = getVisibleJob(deps, id, who);
  if (row.status !== "failed" && row.status !== "cancelled") throw new ConflictError(`only failed or cancelled jobs can be retried; job ${id} is ${row.status}`);
  await requireRedis(deps);
  const next = requeueJob(deps.db, id, deps.now());
  if (!next) throw new ConflictError(`job ${id} changed state; try again`);
  audit(deps, who, "job.retry", id);
  await enqueue(deps, next);
  const queued = getJob(deps.db, id)!;
  deps.bus.emit(jobEvent("job.queued", queued, { retry: true }), queued.tenant);
  return queued;
}

/**
 * Up to 1000 JSON requests: all checked first (one bad item refuses the batch, naming its
 * index), then handed to the group commit together.
 */
export async function submitBatch(deps: ServiceDeps, items: { request: JobRequest; source: StoredSource }[], who: Principal): Promise<JobRow[]> {
  const prepared = items.map((it, index) => {
    try {
      return { ...it, options: checkRequest(it.request.type, it.request), who };
    } catch (e) {
      const m = e as MedianodeError;
      m.message = `item ${index}: ${m.message}`;
      throw m;
    }
  });
  for (const w of new Set(prepared.map((p) => p.request.webhook).filter((x): x is string => !!x))) await checkWebhookUrl(deps, w);
  await requireRedis(deps);
  const results = await Promise.all(prepared.map((p) => submitterFor(deps).submit(p)));
  for (const r of results) if (r.created) deps.bus.emit(jobEvent("job.queued", r.row), r.row.tenant);
  return results.map((r) => r.row);
}
