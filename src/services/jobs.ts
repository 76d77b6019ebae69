// Job use-cases for the api and the CLI: the only layer that touches both SQLite and BullMQ.
// SQLite is written first (the outbox), so a 202 is never a job that exists nowhere.
import { ConflictError, InvalidOptionsError, NotFoundError, UnavailableError, type MedianodeError } from "../errors";
import { resolveOptions } from "../jobs/registry";
import { METADATA_MAX_BYTES, TERMINAL, type JobRecord, type JobRequest, type JobStatus, type JobType, type StoredSource } from "../jobs/schema";
import { withRedis } from "../queue/connection";
import { CONTROL_CHANNEL, queueName } from "../queue/names";
import { bullJobId, jobOptions } from "../queue/queues";
import type { ControlMessage } from "../queue/payload";
import { waitingOf } from "../store/records";
import { requirementOf } from "../nodes/capabilities";
import { onlineNodes, refreshWaiting } from "./waiting";
import { audit } from "./audit";
import { checkUrl } from "../sources/url";
import { queueOf, recordRequirement, workItem } from "./work-item";
import { jobEvent } from "../events/job-event";
import { isAdmin, type Principal, type ServiceDeps } from "./deps";
import { checkJobNotify } from "./notifications";

/** A request whose options and metadata passed checkRequest: submit trusts it and checks nothing twice. */
export interface CheckedRequest {
  request: JobRequest;
  /** The type's options with defaults applied (jobs/<type>/options.ts). */
  options: Record<string, unknown>;
}

export interface SubmitInput extends CheckedRequest {
  /** The stored source (upload already on disk, or a url/path reference). */
  source: StoredSource;
  /** Set when the upload was streamed under this id before the record existed. */
  id?: string;
}


/** Hands a row to BullMQ. Idempotent: BullMQ dedupes on the job id while the job exists. */
export async function enqueue(deps: ServiceDeps, row: JobRecord): Promise<void> {
  // Registered again each time: Redis may have lost the registry with the job.
  await withRedis(() => deps.queues.register(row.type, recordRequirement(row), { tenant: row.tenant, force: true }));
  await withRedis(() => queueOf(deps.queues, row).add(row.type, workItem(row), jobOptions(bullJobId(row.id, row.run), row.priority, row.maxAttempts)));
}

/** Requirement queues are registered before their jobs' rows exist, so a 422 (too many sets) leaves nothing behind. */
async function registerAll(deps: ServiceDeps, wanted: { type: JobType; options: Record<string, unknown> }[], tenant: string): Promise<void> {
  const seen = new Map<string, { type: JobType; require: string[] }>();
  for (const w of wanted) {
    const require = requirementOf(w.options);
    if (require.length) seen.set(queueName(w.type, require), { type: w.type, require });
  }
  for (const { type, require } of seen.values()) await withRedis(() => deps.queues.register(type, require, { tenant }));
}

/** Marks the fresh rows no online node can run (live.waiting); returns them as they now are. */
async function markWaiting(deps: ServiceDeps, rows: JobRecord[]): Promise<JobRecord[]> {
  if (!rows.some((r) => recordRequirement(r).length)) return rows;
  const nodes = await onlineNodes(deps);
  if (!nodes) return rows;
  return await Promise.all(rows.map((r) => refreshWaiting(deps, r, nodes, { event: false })));
}

const queuedData = (row: JobRecord, extra: Record<string, unknown> = {}) => {
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

/** The one check of a request's options (422 on unknown keys) and metadata size, done at intake. */
export function checkRequest(request: JobRequest): CheckedRequest {
  const options = resolveOptions(request.type, request.options);
  if (request.metadata !== undefined && Buffer.byteLength(JSON.stringify(request.metadata)) > METADATA_MAX_BYTES) {
    throw new InvalidOptionsError(`metadata exceeds ${METADATA_MAX_BYTES} bytes`);
  }
  return { request, options };
}

export async function submitJob(deps: ServiceDeps, input: SubmitInput, who: Principal): Promise<{ row: JobRecord; created: boolean }> {
  const req = input.request;
  // The one lookup of the key: a replay answers from the record, even while Redis is down.
  // Two concurrent first submissions of one key meet at the store's unique index instead.
  if (req.idempotencyKey && who.tokenId) {
    const existing = await deps.records.jobs.findByIdempotencyKey(who.tokenId, req.idempotencyKey);
    if (existing) return { row: existing, created: false };
  }
  const { options } = input;
  if (req.webhook) await checkWebhookUrl(deps, req.webhook);
  if (req.notify) await checkJobNotify(deps, req.notify);
  await requireRedis(deps);
  await registerAll(deps, [{ type: req.type, options }], who.tenant);
  const r = await deps.submitter.submit({ request: req, source: input.source, options, who, id: input.id });
  if (!r.created) return r;
  const [row] = requirementOf(options).length ? await markWaiting(deps, [r.row]) : [r.row];
  deps.bus.emit(jobEvent("job.queued", row!, queuedData(row!)), row!.tenant);
  return { row: row!, created: true };
}

/** The row if this principal may see it; another tenant's job is 404, never 403 (SPEC §7). */
export async function getVisibleJob(deps: Pick<ServiceDeps, "records">, id: string, who: Principal): Promise<JobRecord> {
  const row = await deps.records.jobs.get(id);
  if (!row || (!isAdmin(who) && row.tenant !== who.tenant)) throw new NotFoundError(`no job ${id}`);
  return row;
}

export async function listVisibleJobs(deps: Pick<ServiceDeps, "records">, who: Principal, q: { status?: JobStatus; type?: JobType; cursor?: string; limit?: number }) {
  const limit = Math.min(Math.max(q.limit ?? 50, 1), 500);
  const rows = await deps.records.jobs.list({ tenant: isAdmin(who) ? undefined : who.tenant, status: q.status, type: q.type, cursor: q.cursor, limit: limit + 1 });
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  return { rows: items, nextCursor: more ? items[items.length - 1]!.id : null };
}

export async function cancelJob(deps: ServiceDeps, id: string, who: Principal): Promise<JobRecord> {
  const row = await getVisibleJob(deps, id, who);
  if (TERMINAL.has(row.status)) throw new ConflictError(`job ${id} is already ${row.status}`);
  const done = await deps.records.jobs.finish(id, null, { status: "cancelled", error: { code: "CANCELLED", message: "cancelled by request" }, at: deps.now() });
  if (!done) throw new ConflictError(`job ${id} finished before it could be cancelled`);
  deps.metrics.jobsTotal.inc({ type: done.type, status: "cancelled" });
  deps.bus.emit(jobEvent("job.cancelled", done), done.tenant);
  await audit(deps, who, "job.cancel", id);
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

export async function retryJob(deps: ServiceDeps, id: string, who: Principal): Promise<JobRecord> {
  const row = await getVisibleJob(deps, id, who);
  if (row.status !== "failed" && row.status !== "cancelled") throw new ConflictError(`only failed or cancelled jobs can be retried; job ${id} is ${row.status}`);
  await requireRedis(deps);
  const next = await deps.records.jobs.requeue(id, deps.now());
  if (!next) throw new ConflictError(`job ${id} changed state; try again`);
  await audit(deps, who, "job.retry", id);
  await enqueue(deps, next);
  const [queued] = await markWaiting(deps, [(await deps.records.jobs.get(id)) ?? next]);
  deps.bus.emit(jobEvent("job.queued", queued!, queuedData(queued!, { retry: true })), queued!.tenant);
  return queued!;
}

/**
 * Up to 1000 JSON requests: all checked first (one bad item refuses the batch, naming its
 * index), then handed to the group commit together.
 */
export async function submitBatch(deps: ServiceDeps, items: { request: JobRequest; source: StoredSource }[], who: Principal): Promise<JobRecord[]> {
  const prepared = items.map((it, index) => {
    try {
      return { ...checkRequest(it.request), source: it.source, who };
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
  await registerAll(deps, prepared.map((p) => ({ type: p.request.type, options: p.options })), who.tenant);
  const results = await Promise.all(prepared.map((p) => deps.submitter.submit(p)));
  const created = await markWaiting(deps, results.filter((r) => r.created).map((r) => r.row));
  const byId = new Map(created.map((r) => [r.id, r]));
  for (const row of created) deps.bus.emit(jobEvent("job.queued", row, queuedData(row)), row.tenant);
  return results.map((r) => byId.get(r.row.id) ?? r.row);
}
