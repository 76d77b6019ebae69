// The media store of `medianode worker --server URL --token T` (SPEC §1): the worker keeps
// its own copies under its own data dir and talks to the api node over HTTP only. It never
// opens the api node's SQLite or data dir.
import { existsSync, statSync } from "node:fs";
import { mkdir, open, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { ForbiddenError, MedianodeError, StorageError, UnauthorizedError, UnavailableError } from "../errors";
import type { Logger } from "../log";
import { sha256File } from "./checksum";
import { createLocalStore } from "./local";
import type { MediaStore } from "./media-store";
import { listOutputs } from "./output-files";
import { ATTEMPT_PATTERN, attemptKey, CHECKSUM_MISMATCH, HelloReply, LOCK_HEADER, SHA256_HEADER, workerPaths, type AttemptRef } from "./worker-protocol";

export interface RemoteMediaStoreOptions {
  /** This worker's own data folder (never the api node's). */
  dataDir: string;
  /** The api node, e.g. http://api-host:8080. */
  server: string;
  /** A token with the worker scope (admin also passes). */
  token: string;
  log: Logger;
  /** Tries per transfer on a transient failure (network, 5xx, 429, a checksum mismatch). */
  tries?: number;
  /** First retry delay; it doubles each time. */
  backoffMs?: number;
  /** A transfer that receives or sends nothing for this long is cut and retried. */
  idleTimeoutMs?: number;
  /** How long a source download may wait for the api node's first answer (it hashes the source first). */
  headersTimeoutMs?: number;
  /** Uploads in flight at once per attempt. */
  parallelUploads?: number;
}

/** A failure worth another try (the connection, the api node restarting, a corrupted body). */
class TransientError extends Error {
  override name = "TransientError";
}

/** The api node did not answer at all (the CLI exits 3 on it, SPEC §5). */
export class ServerUnreachableError extends UnavailableError {}

export interface RemoteMediaStore extends MediaStore {
  /** Start-up check: the server answers and the token has the worker scope. */
  hello(): Promise<HelloReply>;
}

/** Turns an error response of the api node into a coded error (or a TransientError to retry). */
async function refusal(res: Response, what: string): Promise<Error> {
  const text = await res.text().catch(() => "");
  let err: { code?: unknown; message?: unknown; details?: unknown } | undefined;
  try {
    err = (JSON.parse(text) as { error?: typeof err }).error;
  } catch {
    // not JSON (a proxy's page)
  }
  const message = `${what}: HTTP ${res.status}${typeof err?.message === "string" ? `: ${err.message}` : ""}`;
  const reason = (err?.details as { reason?: unknown } | undefined)?.reason;
  if (res.status >= 500 || res.status === 408 || res.status === 429 || reason === CHECKSUM_MISMATCH) return new TransientError(message);
  if (res.status === 401) return new UnauthorizedError(message);
  if (res.status === 403) return new ForbiddenError(message);
  // Anything else the api node refuses (404, 409, 413…) fails the attempt as a storage error:
  // it says nothing about the job's input, so the attempt is retried like a full disk would be.
  return new StorageError(message, { status: res.status, code: err?.code });
}

export function createRemoteMediaStore(o: RemoteMediaStoreOptions): RemoteMediaStore {
  const local = createLocalStore(o.dataDir);
  const base = o.server.replace(/\/+$/, "");
  const tries = o.tries ?? 5;
  const backoffMs = o.backoffMs ?? 500;
  const idleMs = o.idleTimeoutMs ?? 60_000;
  const headersTimeoutMs = o.headersTimeoutMs ?? 15 * 60_000;
  const auth = { authorization: `Bearer ${o.token}` };
  const attempts = new Map<string, { id: string; ref: AttemptRef; lock: string }>();

  /** Runs `once` up to `tries` times while it fails transiently, with doubling backoff. */
  async function retrying<R>(what: string, signal: AbortSignal | undefined, once: () => Promise<R>): Promise<R> {
    for (let i = 1; ; i++) {
      signal?.throwIfAborted();
      try {
        return await once();
      } catch (e) {
        if (signal?.aborted) throw signal.reason;
        const transient = e instanceof TransientError || !(e instanceof MedianodeError);
        if (!transient) throw e;
        if (i >= tries) throw new StorageError(`${what} failed after ${tries} tries: ${(e as Error).message}`, undefined, { cause: e });
        const wait = backoffMs * 2 ** (i - 1);
        o.log.warn("media store transfer failed; retrying", { what, try: i, waitMs: wait, error: (e as Error).message });
        await Bun.sleep(wait);
      }
    }
  }

  /** An AbortSignal that fires on the caller's abort, or after `firstMs` then `idleMs` without a poke. */
  function idleSignal(signal: AbortSignal | undefined, firstMs = idleMs) {
    const ac = new AbortController();
    let timer = setTimeout(() => ac.abort(new TransientError(`no answer for ${firstMs} ms`)), firstMs);
    const onAbort = () => ac.abort(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    return {
      signal: ac.signal,
      poke() {
        clearTimeout(timer);
        timer = setTimeout(() => ac.abort(new TransientError(`no data for ${idleMs} ms`)), idleMs);
      },
      done() {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      },
    };
  }

  /** One GET of the source, resuming from what `dest` already holds. Resolves when complete and verified. */
  async function downloadOnce(id: string, dest: string, signal: AbortSignal | undefined): Promise<void> {
    const have = existsSync(dest) ? statSync(dest).size : 0;
    // The api node hashes a source once before its first download (a big file takes a while):
    // the headers may take longer than the gaps between chunks later.
    const idle = idleSignal(signal, headersTimeoutMs);
    try {
      const headers: Record<string, string> = { ...auth };
      if (have > 0) headers.range = `bytes=${have}-`;
      let res: Response;
      try {
        res = await fetch(base + workerPaths.source(id), { headers, signal: idle.signal });
      } catch (e) {
        throw idle.signal.aborted && !signal?.aborted ? idle.signal.reason : new TransientError(`GET source: ${(e as Error).message}`);
      }
      idle.poke();
      const sha256 = res.headers.get(SHA256_HEADER);
      if (res.status === 416 && have > 0) {
        // What we hold is already the whole file (or more): start again from nothing.
        await res.body?.cancel();
        await rm(dest, { force: true });
        throw new TransientError("local partial source is longer than the server's; restarting");
      }
      if (res.status !== 200 && res.status !== 206) throw await refusal(res, `GET source of ${id}`);
      if (!sha256) throw new StorageError(`the api node sent the source of ${id} without ${SHA256_HEADER}`);
      let total: number;
      let append = false;
      if (res.status === 206) {
        const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers.get("content-range") ?? "");
        if (!m || Number(m[1]) !== have) throw new StorageError(`the api node answered a range for ${id} that was not asked for`);
        total = Number(m[3]);
        append = true;
      } else total = Number(res.headers.get("content-length") ?? NaN);
      const fh = await open(dest, append ? "a" : "w", 0o600);
      try {
        if (res.body) {
          try {
            for await (const chunk of res.body) {
              idle.poke();
              await fh.write(chunk);
            }
          } catch (e) {
            if (signal?.aborted) throw signal.reason;
            throw new TransientError(`source download of ${id} cut: ${(e as Error).message}`);
          }
        }
      } finally {
        await fh.close();
      }
      const size = statSync(dest).size;
      if (Number.isFinite(total) && size < total) throw new TransientError(`source download of ${id} cut at ${size} of ${total} bytes`);
      if ((Number.isFinite(total) && size !== total) || (await sha256File(dest)) !== sha256) {
        await rm(dest, { force: true });
        throw new TransientError(`source of ${id} does not match its checksum (${size} bytes); downloading it again`);
      }
    } finally {
      idle.done();
    }
  }

  async function uploadOnce(ref: { id: string; ref: AttemptRef; lock: string }, file: string, name: string, sha256: string, signal: AbortSignal | undefined): Promise<void> {
    let res: Response;
    try {
      // A Bun.file body is streamed from disk, not read into memory first.
      res = await fetch(base + workerPaths.output(ref.id, ref.ref, name), {
        method: "PUT",
        headers: { ...auth, [SHA256_HEADER]: sha256, [LOCK_HEADER]: ref.lock, "content-type": "application/octet-stream" },
        body: Bun.file(file),
        signal,
      });
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      throw new TransientError(`PUT ${name}: ${(e as Error).message}`);
    }
    if (!res.ok) throw await refusal(res, `PUT output ${name} of ${ref.id}`);
    await res.body?.cancel();
  }

  async function json(method: string, path: string, body?: unknown, signal?: AbortSignal, lock?: string): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers: { ...auth, ...(lock ? { [LOCK_HEADER]: lock } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(30_000)]) : AbortSignal.timeout(30_000),
      });
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      throw new TransientError(`${method} ${path}: ${(e as Error).message}`);
    }
    if (!res.ok) throw await refusal(res, `${method} ${path}`);
    return (await res.json()) as unknown;
  }

  const store: RemoteMediaStore = {
    root: local.root,
    sourcePath: local.sourcePath,
    async hello() {
      let res: Response;
      try {
        res = await fetch(base + workerPaths.hello(), { headers: auth, signal: AbortSignal.timeout(10_000) });
      } catch (e) {
        throw new ServerUnreachableError(`cannot reach the api node at ${base}: ${(e as Error).message}`, undefined, { cause: e });
      }
      if (!res.ok) {
        const e = await refusal(res, `the api node at ${base} refused the worker`);
        throw e instanceof TransientError ? new UnavailableError(e.message) : e;
      }
      const body = (await res.json().catch(() => null)) as unknown;
      if (!Value.Check(HelloReply, body)) throw new UnavailableError(`${base} answered, but not as a medianode api node`);
      return body;
    },
    async fetchSource(id, signal) {
      const dest = local.sourcePath(id);
      await mkdir(local.jobDir(id), { recursive: true });
      await retrying(`download of the source of ${id}`, signal, () => downloadOnce(id, dest, signal));
      return dest;
    },
    async importSource(id, _path, _importDirs, signal) {
      // The api node serves a job's {path} source from its own import folders (checked there).
      return await store.fetchSource(id, signal);
    },
    async prepareAttempt(id, run, attempt, lockToken) {
      const dir = await local.prepareAttempt(id, run, attempt);
      // The api node's folder for this attempt carries the same tag as ours.
      const m = ATTEMPT_PATTERN.exec(basename(dir));
      if (!m) throw new StorageError(`unexpected attempt folder ${dir}`);
      attempts.set(dir, { id, ref: { run, attempt, tag: m[3]! }, lock: lockToken ?? "" });
      return dir;
    },
    async commitAttempt(id, dir, signal) {
      const ref = attempts.get(dir);
      if (!ref || ref.id !== id) throw new StorageError(`no prepared attempt at ${dir}`);
      const files = await listOutputs(dir);
      const queue = [...files];
      const one = async () => {
        for (let f = queue.shift(); f; f = queue.shift()) {
          const path = join(dir, ...f.name.split("/"));
          const sha256 = await sha256File(path);
          await retrying(`upload of ${f.name} of ${id}`, signal, () => uploadOnce(ref, path, f.name, sha256, signal));
        }
      };
      await Promise.all(Array.from({ length: Math.min(o.parallelUploads ?? 4, files.length) }, one));
      await retrying(`commit of attempt ${attemptKey(ref.ref)} of ${id}`, signal, () =>
        json("POST", workerPaths.commit(id, ref.ref), { files: files.map((f) => ({ name: f.name, bytes: f.bytes })) }, signal, ref.lock),
      );
      attempts.delete(dir);
      await local.discardAttempt(dir);
    },
    async discardAttempt(dir) {
      const ref = attempts.get(dir);
      attempts.delete(dir);
      await local.discardAttempt(dir);
      // Best effort: the api node also drops stale attempts when a later one commits.
      if (ref) await json("DELETE", workerPaths.attempt(ref.id, ref.ref), undefined, undefined, ref.lock).catch(() => {});
    },
    async releaseJob(id) {
      await local.removeJob(id);
    },
  };
  return store;
}
