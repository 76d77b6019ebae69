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
import { bucketError, isMissing, type Bucket, type Manifest } from "./bucket";
import { uploadFile } from "./s3";

/** The attempt name copied outputs are kept under (they were committed before the copy). */
export const COPIED_ATTEMPT = "copied";
const SOURCE_SUM = "source.sha256";

/** What a media copy found, wrote and checked (the shape `store copy` reports; src/store/copy.ts). */
export interface MediaCopied {
  /** Files found under the jobs' folders (sources and outputs). */
  files: number;
  /** Files this run wrote (a job already in the bucket with the same checksums is not written again). */
  copied: number;
  /** Bytes this run wrote. */
  bytes: number;
  /**
   * Files confirmed in the bucket: written then read back (ETag or sha256), or, for a job already
   * there, named by its commit record with the local file's sha256 and present at the same size.
   */
  verified: number;
}

export interface MediaCopyReport extends MediaCopied {
  /** Jobs whose media was (partly) written this run. */
  jobs: number;
  /** Jobs already in the bucket with the same checksums. */
  skipped: number;
}

/** sha256 and md5 of a file in one pass (md5: S3's ETag of a single-part object). */
const digests = (path: string) => hashFile(path, ["sha256", "md5"] as const);

/** The object at `key` holds exactly the local file: size, then its ETag (single part) or a re-read sha256. */
async function verifyOnce(bucket: Bucket, key: string, bytes: number, sums: { sha256: string; md5: string }): Promise<string | null> {
  const st = await bucket.client.stat(key).catch((e) => Promise.reject(bucketError(`checking ${key}`, e)));
  if (st.size !== bytes) return `media copy: ${key} holds ${st.size} bytes, the local file ${bytes}`;
  const etag = st.etag.replace(/"/g, "");
  if (!etag.includes("-")) return etag === sums.md5 ? null : `media copy: ${key} does not match the local file's checksum`;
  // A multipart ETag is not a digest of the bytes: read the object back.
  const h = new Bun.CryptoHasher("sha256");
  for await (const chunk of bucket.client.file(key).stream()) h.update(chunk);
  return h.digest("hex") === sums.sha256 ? null : `media copy: ${key} does not match the local file's sha256`;
}

/**
 * verifyOnce, asked again a few times over ~1.5 s before it counts as a mismatch: a store that is
 * not read-after-write consistent (s3rver under load answered a HEAD right after the PUT with 0
 * bytes) would otherwise fail a good copy.
 */
async function verify(bucket: Bucket, key: string, bytes: number, sums: { sha256: string; md5: string }): Promise<void> {
  for (let i = 0; ; i++) {
    const wrong = await verifyOnce(bucket, key, bytes, sums);
    if (wrong === null) return;
    if (i >= 4) throw new StorageError(wrong);
    await Bun.sleep(100 * 2 ** i);
  }
}

async function remoteText(bucket: Bucket, key: string): Promise<string | null> {
  const f = bucket.client.file(key);
  if (!(await f.exists().catch((e) => Promise.reject(bucketError(`reading ${key}`, e))))) return null;
  return await f.text();
}

/** The object's size, or null when there is none. */
async function sizeOf(bucket: Bucket, key: string): Promise<number | null> {
  try {
    return (await bucket.client.stat(key)).size;
  } catch (e) {
    if (isMissing(e)) return null;
    throw bucketError(`checking ${key}`, e);
  }
}

/** Copies one job's media; a file already in the bucket with the same sha256 and size is left. */
async function copyJob(bucket: Bucket, id: string, dir: string): Promise<MediaCopied> {
  const r: MediaCopied = { files: 0, copied: 0, bytes: 0, verified: 0 };
  const source = join(dir, "source");
  const st = existsSync(source) ? statSync(source) : null;
  if (st?.isFile()) {
    r.files++;
    const size = st.size;
    const sums = await digests(source);
    const there = (await remoteText(bucket, bucket.key(id, SOURCE_SUM)))?.trim() === sums.sha256 && (await sizeOf(bucket, bucket.key(id, "source"))) === size;
    if (!there) {
      await uploadFile(bucket, source, bucket.key(id, "source"), "application/octet-stream");
      await verify(bucket, bucket.key(id, "source"), size, sums);
      await bucket.client.write(bucket.key(id, SOURCE_SUM), sums.sha256 + "\n").catch((e) => Promise.reject(bucketError(`writing ${SOURCE_SUM} of ${id}`, e)));
      r.copied++;
      r.bytes += size;
    }
    r.verified++;
  }
  const out = join(dir, "out");
  if (!existsSync(out)) return r;
  const local = await listOutputs(out);
  r.files += local.length;
  const sums = new Map<string, { sha256: string; md5: string }>();
  for (const f of local) sums.set(f.name, await digests(join(out, ...f.name.split("/"))));
  const have = await bucket.readManifest(id);
  // Already there: the commit record names every local file with its sha256, and each object is
  // present at its size (one deleted from the bucket since is copied again, with the rest).
  const recorded = have && have.files.length === local.length && local.every((f) => have.files.some((h) => h.name === f.name && h.bytes === f.bytes && h.sha256 === sums.get(f.name)!.sha256));
  if (recorded) {
    const sizes = await Promise.all(local.map((f) => sizeOf(bucket, bucket.attemptKey(id, have.attempt, f.name))));
    if (sizes.every((n, i) => n === local[i]!.bytes)) {
      r.verified += local.length;
      return r;
    }
  }
  const committed: Manifest["files"] = [];
  for (const f of local) {
    const key = bucket.attemptKey(id, COPIED_ATTEMPT, f.name);
    const path = join(out, ...f.name.split("/"));
    await uploadFile(bucket, path, key, f.mime);
    await verify(bucket, key, f.bytes, sums.get(f.name)!);
    committed.push({ name: f.name, bytes: f.bytes, mime: f.mime, mtimeMs: statSync(path).mtimeMs, sha256: sums.get(f.name)!.sha256 });
    r.copied++;
    r.bytes += f.bytes;
    r.verified++;
  }
  // Written last: the outputs become visible only once every one of them is in and verified.
  await bucket.writeManifest(id, { attempt: COPIED_ATTEMPT, committedAt: new Date().toISOString(), files: committed });
  return r;
}

/**
 * Copies the media of these jobs (every folder under `<dataDir>/media` when `jobIds` is absent)
 * into the bucket, for `store copy --media-to`. A job without a folder has no media to copy (its
 * outputs were deleted by retention, or it never ran). `onJob` hears each job written.
 */
export async function copyMediaToBucket(dataDir: string, bucket: Bucket, o: { jobIds?: readonly string[]; onJob?: (id: string, r: MediaCopied) => void } = {}): Promise<MediaCopyReport> {
  const root = join(dataDir, "media");
  const report: MediaCopyReport = { jobs: 0, files: 0, copied: 0, bytes: 0, verified: 0, skipped: 0 };
  if (!existsSync(root)) return report;
  const ids = o.jobIds ?? readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith(".")).map((e) => e.name);
  for (const id of ids) {
    const dir = join(root, id);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) continue;
    const r = await copyJob(bucket, id, dir);
    report.files += r.files;
    report.copied += r.copied;
    report.bytes += r.bytes;
    report.verified += r.verified;
    if (r.copied === 0) report.skipped++;
    else {
      report.jobs++;
      o.onJob?.(id, r);
    }
  }
  return report;
}
