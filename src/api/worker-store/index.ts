// The HTTP media store for workers on other hosts (SPEC §1): they download a job's source
// (Range, checksum header) and upload each output into a per-attempt folder, which becomes
// out/ only when they commit. Every route needs the `worker` scope (admin also passes).
import { Elysia } from "elysia";
import { Value } from "@sinclair/typebox/value";
import { BadRequestError } from "../../errors";
import type { Principal, ServiceDeps } from "../../services/deps";
import { checkRun, commitUploadedAttempt, parseAttempt, requireWorkerJob, sourceFileForWorker } from "../../services/worker-store";
import { receiveOutput } from "../../storage/receive-output";
import { attemptKey, CommitBody, SHA256_HEADER, WORKER_PREFIX, type HelloReply } from "../../storage/worker-protocol";
import { tooLarge } from "../../sources/upload";
import { VERSION } from "../../version";
import { requireScope } from "../auth";
import { readJson } from "../body";
import { parseRange } from "../outputs/index";

const SHA256_HEX = /^[0-9a-f]{64}$/i;

export function workerStoreRoutes(deps: ServiceDeps, principalOf: (r: Request) => Principal) {
  const worker = (r: Request) => requireScope(principalOf(r), "worker");
  return new Elysia({ prefix: WORKER_PREFIX, tags: ["worker store"] })
    .get(
      "/hello",
      ({ request }): HelloReply => {
        worker(request);
        return { version: VERSION, maxUploadBytes: deps.config.maxUploadBytes };
      },
      { detail: { summary: "A remote worker's start-up check: reachable, and the token has the worker scope" } },
    )
    .get(
      "/jobs/:id/source",
      async ({ request, params }) => {
        worker(request);
        const file = sourceFileForWorker(deps, await requireWorkerJob(deps, params.id));
        const d = await deps.store.sourceDigest(params.id, file);
        const headers: Record<string, string> = {
          "content-type": "application/octet-stream",
          "accept-ranges": "bytes",
          etag: `"${d.sha256}"`,
          [SHA256_HEADER]: d.sha256,
        };
        const range = parseRange(request.headers.get("range"), d.bytes);
        if (range === "invalid") return new Response(null, { status: 416, headers: { ...headers, "content-range": `bytes */${d.bytes}` } });
        const sent = range ? range.end - range.start + 1 : d.bytes;
        deps.metrics.bytesTotal.inc({ direction: "worker_out" }, sent);
        if (!range) return new Response(Bun.file(file), { headers: { ...headers, "content-length": String(d.bytes) } });
        return new Response(Bun.file(file).slice(range.start, range.end + 1), {
          status: 206,
          headers: { ...headers, "content-range": `bytes ${range.start}-${range.end}/${d.bytes}`, "content-length": String(sent) },
        });
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
        checkRun(await requireWorkerJob(deps, params.id), ref);
        const bytes = await receiveOutput(deps.store.attemptDir(params.id, ref), params["*"], request.body, { maxBytes: max, sha256, partDir: deps.store.partDir(params.id) });
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
        return await commitUploadedAttempt(deps, params.id, ref, body);
      },
      { parse: "none", detail: { summary: "Make an uploaded attempt the job's outputs (moved into out/ once every listed file is there)" } },
    )
    .delete(
      "/jobs/:id/attempts/:attempt",
      async ({ request, params }) => {
        worker(request);
        const ref = parseAttempt(params.attempt);
        await requireWorkerJob(deps, params.id);
        await deps.store.discardAttempt(deps.store.attemptDir(params.id, ref));
        return { discarded: attemptKey(ref) };
      },
      { detail: { summary: "Discard an attempt's uploads (the worker's attempt failed)" } },
    );
}
