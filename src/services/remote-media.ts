// The api node's side of the HTTP media store for remote workers (SPEC §1: `medianode worker
// --server`): which job, which attempt, and when an uploaded attempt may become out/.
import { existsSync, statSync } from "node:fs";
import { BadRequestError, ConflictError, NotFoundError } from "../errors";
import { checkImportPath } from "../sources/import-path";
import { containedPath } from "../storage/paths";
import { ATTEMPT_PATTERN, attemptKey, type AttemptRef, type CommitBody } from "../storage/worker-protocol";
import type { JobRecord } from "../jobs/schema";
import { withRedis } from "../queue/connection";
import { bullJobId, holdsLock } from "../queue/queues";
import { queueOf } from "./work-item";
import type { ServiceDeps } from "./deps";

/** A worker token sees every tenant's jobs (it runs them all); an unknown id is 404. */
export async function requireWorkerJob(deps: Pick<ServiceDeps, "records">, id: string): Promise<JobRecord> {
  const row = await deps.records.jobs.get(id);
  if (!row) throw new NotFoundError(`no job ${id}`);
  return row;
}

/**
 * The file a remote worker downloads for a job: the upload in the media store, or a `{path}`
 * source re-checked against this node's MEDIANODE_IMPORT_DIRS. URL sources are fetched by the
 * worker itself (404 here).
 */
export function sourceFileForWorker(deps: Pick<ServiceDeps, "mediaStore" | "config">, row: JobRecord): string {
  const src = row.source;
  if (src.kind === "upload") return deps.mediaStore.sourcePath(row.id);
  if (src.kind === "path") return checkImportPath(src.path, deps.config.importDirs);
  throw new NotFoundError(`job ${row.id} has a URL source: the worker fetches it itself`);
}

/** `<run>-<attempt>-<tag>` from a route: two positive integers and 8 hex digits. */
export function parseAttempt(text: string): AttemptRef {
  const m = ATTEMPT_PATTERN.exec(text);
  if (!m) throw new BadRequestError(`attempt must be <run>-<attempt>-<tag>, got ${JSON.stringify(text.slice(0, 40))}`);
  return { run: Number(m[1]), attempt: Number(m[2]), tag: m[3]! };
}

/** An upload or commit for another run than the job's current one (older: retried since; newer: not begun) is refused. */
export function checkRun(row: JobRecord, ref: AttemptRef): void {
  if (ref.run < row.run) throw new ConflictError(`job ${row.id} is on run ${row.run}; attempt ${attemptKey(ref)} is stale`);
  if (ref.run > row.run) throw new ConflictError(`job ${row.id} is on run ${row.run}; run ${ref.run} has not started`);
  if (row.status === "completed" || row.status === "failed" || row.status === "cancelled") throw new ConflictError(`job ${row.id} is ${row.status}: its outputs can no longer change`);
}

/**
 * Only the worker running the job's current run may write to it: it presents the BullMQ lock
 * token it holds (x-medianode-lock), checked against the lock key in Redis. A worker token
 * alone (it sees every tenant's jobs) cannot replace a finished job's outputs, and a worker
 * that lost its lock to another cannot either.
 */
export async function requireRunOwner(deps: Pick<ServiceDeps, "records" | "queues" | "redis">, id: string, ref: AttemptRef, lockToken: string | null): Promise<JobRecord> {
  const row = await requireWorkerJob(deps, id);
  checkRun(row, ref);
  const held = await withRedis(() => holdsLock(deps.redis, queueOf(deps.queues, row), bullJobId(row.id, row.run), lockToken ?? ""));
  if (!held) throw new ConflictError(`job ${row.id} run ${row.run} is not held by this worker: send the lock token of the active run in x-medianode-lock`);
  return row;
}

/**
 * Moves an uploaded attempt into out/ once every file the worker lists is there with its size:
 * a worker that died halfway through its uploads never gets a partial out/.
 */
export async function commitUploadedAttempt(deps: Pick<ServiceDeps, "records" | "mediaStore" | "queues" | "redis">, id: string, ref: AttemptRef, body: CommitBody, lockToken: string | null): Promise<{ files: number }> {
  await requireRunOwner(deps, id, ref, lockToken);
  const dir = deps.mediaStore.attemptDir(id, ref);
  if (!existsSync(dir)) throw new NotFoundError(`job ${id} has no uploaded attempt ${attemptKey(ref)}`);
  for (const f of body.files) {
    const file = containedPath(dir, f.name);
    const size = existsSync(file) ? statSync(file).size : -1;
    if (size !== f.bytes) throw new ConflictError(`output ${f.name} of attempt ${attemptKey(ref)} is ${size < 0 ? "missing" : `${size} bytes, not ${f.bytes}`}`);
  }
  await deps.mediaStore.commitAttempt(id, dir);
  return { files: body.files.length };
}
