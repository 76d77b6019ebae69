// The HTTP media store for workers on other hosts (SPEC §1): they download a job's source
// (Range, checksum header) and upload each output into a per-attempt folder, which becomes
// out/ only when they commit. Every route needs the `worker` scope (admin also passes).
import { Elysia } from "elysia";
import { Value } from "@sinclair/typebox/value";
import { BadRequestError, ConflictError } from "../../errors";
import type { Principal, ServiceDeps } from "../../services/deps";
import { commitUploadedAttempt, parseAttempt, requireRunOwner, requireWorkerJob, sourceFileForWorker } from "../../services/remote-media";
import { receiveOutput } from "../../storage/receive-output";
import { attemptKey, CommitBody, LOCK_HEADER, SHA256_HEADER, WORKER_PREFIX, type HelloReply } from "../../storage/worker-protocol";
import { tooLarge } from "../../sources/upload";
import { VERSION } from "../../version";
import { requireScope } from "../auth";
import { readJson } from "../body";
import { serveFile } from "../static-file/serve";

const SHA256_HEX = /^[0-9a-f]{64}$/i;

export function remoteMediaRoutes(deps: ServiceDeps, principalOf: (r: Request) => Principal) {
  const worker = (r: Request) => requireScope(principalOf(r), "worker");
  // Internal: only medianode's own remote workers call these, so the OpenAPI document leaves them out.
  return new Elysia({ prefix: WORKER_PREFIX, tags: ["worker store"], detail: { hide: true } })
    .get(
      "/hello",
      ({ request }): HelloReply => {
        worker(request);
        // With a bucket, workers read and write it directly: this node's data dir holds no media.
        if (deps.mediaFiles.kind === "bucket") throw new ConflictError("this cluster keeps media in a bucket (MEDIANODE_MEDIA_URL): give the worker MEDIANODE_MEDIA_URL and the bucket's credentials instead of --server");
        return { version: VERSION, maxUploadBytes: deps.config.maxUploadBytes };
      },
      { detail: { summary: "A remote worker's start-up check: reachable, and the token has the worker scope" } },
    )
    .get(
      "/jobs/:id/source",
      async ({ request, params }) => {
        worker(request);
        const file = sourceFileForWorker(deps, await requireWorkerJob(deps, params.id));
        const d = await deps.mediaStore.sourceDigest(params.id, file);
        // The content hash is the ETag, so a resumed download (Range + If-Range) never splices two versions.
        return serveFile(
          request,
          file,
          {
            contentType: "application/octet-stream",
            cacheControl: "private, no-store",
            etag: `"${d.sha256}"`,
            extraHeaders: { [SHA256_HEADER]: d.sha256 },
            onBytes: (n) => deps.metrics.bytesTotal.inc({ direction: "worker_out" }, n),
          },
          { size: d.bytes, mtimeMs: d.mtimeMs },
        );
      },
      { detail: { summary: "Download a job's uploaded or {path} source (Range supported; sha256 in x-medianode-sha256)" } },
    )
    .put(
      "/jobs/:id/attempts/:attempt/outputs/*",
      async ({ request, params }) => {
        worker(request);
        const ref = parseAttempt(params.attempt);
        const sha256 = request.headers.get(SHA256_HEADER) ?? "";
        if (!SHA256_HEX.test(sha256)) throw new BadRequestError(`send the output's hex sha256 in ${SHA256_HEADER}`);
        const max = deps.config.maxUploadBytes;
        const declared = Number(request.headers.get("content-length") ?? NaN);
        if (Number.isFinite(declared) && declared > max) throw tooLarge(max);
        await requireRunOwner(deps, params.id, ref, request.headers.get(LOCK_HEADER));
        const bytes = await receiveOutput(deps.mediaStore.attemptDir(params.id, ref), params["*"], request.body, { maxBytes: max, sha256, partDir: deps.mediaStore.partDir(params.id) });
        deps.metrics.bytesTotal.inc({ direction: "worker_in" }, bytes);
        return { name: params["*"], bytes };
      },
      { parse: "none", detail: { summary: "Upload one output of an attempt (streamed; sha256 in x-medianode-sha256, checked)" } },
    )
    .post(
      "/jobs/:id/attempts/:attempt/commit",
      async ({ request, params }) => {
        worker(request);
        const ref = parseAttempt(params.attempt);
        const body = await readJson(request, 16 * 1024 * 1024);
        if (!Value.Check(CommitBody, body)) throw new BadRequestError("expected {files: [{name, bytes}]}");
        return await commitUploadedAttempt(deps, params.id, ref, body, request.headers.get(LOCK_HEADER));
      },
      { parse: "none", detail: { summary: "Make an uploaded attempt the job's outputs (moved into out/ once every listed file is there)" } },
    )
    .delete(
      "/jobs/:id/attempts/:attempt",
      async ({ request, params }) => {
        worker(request);
        const ref = parseAttempt(params.attempt);
        await requireRunOwner(deps, params.id, ref, request.headers.get(LOCK_HEADER));
        await deps.mediaStore.discardAttempt(deps.mediaStore.attemptDir(params.id, ref));
        return { discarded: attemptKey(ref) };
      },
      { detail: { summary: "Discard an attempt's uploads (the worker's attempt failed)" } },
    );
}
