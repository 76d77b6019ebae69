// The worker's media store when media lives in a bucket (SPEC §11): sources are read from the
// bucket and outputs written to it directly, by any worker with the bucket's credentials and
// Redis (no api node in the path). The worker keeps local copies under its own data dir while
// an attempt runs (ffmpeg and sharp want files) and drops them when the attempt ends.
//
// An attempt's outputs go to `<id>/attempts/<run>-<n>-<tag>/` (stageAttempt), and become the
// job's outputs only when commitAttempt writes `<id>/out.json` naming that attempt, after the
// worker has checked it still holds the job's lock. Older attempts' objects are removed then.
import { basename, join } from "node:path";
import { existsSync, statSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { StorageError } from "../errors";
import type { Logger } from "../log";
import { checkImportPath } from "../sources/import-path";
import { bucketError, isMissing, PART_BYTES, PART_QUEUE, type Bucket } from "./bucket";
import { createLocalStore } from "./local";
import type { MediaStore } from "./media-store";
import { listOutputs } from "./output-files";
import { ATTEMPT_PATTERN } from "./worker-protocol";

export interface S3MediaStoreOptions {
  bucket: Bucket;
  /** This node's own data folder: local copies only, never the record of anything. */
  dataDir: string;
  log: Logger;
  /** Uploads in flight at once per attempt. */
  parallelUploads?: number;
}

/** Downloads an object to a local file (streamed), as STORAGE on failure. */
async function download(bucket: Bucket, key: string, dest: string, what: string): Promise<void> {
  try {
    // Bun streams an S3File into a file without holding it in memory.
    await Bun.write(dest, bucket.client.file(key));
  } catch (e) {
    await rm(dest, { force: true });
    throw isMissing(e) ? new StorageError(`media bucket: ${what} is not in ${bucket.url}`, { key }) : bucketError(`downloading ${what}`, e);
  }
}

/** Uploads a local file (multipart past one part), as STORAGE on failure. */
export async function uploadFile(bucket: Bucket, file: string, key: string, type: string): Promise<void> {
  try {
    await bucket.client.write(key, Bun.file(file), { type, partSize: PART_BYTES, queueSize: PART_QUEUE });
  } catch (e) {
    throw bucketError(`uploading ${basename(file)}`, e);
  }
}

export function createS3MediaStore(o: S3MediaStoreOptions): MediaStore {
  const { bucket } = o;
  const local = createLocalStore(o.dataDir);
  const attempts = new Map<string, { id: string; key: string; staged: boolean }>();

  const stage = async (dir: string, signal?: AbortSignal) => {
    const a = attempts.get(dir);
    if (!a) throw new StorageError(`no prepared attempt at ${dir}`);
    const files = await listOutputs(dir);
    const queue = [...files];
    const one = async () => {
      for (let f = queue.shift(); f; f = queue.shift()) {
        signal?.throwIfAborted();
        await uploadFile(bucket, join(dir, ...f.name.split("/")), bucket.attemptKey(a.id, a.key, f.name), f.mime);
      }
    };
    await Promise.all(Array.from({ length: Math.min(o.parallelUploads ?? 4, files.length) }, one));
    a.staged = true;
    return files;
  };

  /** The job's source from the bucket when it is there (copied in earlier), else null. */
  const fetchCopied = async (id: string): Promise<string | null> => {
    const there = await bucket.client.exists(bucket.key(id, "source")).catch((e) => Promise.reject(bucketError(`looking for the source of ${id}`, e)));
    return there ? await store.fetchSource(id) : null;
  };

  const store: MediaStore = {
    root: local.root,
    sourcePath: local.sourcePath,
    async fetchSource(id) {
      const dest = local.sourcePath(id);
      await mkdir(local.jobDir(id), { recursive: true });
      await download(bucket, bucket.key(id, "source"), dest, `the source of ${id}`);
      return dest;
    },
    async importSource(id, path, importDirs) {
      // Copied in once: by the api node at intake, or by the first worker that has the folder.
      const copied = await fetchCopied(id);
      if (copied) return copied;
      let real: string;
      try {
        real = checkImportPath(path, importDirs);
      } catch (e) {
        throw new StorageError(`the {path} source of ${id} is not in this worker's MEDIANODE_IMPORT_DIRS and was not copied into the bucket`, undefined, { cause: e });
      }
      await uploadFile(bucket, real, bucket.key(id, "source"), "application/octet-stream");
      return real;
    },
    fetchCopiedSource: (id) => fetchCopied(id),
    async copySourceIn(id, file) {
      if (!existsSync(file) || !statSync(file).isFile()) return;
      await uploadFile(bucket, file, bucket.key(id, "source"), "application/octet-stream");
    },
    async prepareAttempt(id, run, attempt) {
      const dir = await local.prepareAttempt(id, run, attempt);
      const m = ATTEMPT_PATTERN.exec(basename(dir));
      if (!m) throw new StorageError(`unexpected attempt folder ${dir}`);
      attempts.set(dir, { id, key: basename(dir), staged: false });
      return dir;
    },
    async stageAttempt(_id, dir, signal) {
      await stage(dir, signal);
    },
    async commitAttempt(id, dir, signal) {
      const a = attempts.get(dir);
      if (!a || a.id !== id) throw new StorageError(`no prepared attempt at ${dir}`);
      const files = await listOutputs(dir);
      if (!a.staged) await stage(dir, signal);
      const now = Date.now();
      // The one write that makes this attempt the job's outputs (a single PUT is atomic in S3).
      await bucket.writeManifest(id, { attempt: a.key, committedAt: new Date(now).toISOString(), files: files.map((f) => ({ name: f.name, bytes: f.bytes, mime: f.mime, mtimeMs: now })) });
      attempts.delete(dir);
      await local.discardAttempt(dir);
      // Older runs' and abandoned attempts' objects: nobody can reach them any more.
      const mine = bucket.attemptKey(id, a.key);
      const old = (await bucket.listKeys(bucket.key(id, "attempts/")).catch(() => [])).filter((k) => !k.key.startsWith(mine));
      await bucket.deleteKeys(old.map((k) => k.key)).catch((e) => o.log.warn("could not remove older attempts from the bucket", { jobId: id, error: e }));
    },
    async discardAttempt(dir) {
      const a = attempts.get(dir);
      attempts.delete(dir);
      await local.discardAttempt(dir);
      // Best effort: what was staged is unreachable anyway (no out.json names it); a later
      // commit or the job's removal deletes what this leaves.
      if (a?.staged) await bucket.deletePrefix(bucket.attemptKey(a.id, a.key)).catch((e) => o.log.warn("could not remove a discarded attempt from the bucket", { jobId: a.id, error: e }));
    },
    async releaseJob(id) {
      await local.removeJob(id);
    },
  };
  return store;
}

