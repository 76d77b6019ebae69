// One attempt of one job, as a worker runs it: source → inspect → pool → commit.
//   source:  an upload (fetched from the media store), a path (imported from an allowed dir),
//            or a URL (a probe reads it through a range proxy; the others download it);
//   inspect: a downloaded source gets the same check as an upload (media of the job's kind);
//   pool:    the pipeline runs in a thread of the media pool, into a fresh attempt folder;
//   commit:  only while this worker still holds the job's lock are the outputs moved into
//            place (SPEC §8: a cut-off worker's attempt is dropped, never half-applied).
// The worker role (roles/worker.ts) owns the queue side: reporting, lock loss, hand-back.
import { rm } from "node:fs/promises";
import type { JobType } from "../jobs/schema";
import { CancelledError } from "../errors";
import type { WorkItem } from "../queue/payload";
import { startRangeProxy, type RangeProxy } from "../sources/range-proxy";
import { downloadUrl, type UrlPolicy } from "../sources/url";
import { inspectSource } from "../sources/validate";
import type { MediaStore } from "../storage/media-store";
import type { MediaPool } from "../pool/pool";
import type { MediaSettings, ProgressReport } from "./pipeline";
import { pipelineFor } from "./registry";
import type { OutputFile } from "./schema";

export interface AttemptDeps {
  mediaStore: MediaStore;
  pool: MediaPool;
  media: MediaSettings;
  /** URL sources: allowlist, size and time caps (the job timeout). */
  urlPolicy: UrlPolicy;
  importDirs: string[];
  jobTimeoutMs: number;
}

export interface AttemptInput {
  item: WorkItem;
  type: JobType;
  /** 1 for the first attempt. */
  attempt: number;
  signal: AbortSignal;
  onProgress(p: ProgressReport): void;
  /** The BullMQ lock token of this run: a remote media store sends it with uploads and commits (issue #12). */
  lockToken?: string;
  /** Extends the job's lock; false when another worker holds the job now. */
  keepLock(): Promise<boolean>;
}

export interface AttemptOutcome {
  outputs: OutputFile[];
  result: Record<string, unknown>;
}

/** Thrown when the lock was lost before commit: the attempt's outputs are discarded. */
export class LockLostError extends CancelledError {
  constructor() {
    super("lost the job's lock to another worker; this attempt's outputs are discarded");
    this.name = "LockLostError";
  }
}

/** The input ffmpeg reads and how (file, or http through the range proxy). */
async function fetchSource(deps: AttemptDeps, a: AttemptInput): Promise<{ input: string; protocols: string; proxy: RangeProxy | null }> {
  const { item, type, signal } = a;
  const src = item.source;
  if (src.kind === "upload") return { input: await deps.mediaStore.fetchSource(item.id, signal), protocols: "file", proxy: null };
  if (src.kind === "path") return { input: await deps.mediaStore.importSource(item.id, src.path, deps.importDirs, signal), protocols: "file", proxy: null };
  if (type === "probe") {
    // A probe reads only the bytes ffprobe asks for (SPEC §2), not the whole file.
    const proxy = startRangeProxy(src.url, deps.urlPolicy);
    return { input: proxy.url, protocols: "http,tcp", proxy };
  }
  // Copied in once (a bucket): a later attempt, on any host, reads the first one's copy.
  const copied = await deps.mediaStore.fetchCopiedSource?.(item.id, signal);
  if (copied) return { input: copied, protocols: "file", proxy: null };
  const input = deps.mediaStore.sourcePath(item.id);
  try {
    await downloadUrl(src.url, input, deps.urlPolicy);
  } catch (e) {
    // Nothing of a refused download stays on disk.
    await rm(input, { force: true });
    throw e;
  }
  // A downloaded source gets the same check as an upload: media of the job's kind, or 415.
  await inspectSource(input, pipelineFor(type).accepts, { ffprobe: deps.media.ffprobe, maxPixels: deps.media.maxPixels, limits: deps.media.limits });
  await deps.mediaStore.copySourceIn?.(item.id, input);
  return { input, protocols: "file", proxy: null };
}

export async function runAttempt(deps: AttemptDeps, a: AttemptInput): Promise<AttemptOutcome> {
  const { item } = a;
  let proxy: RangeProxy | null = null;
  let attemptDir: string | null = null;
  try {
    const source = await fetchSource(deps, a);
    proxy = source.proxy;
    attemptDir = await deps.mediaStore.prepareAttempt(item.id, item.run, a.attempt, a.lockToken);
    const out = await deps.pool.run(
      a.type,
      { jobId: item.id, input: source.input, inputProtocols: source.protocols, outDir: attemptDir, options: item.options, media: deps.media },
      { signal: a.signal, timeoutMs: deps.jobTimeoutMs, onProgress: a.onProgress },
    );
    if (proxy) out.result.bytesFetched = proxy.bytesFetched();
    // Uploads (a bucket) happen before the lock check, so the commit after it is one quick write.
    await deps.mediaStore.stageAttempt?.(item.id, attemptDir, a.signal);
    // Extending (not just reading) the lock leaves a full lock period for the renames.
    if (!(await a.keepLock())) throw new LockLostError();
    await deps.mediaStore.commitAttempt(item.id, attemptDir, a.signal);
    attemptDir = null;
    return { outputs: out.outputs, result: out.result };
  } finally {
    proxy?.stop();
    if (attemptDir) await deps.mediaStore.discardAttempt(attemptDir).catch(() => {});
    // A remote worker's copies (source, outputs) go once the attempt ends; in place: nothing.
    await deps.mediaStore.releaseJob(item.id).catch(() => {});
  }
}
