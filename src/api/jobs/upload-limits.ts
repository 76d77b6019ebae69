// Guards in front of an upload (issue #12 point 12): a floor of free disk space, so uploads
// cannot fill the disk the jobs and SQLite need (507 STORAGE), and a cap on the uploads one
// token streams at once, so one client cannot hold every connection and disk write (429).
import { statfsSync } from "node:fs";
import { RateLimitedError, StorageError } from "../../errors";

/** Throws STORAGE (507) when `root` has less than `minFreeBytes` free beyond the upload's declared size. */
export function checkFreeSpace(root: string, minFreeBytes: number, declaredBytes: number): void {
  if (minFreeBytes <= 0) return;
  const s = statfsSync(root);
  const free = s.bavail * s.bsize;
  const need = minFreeBytes + (Number.isFinite(declaredBytes) && declaredBytes > 0 ? declaredBytes : 0);
  if (free < need) {
    throw new StorageError(`not enough free disk space for an upload: ${Math.floor(free / 2 ** 20)} MiB free, the node keeps ${Math.ceil(minFreeBytes / 2 ** 20)} MiB (MEDIANODE_MIN_FREE_BYTES)`, {
      freeBytes: free,
      minFreeBytes,
    });
  }
}

export interface UploadSlots {
  /** Takes one of `key`'s slots, or throws RATE_LIMITED (429); call the returned function when done. */
  acquire(key: string): () => void;
}

export function createUploadSlots(max: number): UploadSlots {
  const inFlight = new Map<string, number>();
  return {
    acquire(key) {
      const n = inFlight.get(key) ?? 0;
      if (n >= max) throw new RateLimitedError(`this token already has ${max} uploads in progress (MEDIANODE_MAX_UPLOADS_PER_TOKEN); retry when one ends`, { retryAfterSec: 1 });
      inFlight.set(key, n + 1);
      let done = false;
      return () => {
        if (done) return;
        done = true;
        const left = (inFlight.get(key) ?? 1) - 1;
        if (left <= 0) inFlight.delete(key);
        else inFlight.set(key, left);
      };
    },
  };
}
