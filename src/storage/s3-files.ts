// The api side's media store in the bucket (SPEC §11): uploads stream into a multipart upload
// (memory stays at a few parts whatever the size; a refused or cut upload is aborted, so no
// object is left), inspection reads the object's head and lets ffprobe range-read a presigned
// URL, and outputs are found through the job's out.json (only a committed attempt is served).
//
// Serving: playlists are read through the node, so the relative URIs inside them resolve
// against the node's own URL (and a /p/ token in its path); every other output (segments, MP4,
// images) answers with a redirect to a presigned URL, so no media byte crosses the api node
// and the bucket does Range, ETag and conditional requests itself.
import { rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { NotFoundError } from "../errors";
import type { UploadSink } from "../sources/upload";
import { HEAD_BYTES } from "../sources/sniff";
import { bucketError, isMissing, manifestFile, PART_BYTES, PART_QUEUE, type Bucket, type Manifest } from "./bucket";
import type { MediaFiles } from "./media-files";
import { containedPath } from "./paths";
import { uploadFile } from "./s3";

/** sharp reads an image's header from this many first bytes (the whole file when smaller). */
const IMAGE_HEAD_BYTES = 16 * 1024 * 1024;
/** Presigned URLs live this long at most (a player asks again through the node for the next one). */
const MAX_PRESIGN_SEC = 3600;
/** ffprobe's presigned URL: long enough for a slow probe, no longer. */
const PROBE_PRESIGN_SEC = 600;
/** A job's out.json is re-read after this long (a new commit shows within it). */
const MANIFEST_TTL_MS = 2000;

/** Output names served through the node: their relative URIs must resolve against its URL. */
export const isPlaylist = (name: string) => /\.m3u8$/i.test(name);

/** An upload streamed into a multipart upload of `key`; abort() leaves no object behind. */
export function bucketSink(bucket: Bucket, key: string): UploadSink {
  // A small queue between the request body and Bun's multipart writer: backpressure, not buffering.
  const pipe = new TransformStream<Uint8Array, Uint8Array>(undefined, { highWaterMark: 4 });
  const writer = pipe.writable.getWriter();
  let failure: unknown = null;
  const done = bucket.client.write(key, new Response(pipe.readable), { partSize: PART_BYTES, queueSize: PART_QUEUE, type: "application/octet-stream" }).then(
    () => undefined,
    (e: unknown) => {
      failure = e;
      throw e;
    },
  );
  done.catch(() => {});
  // Resolves never; rejects once the upload has failed (so a writer waiting for room stops waiting).
  const failed = done.then(
    () => new Promise<never>(() => {}),
    (e: unknown) => Promise.reject(bucketError("storing the upload", e)),
  );
  failed.catch(() => {});
  return {
    write(chunk) {
      if (failure) throw bucketError("storing the upload", failure);
      writer.write(chunk).catch(() => {});
      return (writer.desiredSize ?? 0) > 0 ? chunk.byteLength : Promise.race([writer.ready, failed]);
    },
    async end() {
      await writer.close().catch(() => {});
      await done.catch((e) => Promise.reject(bucketError("storing the upload", e)));
    },
    async abort(reason) {
      // An errored stream makes Bun abort the multipart upload instead of completing it.
      await writer.abort(reason).catch(() => {});
      await done.catch(() => {});
      // In case it had completed (a refusal after the last byte, e.g. a bad field after the file).
      await bucket.client.delete(key).catch(() => {});
    },
  };
}

/**
 * `localRoot` is the node's <data>/media; derived files go beside it in <data>/cache/<jobId>/, not
 * in <data>/media/<jobId>/, which a worker on this node empties when its attempt ends.
 */
export function createBucketFiles(bucket: Bucket, localRoot: string): MediaFiles {
  const { client } = bucket;
  const cacheRoot = join(dirname(localRoot), "cache");
  const manifests = new Map<string, { m: Manifest; at: number }>();
  const manifest = async (id: string) => {
    const hit = manifests.get(id);
    if (hit && Date.now() - hit.at < MANIFEST_TTL_MS) return hit.m;
    const m = await bucket.readManifest(id);
    if (manifests.size > 10_000) manifests.clear();
    // Only a commit is kept: a job that has none yet is asked again, so it shows the moment it commits.
    if (m) manifests.set(id, { m, at: Date.now() });
    return m;
  };
  return {
    kind: "bucket",
    root: localRoot,
    sourceSink: (id) => bucketSink(bucket, bucket.key(id, "source")),
    async inspection(id, bytes) {
      const key = bucket.key(id, "source");
      const file = client.file(key);
      const read = (n: number) => file.slice(0, Math.min(n, bytes)).bytes().catch((e) => Promise.reject(bucketError(`reading the upload of ${id}`, e)));
      return {
        bytes,
        head: () => read(HEAD_BYTES),
        image: () => read(IMAGE_HEAD_BYTES),
        // ffprobe reads only what it needs, with HTTP ranges (the moov of an MP4 may be at the end).
        probe: { input: client.presign(key, { expiresIn: PROBE_PRESIGN_SEC }), protocols: "http,https,tcp,tls" },
      };
    },
    copyIn: (id, path) => uploadFile(bucket, path, bucket.key(id, "source"), "application/octet-stream"),
    async discardSource(id) {
      await bucket.deletePrefix(bucket.key(id));
    },
    async locateOutput(id, rawName, o = {}) {
      let name = rawName;
      try {
        name = decodeURIComponent(rawName);
      } catch {
        throw new NotFoundError("no such output");
      }
      const m = await manifest(id);
      const f = manifestFile(m, name);
      const key = bucket.attemptKey(id, m!.attempt, f.name);
      if (!isPlaylist(f.name) && !o.read) {
        const expiresInSec = Math.max(1, Math.min(MAX_PRESIGN_SEC, Math.floor(o.maxPresignSec ?? MAX_PRESIGN_SEC)));
        return { kind: "redirect", url: client.presign(key, { expiresIn: expiresInSec }), expiresInSec };
      }
      return {
        kind: "object",
        stat: { size: f.bytes, mtimeMs: f.mtimeMs },
        read: async (start, end) => {
          try {
            return await client.file(key).slice(start, end + 1).bytes();
          } catch (e) {
            if (!isMissing(e)) throw bucketError(`reading ${f.name} of ${id}`, e);
            // A newer commit replaced this attempt since out.json was read: not here any more.
            manifests.delete(id);
            throw new NotFoundError("no such output");
          }
        },
      };
    },
    cacheDir: (id) => containedPath(cacheRoot, id),
    async removeJob(id) {
      await bucket.deletePrefix(bucket.key(id));
      manifests.delete(id);
      await rm(containedPath(cacheRoot, id), { recursive: true, force: true });
    },
    check: () => bucket.check(),
  };
}
