// `medianode store copy --media-to s3://...` (SPEC §11): a data dir's media tree
// (`<data>/media/<jobId>/source`, `.../out/**`) copied into the bucket's layout, each object
// verified against the local file's checksum, each job's outputs committed by one out.json that
// carries every file's sha256. Idempotent: a job whose out.json and source already match the
// local checksums is skipped, so a second run copies nothing.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { StorageError } from "../errors";
import { hashFile } from "./checksum";
import { listOutputs } from "./output-files";
import { bucketError, type Bucket, type Manifest } from "./bucket";
import { uploadFile } from "./s3";

/** The attempt name copied outputs are kept under (they were committed before the copy). */
export const COPIED_ATTEMPT = "copied";
const SOURCE_SUM = "source.sha256";

export interface MediaCopyReport {
  /** Jobs whose media was (partly) copied this run. */
  jobs: number;
  /** Objects written (sources and outputs). */
  files: number;
  bytes: number;
  /** Jobs already in the bucket with the same checksums. */
  skipped: number;
}

/** sha256 and md5 of a file in one pass (md5: S3's ETag of a single-part object). */
const digests = (path: string) => hashFile(path, ["sha256", "md5"] as const);

/** The object at `key` holds exactly the local file: size, then its ETag (single part) or a re-read sha256. */
async function verify(bucket: Bucket, key: string, bytes: number, sums: { sha256: string; md5: string }): Promise<void> {
  const st = await bucket.client.stat(key).catch((e) => Promise.reject(bucketError(`checking ${key}`, e)));
  if (st.size !== bytes) throw new StorageError(`media copy: ${key} holds ${st.size} bytes, the local file ${bytes}`);
  const etag = st.etag.replace(/"/g, "");
  if (!etag.includes("-")) {
    if (etag !== sums.md5) throw new StorageError(`media copy: ${key} does not match the local file's checksum`);
    return;
  }
  // A multipart ETag is not a digest of the bytes: read the object back.
  const h = new Bun.CryptoHasher("sha256");
  for await (const chunk of bucket.client.file(key).stream()) h.update(chunk);
  if (h.digest("hex") !== sums.sha256) throw new StorageError(`media copy: ${key} does not match the local file's sha256`);
}

async function remoteText(bucket: Bucket, key: string): Promise<string | null> {
  const f = bucket.client.file(key);
  if (!(await f.exists().catch((e) => Promise.reject(bucketError(`reading ${key}`, e))))) return null;
  return await f.text();
}

/** Copies one job's media; returns what it wrote (0 files: already there). */
async function copyJob(bucket: Bucket, id: string, dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const source = join(dir, "source");
  if (existsSync(source) && statSync(source).isFile()) {
    const sums = await digests(source);
    if ((await remoteText(bucket, bucket.key(id, SOURCE_SUM)))?.trim() !== sums.sha256) {
      const size = statSync(source).size;
      await uploadFile(bucket, source, bucket.key(id, "source"), "application/octet-stream");
      await verify(bucket, bucket.key(id, "source"), size, sums);
      await bucket.client.write(bucket.key(id, SOURCE_SUM), sums.sha256 + "\n").catch((e) => Promise.reject(bucketError(`writing ${SOURCE_SUM} of ${id}`, e)));
      files++;
      bytes += size;
    }
  }
  const out = join(dir, "out");
  if (!existsSync(out)) return { files, bytes };
  const local = await listOutputs(out);
  const sums = new Map<string, { sha256: string; md5: string }>();
  for (const f of local) sums.set(f.name, await digests(join(out, ...f.name.split("/"))));
  const have = await bucket.readManifest(id);
  const same = have && have.files.length === local.length && local.every((f) => have.files.some((h) => h.name === f.name && h.bytes === f.bytes && h.sha256 === sums.get(f.name)!.sha256));
  if (same) return { files, bytes };
  const committed: Manifest["files"] = [];
  for (const f of local) {
    const key = bucket.attemptKey(id, COPIED_ATTEMPT, f.name);
    const path = join(out, ...f.name.split("/"));
    await uploadFile(bucket, path, key, f.mime);
    await verify(bucket, key, f.bytes, sums.get(f.name)!);
    committed.push({ name: f.name, bytes: f.bytes, mime: f.mime, mtimeMs: statSync(path).mtimeMs, sha256: sums.get(f.name)!.sha256 });
    files++;
    bytes += f.bytes;
  }
  // Written last: the outputs become visible only once every one of them is in and verified.
  await bucket.writeManifest(id, { attempt: COPIED_ATTEMPT, committedAt: new Date().toISOString(), files: committed });
  return { files, bytes };
}

/**
 * Copies every job's media under `<dataDir>/media` into the bucket (for `store copy --media-to`).
 * Jobs are the folders' names; `onJob` hears each one copied (to print progress).
 */
export async function copyMediaToBucket(dataDir: string, bucket: Bucket, onJob?: (id: string, r: { files: number; bytes: number }) => void): Promise<MediaCopyReport> {
  const root = join(dataDir, "media");
  const report: MediaCopyReport = { jobs: 0, files: 0, bytes: 0, skipped: 0 };
  if (!existsSync(root)) return report;
  for (const e of readdirSync(root, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name.startsWith(".")) continue;
    const r = await copyJob(bucket, e.name, join(root, e.name));
    if (r.files === 0) report.skipped++;
    else {
      report.jobs++;
      report.files += r.files;
      report.bytes += r.bytes;
      onJob?.(e.name, r);
    }
  }
  return report;
}
