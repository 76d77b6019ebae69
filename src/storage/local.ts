import { existsSync, mkdirSync, realpathSync, statSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { NotFoundError } from "../errors";
import type { MediaStore } from "./media-store";
import { checkImportPath } from "../sources/import-path";
import { sha256File } from "./checksum";
import { attemptKey, type AttemptRef } from "./worker-protocol";
import { containedPath, isInside } from "./paths";

export type { MediaStore } from "./media-store";

/**
 * The media store on local disk (or a shared mount): `<data>/media/<jobId>/source` and
 * `<data>/media/<jobId>/out/…`. Attempts write to `attempts/<run>-<n>/` and are moved to
 * `out/` only on success, so a crashed or duplicated attempt never leaves half-written outputs.
 * The api node serves from it; a worker on the same disk uses the files in place.
 */
export interface LocalMediaStore extends MediaStore {
  jobDir(id: string): string;
  outDir(id: string): string;
  /** Where uploads from remote workers are written before they are whole (outside every attempt). */
  partDir(id: string): string;
  /** The folder of one attempt (it may not exist yet). */
  attemptDir(id: string, ref: AttemptRef): string;
  /** The file of an output, contained in out/ (no `..`, no symlink out). */
  outputFile(id: string, name: string): string;
  removeJob(id: string): Promise<void>;
  /** The size and sha256 of a job's source file (cached in the job's folder, so a big source is hashed once). */
  sourceDigest(id: string, file?: string): Promise<{ bytes: number; sha256: string; mtimeMs: number }>;
}

export function createLocalStore(dataDir: string): LocalMediaStore {
  const root = join(dataDir, "media");
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const jobDir = (id: string) => containedPath(root, id);
  let realRootPath: string | null = null;
  const realRoot = () => (realRootPath ??= realpathSync(root));
  const attemptDir = (id: string, ref: AttemptRef) => join(jobDir(id), "attempts", attemptKey(ref));
  const sourcePath = (id: string) => join(jobDir(id), "source");
  type Digest = { bytes: number; sha256: string; mtimeMs: number; file: string };
  const digests = new Map<string, Promise<Digest>>();
  const digestOf = async (id: string, file: string): Promise<Digest> => {
    if (!existsSync(file)) throw new NotFoundError(`job ${id} has no source file`);
    const st = statSync(file);
    const cache = join(jobDir(id), "source.sha256");
    const cached = existsSync(cache) ? ((await Bun.file(cache).json().catch(() => null)) as Partial<Digest> | null) : null;
    if (cached && cached.file === file && cached.bytes === st.size && cached.mtimeMs === st.mtimeMs && typeof cached.sha256 === "string") return cached as Digest;
    const digest = { file, bytes: st.size, mtimeMs: st.mtimeMs, sha256: await sha256File(file) };
    await mkdir(jobDir(id), { recursive: true });
    await Bun.write(cache, JSON.stringify(digest));
    return digest;
  };
  return {
    root,
    jobDir,
    sourcePath,
    attemptDir,
    outDir: (id) => join(jobDir(id), "out"),
    partDir: (id) => join(jobDir(id), "uploads"),
    async fetchSource(id) {
      return sourcePath(id);
    },
    async importSource(_id, path, importDirs) {
      return checkImportPath(path, importDirs);
    },
    async prepareAttempt(id, run, attempt) {
      // A fresh tag per call: a worker that lost its lock may still be writing the same run and
      // attempt number as the worker that took the job over (a stall does not count an attempt).
      const dir = attemptDir(id, { run, attempt, tag: randomBytes(4).toString("hex") });
      await mkdir(dir, { recursive: true });
      return dir;
    },
    async commitAttempt(id, dir) {
      const out = join(jobDir(id), "out");
      const old = `${out}.old-${Date.now()}`;
      if (existsSync(out)) await rename(out, old);
      await rename(dir, out);
      await rm(old, { recursive: true, force: true });
      await rm(join(jobDir(id), "attempts"), { recursive: true, force: true });
      // Remote workers' part files: the folder goes once no upload is still writing into it.
      await rmdir(join(jobDir(id), "uploads")).catch(() => {});
    },
    async discardAttempt(dir) {
      await rm(dir, { recursive: true, force: true });
    },
    async releaseJob() {
      // Files in place belong to the api node: nothing of ours to remove.
    },
    outputFile(id, name) {
      const out = join(jobDir(id), "out");
      const file = containedPath(out, name);
      if (!statSync(file, { throwIfNoEntry: false })?.isFile()) throw new NotFoundError("no such output");
      // A symlink inside out/ must not lead outside it. out/ itself is ours (never a link), so
      // it is resolved through the root resolved once: one realpath per request, not two (a
      // segment request's largest cost).
      if (!isInside(join(realRoot(), id, "out"), realpathSync.native(file))) throw new NotFoundError("no such output");
      return file;
    },
    sourceDigest(id, file = sourcePath(id)) {
      // Workers asking for the same source at once share one hashing pass.
      const key = `${id}\0${file}`;
      let p = digests.get(key);
      if (!p) {
        p = digestOf(id, file).finally(() => digests.delete(key));
        digests.set(key, p);
      }
      return p;
    },
    async removeJob(id) {
      await rm(jobDir(id), { recursive: true, force: true });
    },
  };
}
