/**
 * What the worker role needs from the media store, with three back-ends: the local disk (or a
 * shared mount: files in place), the api node's HTTP (`medianode worker --server`, SPEC §1) and
 * an S3 bucket (MEDIANODE_MEDIA_URL, SPEC §11).
 * The processor code calls these and does not know which one it has.
 */
export interface MediaStore {
  /** Local folder this node keeps media in (its free space is a readiness check). */
  root: string;
  /** Local path a URL source is downloaded to by the worker itself. */
  sourcePath(id: string): string;
  /** A local path to a job's uploaded source: in place, or downloaded from the api node first. */
  fetchSource(id: string, signal?: AbortSignal): Promise<string>;
  /**
   * A local path to a `{path}` source: the file itself where MEDIANODE_IMPORT_DIRS is on this
   * host (checked against `importDirs`), or a copy downloaded from the api node, which checks it
   * against its own import folders.
   */
  importSource(id: string, path: string, importDirs: string[], signal?: AbortSignal): Promise<string>;
  /**
   * A fresh, empty local folder for one attempt's outputs. `lockToken` is the BullMQ lock the
   * worker holds for this run: the HTTP store presents it, so the api node can tell the run's
   * owner from anyone else holding a worker token.
   */
  prepareAttempt(id: string, run: number, attempt: number, lockToken?: string): Promise<string>;
  /** Makes an attempt's outputs the job's out/ (replacing an older run's): moved, or uploaded then committed. */
  commitAttempt(id: string, attemptDir: string, signal?: AbortSignal): Promise<void>;
  discardAttempt(attemptDir: string): Promise<void>;
  /**
   * Uploads an attempt's outputs where the store keeps them, before the lock is checked for the
   * commit (the bucket: to the attempt's own prefix, invisible until commitAttempt). Absent where
   * commitAttempt does it all.
   */
  stageAttempt?(id: string, attemptDir: string, signal?: AbortSignal): Promise<void>;
  /** A URL source another attempt already copied into the store, fetched to a local path; null when none. */
  fetchCopiedSource?(id: string, signal?: AbortSignal): Promise<string | null>;
  /** Keeps a downloaded URL source in the store, so later attempts (any host) read it from there: copied in once. */
  copySourceIn?(id: string, file: string): Promise<void>;
  /** Removes this node's own copies of a job once an attempt ends (a no-op where files are in place). */
  releaseJob(id: string): Promise<void>;
}
