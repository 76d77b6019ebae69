// Job use-cases for the api and the CLI: the only layer that touches both SQLite and BullMQ.
// SQLite is written first (the outbox), so a 202 is never a job that exists nowhere.
import { checkJobNotify } from "./notifications";
import { ConflictError, InvalidOptionsError, NotFoundError, UnavailableError, type MedianodeError } from "../errors";
import { resolveOptions } from "../jobs/registry";
import { METADATA_MAX_BYTES, TERMINAL, type JobRequest, type JobStatus, type StoredSource } from "../jobs/schema";
import type { JobType } from "../config/schema";
import { withRedis } from "../queue/connection";
import { CONTROL_CHANNEL, queueName } from "../queue/names";
import { bullJobId, jobOptions } from "../queue/queues";
import type { ControlMessage } from "../queue/payload";
import {
  findByIdempotencyKey,
  finishJob,
  getJob,
  listJobs,
  requeueJob,
  waitingOf,
  type JobRow,
} from "../store/jobs";
import { requirementOf } from "../nodes/capabilities";
import { onlineNodes, refreshWaiting } from "./waiting";
import { audit } from "./audit";
import { checkUrl } from "../sources/url";
import { createSubmitter, type Submitter } from "./submitter";
import { queueOf, rowRequirement, workItem } from "./work-item";
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
  // Registered again each time: Redis may have lost the registry with the job.
  await withRedis(() => deps.queues.register(row.type, rowRequirement(row)));
  await withRedis(() => queueOf(deps.queues, row).add(row.type, workItem(row), jobOptions(bullJobId(row.id, row.run), row.priority, row.max_attempts)));
}

/** Requirement queues are registered before their jobs' rows exist, so a 422 (too many sets) leaves nothing behind. */
async function registerAll(deps: ServiceDeps, wanted: { type: JobType; options: Record<string, unknown> }[]): Promise<void> {
  const seen = new Map<string, { type: JobType; require: string[] }>();
  for (const w of wanted) {
    const require = requirementOf(w.options);
    if (require.length) seen.set(queueName(w.type, require), { type: w.type, require });
  }
  for (const { type, require } of seen.values()) await withRedis(() => deps.queues.register(type, require));
}

/** Marks the fresh rows no online node can run (live.waiting); returns them as they now are. */
async function markWaiting(deps: ServiceDeps, rows: JobRow[]): Promise<JobRow[]> {
  if (!rows.some((r) => rowRequirement(r).length)) return rows;
  const nodes = await onlineNodes(deps);
  if (!nodes) return rows;
  return await Promise.all(rows.map((r) => refreshWaiting(deps, r, nodes, { event: false })));
}

const queuedData = (row: JobRow, extra: Record<string, unknown> = {}) => {
  const w = waitingOf(row);
  const data = { ...extra, ...(w ? { waiting: w } : {}) };
  return Object.keys(data).length ? data : undefined;
};

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
  if (req.notify) await checkJobNotify(deps, req.notify);
  await requireRedis(deps);
  await registerAll(deps, [{ type: req.type, options }]);
  const r = await submitterFor(deps).submit({ request: req, source: input.source, options, who, id: input.id });
  if (!r.created) return r;
  const [row] = requirementOf(options).length ? await markWaiting(deps, [r.row]) : [r.row];
  deps.bus.emit(jobEvent("job.queued", row!, queuedData(row!)), row!.tenant);
  return { row: row!, created: true };
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
    const job = await queueOf(deps.queues, row).getJob(bullJobId(row.id, row.run));
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
  const [queued] = await markWaiting(deps, [getJob(deps.db, id)!]);
  deps.bus.emit(jobEvent("job.queued", queued!, queuedData(queued!, { retry: true })), queued!.tenant);
  return queued!;
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
  for (const [index, p] of prepared.entries()) {
    if (!p.request.notify) continue;
    await checkJobNotify(deps, p.request.notify).catch((e: MedianodeError) => {
      e.message = `item ${index}: ${e.message}`;
      throw e;
    });
  }
  await requireRedis(deps);
  await registerAll(deps, prepared.map((p) => ({ type: p.request.type, options: p.options })));
  const results = await Promise.all(prepared.map((p) => submitterFor(deps).submit(p)));
  const created = await markWaiting(deps, results.filter((r) => r.created).map((r) => r.row));
  const byId = new Map(created.map((r) => [r.id, r]));
  for (const row of created) deps.bus.emit(jobEvent("job.queued", row, queuedData(row)), row.tenant);
  return results.map((r) => byId.get(r.row.id) ?? r.row);
}
