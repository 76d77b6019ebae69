// The media bucket (SPEC §11, MEDIANODE_MEDIA_URL=s3://bucket/prefix) through Bun's built-in S3
// client: one place that knows the key layout and turns the client's failures into STORAGE.
//
//   <prefix>/<jobId>/source                      the job's source (an upload, a copied-in path or URL)
//   <prefix>/<jobId>/attempts/<run>-<n>-<tag>/…   one attempt's outputs, written by the worker
//   <prefix>/<jobId>/out.json                    the commit: which attempt is the job's outputs
//
// S3 has no rename, so an attempt is committed by one PUT of out.json naming it: readers look
// names up there, so an attempt that never committed (aborted, stale, cut off) is never served.
import { S3Client } from "bun";
import { Type as T, type Static } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import type { Config } from "../config/schema";
import { parseMediaUrl } from "../config/load";
import { MedianodeError, NotFoundError, StorageError } from "../errors";

/** One committed output, as out.json lists it (bytes and mtime feed the static-file plan's ETag). */
export const ManifestFile = T.Object({ name: T.String(), bytes: T.Integer({ minimum: 0 }), mtimeMs: T.Number(), mime: T.String(), sha256: T.Optional(T.String()) });
export type ManifestFile = Static<typeof ManifestFile>;
export const Manifest = T.Object({ attempt: T.String(), committedAt: T.String(), files: T.Array(ManifestFile) });
export type Manifest = Static<typeof Manifest>;

export const MANIFEST_NAME = "out.json";
/** Multipart part size: memory per upload stays near partSize × queueSize whatever the file size. */
export const PART_BYTES = 8 * 1024 * 1024;
export const PART_QUEUE = 2;

export interface Bucket {
  client: S3Client;
  bucket: string;
  /** `s3://bucket/prefix`, for messages. */
  url: string;
  /** The key of a job's object: `<prefix>/<jobId>/<rest>` (no rest: the job's folder, for listing). */
  key(id: string, rest?: string): string;
  attemptKey(id: string, attempt: string, name?: string): string;
  /** Every key under a prefix (paged). */
  listKeys(prefix: string): Promise<{ key: string; size: number }[]>;
  /** Deletes these keys (8 at a time, each retried on a transient error; a missing key is fine). */
  deleteKeys(keys: string[]): Promise<void>;
  /** Deletes every key under a prefix; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /** The job's commit record, or null when nothing is committed. */
  readManifest(id: string): Promise<Manifest | null>;
  writeManifest(id: string, m: Manifest): Promise<void>;
  /** Readiness: the bucket answers and takes our credentials. */
  check(): Promise<{ ok: boolean; detail: string }>;
}

/** An S3 client failure as STORAGE (retried, SPEC §2), with the client's code kept. */
export function bucketError(what: string, e: unknown): MedianodeError {
  if (e instanceof MedianodeError) return e;
  const err = e as { code?: unknown; message?: unknown; name?: unknown };
  const code = typeof err?.code === "string" ? err.code : typeof err?.name === "string" ? err.name : "unknown";
  return new StorageError(`media bucket: ${what} failed (${code}): ${String(err?.message ?? e)}`, { s3Code: code }, { cause: e });
}

/** NoSuchKey, or a 404 however the client names it. */
export function isMissing(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown };
  return err?.code === "NoSuchKey" || err?.code === "ERR_S3_FILE_NOT_FOUND" || /NoSuchKey|not found/i.test(String(err?.message ?? ""));
}

/** The bucket of MEDIANODE_MEDIA_URL, or null when media stays in the data dir. */
export function openBucket(config: Pick<Config, "mediaUrl" | "s3Endpoint" | "s3AccessKeyId" | "s3SecretAccessKey" | "s3Region">): Bucket | null {
  if (!config.mediaUrl) return null;
  const parsed = parseMediaUrl(config.mediaUrl);
  if (!parsed) throw new StorageError(`MEDIANODE_MEDIA_URL is not s3://bucket/prefix: ${config.mediaUrl}`);
  const client = new S3Client({
    bucket: parsed.bucket,
    region: config.s3Region,
    // An explicit endpoint (MinIO, R2, s3rver) is addressed path-style: endpoint/bucket/key.
    ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}),
    ...(config.s3AccessKeyId ? { accessKeyId: config.s3AccessKeyId } : {}),
    ...(config.s3SecretAccessKey ? { secretAccessKey: config.s3SecretAccessKey } : {}),
  });
  const base = parsed.prefix ? `${parsed.prefix}/` : "";
  // key(id) alone is the job's folder prefix (with its slash), for listing and deleting.
  const key = (id: string, rest = "") => `${base}${id}/${rest}`;
  /** S3 answers 500/503 "please try again" now and then: a delete is retried a few times. */
  const deleteKey = async (k: string) => {
    for (let i = 1; ; i++) {
      try {
        return await client.delete(k);
      } catch (e) {
        if (isMissing(e)) return;
        if (i >= 4) throw bucketError(`deleting ${k}`, e);
        await Bun.sleep(50 * 2 ** i);
      }
    }
  };
  const b: Bucket = {
    client,
    bucket: parsed.bucket,
    url: config.mediaUrl,
    key,
    attemptKey: (id, attempt, name) => key(id, `attempts/${attempt}/${name ?? ""}`),
    async listKeys(prefix) {
      const out: { key: string; size: number }[] = [];
      let token: string | undefined;
      do {
        const page = await client.list({ prefix, ...(token ? { continuationToken: token } : {}) }).catch((e) => {
          throw bucketError(`listing ${prefix}`, e);
        });
        for (const c of page.contents ?? []) out.push({ key: c.key, size: c.size ?? 0 });
        token = page.isTruncated ? page.nextContinuationToken : undefined;
      } while (token);
      return out;
    },
    async deleteKeys(keys) {
      const queue = [...keys];
      const one = async () => {
        for (let k = queue.shift(); k !== undefined; k = queue.shift()) await deleteKey(k);
      };
      await Promise.all(Array.from({ length: Math.min(8, queue.length) }, one));
    },
    async deletePrefix(prefix) {
      const keys = await b.listKeys(prefix);
      await b.deleteKeys(keys.map((k) => k.key));
      return keys.length;
    },
    async readManifest(id) {
      let text: string;
      try {
        text = await client.file(key(id, MANIFEST_NAME)).text();
      } catch (e) {
        if (isMissing(e)) return null;
        throw bucketError(`reading the outputs of ${id}`, e);
      }
      const parsed: unknown = JSON.parse(text);
      if (!Value.Check(Manifest, parsed)) throw new StorageError(`the outputs record of ${id} in the bucket is malformed`);
      return parsed;
    },
    async writeManifest(id, m) {
      await client.write(key(id, MANIFEST_NAME), JSON.stringify(m), { type: "application/json" }).catch((e) => {
        throw bucketError(`committing the outputs of ${id}`, e);
      });
    },
    async check() {
      try {
        await Promise.race([
          // A listing of a prefix that holds nothing: cheap, and it needs the credentials.
          client.list({ prefix: `${base}.readyz/` }),
          Bun.sleep(2000).then(() => Promise.reject(Object.assign(new Error("no answer within 2 s"), { code: "Timeout" }))),
        ]);
        return { ok: true, detail: `${config.mediaUrl} reachable` };
      } catch (e) {
        return { ok: false, detail: bucketError(`reaching ${config.mediaUrl}`, e).message };
      }
    },
  };
  return b;
}

/** A manifest entry by name, or NOT_FOUND. */
export function manifestFile(m: Manifest | null, name: string): ManifestFile {
  const f = m?.files.find((x) => x.name === name);
  if (!f) throw new NotFoundError("no such output");
  return f;
}
