import { existsSync, mkdirSync, realpathSync, statSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { NotFoundError } from "../errors";
import { containedPath, isInside } from "./paths";

/**
 * The media store on local disk (or a shared mount): `<data>/media/<jobId>/source` and
 * `<data>/media/<jobId>/out/…`. Attempts write to `attempts/<run>-<n>/` and are moved to
 * `out/` only on success, so a crashed or duplicated attempt never leaves half-written outputs.
 */
export interface MediaStore {
  root: string;
  jobDir(id: string): string;
  sourcePath(id: string): string;
  outDir(id: string): string;
  /** A fresh, empty folder for one attempt's outputs. */
  prepareAttempt(id: string, run: number, attempt: number): Promise<string>;
  /** Moves an attempt's outputs into out/ (replacing an older run's). */
  commitAttempt(id: string, attemptDir: string): Promise<void>;
  discardAttempt(attemptDir: string): Promise<void>;
  /** The file of an output, contained in out/ (no `..`, no symlink out). */
  outputFile(id: string, name: string): string;
  removeJob(id: string): Promise<void>;
}

export function createLocalStore(dataDir: string): MediaStore {
  const root = join(dataDir, "media");
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const jobDir = (id: string) => containedPath(root, id);
  return {
    root,
    jobDir,
    sourcePath: (id) => join(jobDir(id), "source"),
    outDir: (id) => join(jobDir(id), "out"),
    async prepareAttempt(id, run, attempt) {
      // Unique per call: a worker that lost its lock may still be writing the same run and
      // attempt number as the worker that took the job over (a stall does not count an attempt).
      const dir = join(jobDir(id), "attempts", `${run}-${attempt}-${randomUUID().slice(0, 8)}`);
      await mkdir(dir, { recursive: true });
      return dir;
    },
    async commitAttempt(id, attemptDir) {
      const out = join(jobDir(id), "out");
      const old = `${out}.old-${Date.now()}`;
      if (existsSync(out)) await rename(out, old);
      await rename(attemptDir, out);
      await rm(old, { recursive: true, force: true });
      await rm(join(jobDir(id), "attempts"), { recursive: true, force: true });
    },
    async discardAttempt(attemptDir) {
      await rm(attemptDir, { recursive: true, force: true });
    },
    outputFile(id, name) {
      const out = join(jobDir(id), "out");
      const file = containedPath(out, name);
      if (!existsSync(file) || !statSync(file).isFile()) throw new NotFoundError("no such output");
      // A symlink inside out/ must not lead outside it.
      if (!isInside(realpathSync(out), realpathSync(file))) throw new NotFoundError("no such output");
      return file;
    },
    async removeJob(id) {
      await rm(jobDir(id), { recursive: true, force: true });
    },
  };
}

