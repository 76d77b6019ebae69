import { Elysia } from "elysia";
import { Type as T } from "@sinclair/typebox";
import { BadRequestError } from "../../errors";
import type { JobRecord } from "../../jobs/schema";
import type { Principal, ServiceDeps } from "../../services/deps";
import { cancelJob, getVisibleJob, listVisibleJobs, retryJob, submitBatch, submitJob } from "../../services/jobs";
import { jobView } from "./view";
import { exportBody, exportFileName, type ExportFormat } from "./export";
import { ExportQuery, ListQuery, METADATA_FILTER_DOC, parseJobFilter, parseListQuery } from "./query";
import { exportJobs } from "../../services/job-queries";
import { requireScope } from "../auth";
import { readJson } from "../body";
import type { ClientInfo } from "../forwarded";
import { checkFreeSpace, createUploadSlots } from "./upload-limits";
import { checkJobRequest, readIntake, storedSourceFor } from "./intake";
import { AUTH_ERRORS, errors, IdParams, JobItemsOut, JobListOut, JobOut, JobRequestByType, requestBody } from "../schemas";

const BATCH_MAX = 1000;


/** A raw-body upload carries the request's fields in the query string (JSON ones as JSON text). */
const SubmitQuery = T.Object({
  type: T.Optional(T.String({ description: "Job type (raw body): probe, image, video, audio, thumbnail" })),
  options: T.Optional(T.String({ description: "options as JSON text" })),
  metadata: T.Optional(T.String({ description: "metadata as JSON text" })),
  priority: T.Optional(T.String({ description: "-100..100" })),
  attempts: T.Optional(T.String({ description: "1..20" })),
  webhook: T.Optional(T.String()),
  idempotencyKey: T.Optional(T.String()),
  filename: T.Optional(T.String({ description: "The upload's file name" })),
  token: T.Optional(T.String()),
});
const Upload = T.Object({ file: T.String({ format: "binary" }), type: T.String() }, { description: "file plus the JobRequest fields as form fields (options and metadata as JSON text)" });
const SUBMIT_ERRORS = errors(...AUTH_ERRORS, "BAD_REQUEST", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA", "INVALID_OPTIONS", "UNAVAILABLE");
const ONE_JOB_ERRORS = errors(...AUTH_ERRORS, "NOT_FOUND", "CONFLICT", "UNAVAILABLE");

/** The job's absolute URL as the client reached the node (through trusted proxies: their host and scheme). */
const jobUrl = (client: ClientInfo, id: string) => `${client.origin}/v1/jobs/${id}`;

export function jobsRoutes(deps: ServiceDeps, principalOf: (r: Request) => Principal, clientOf: (r: Request) => ClientInfo) {
  // The position comes from memory (services/positions.ts): no Redis call per request.
  const view = (r: JobRecord) => jobView(r, r.status === "queued" ? deps.positions.of(r.id) : null);
  const uploads = createUploadSlots(deps.config.maxUploadsPerToken);
  return new Elysia({ prefix: "/v1/jobs", tags: ["jobs"] })
    .post(
      "",
      async ({ request, set }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:write");
        const isUpload = !(request.headers.get("content-type") ?? "").toLowerCase().startsWith("application/json");
        let release = () => {};
        if (isUpload) {
          // An upload into the bucket takes no local disk: the floor guards the data dir's media only.
          if (deps.mediaFiles.kind === "local") checkFreeSpace(deps.mediaStore.root, deps.config.minFreeBytes, Number(request.headers.get("content-length") ?? NaN));
          release = uploads.acquire(who.tokenId ?? who.name);
        }
        let intake;
        try {
          intake = await readIntake(deps, request);
        } finally {
          release();
        }
        try {
          const { row, created } = await submitJob(deps, intake, who);
          if (intake.source.kind === "upload") deps.metrics.bytesTotal.inc({ direction: "in" }, intake.source.bytes);
          if (!created) {
            await intake.discard();
            set.headers["idempotent-replayed"] = "true";
          }
          set.headers.location = jobUrl(clientOf(request), row.id);
          set.status = 202;
          return view(row);
        } catch (e) {
          await intake.discard();
          throw e;
        }
      },
      {
        parse: "none",
        query: SubmitQuery,
        response: { 202: JobOut, ...SUBMIT_ERRORS },
        detail: {
          summary: "Submit a job: JSON {type, source, options…}, a multipart upload (-F file=@x -F type=video) or a raw body (?type=video)",
          description: "Answers 202 with the job and its URL in Location. The body is streamed to disk, capped at MEDIANODE_MAX_UPLOAD_BYTES (413 while streaming) and sniffed (415 when it is not media of the job's kind).",
          requestBody: requestBody(
            { "application/json": JobRequestByType, "multipart/form-data": Upload, "application/octet-stream": T.String({ format: "binary", description: "the media itself; the request's fields go in the query" }) },
            "A JSON job request (source: a URL or an import path), or an upload",
          ),
        },
      },
    )
    .post(
      "/batch",
      async ({ request, set }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:write");
        const body = await readJson(request, 16 * 1024 * 1024);
        if (!Array.isArray(body)) throw new BadRequestError("expected a JSON array of job requests");
        if (body.length === 0 || body.length > BATCH_MAX) throw new BadRequestError(`a batch holds 1 to ${BATCH_MAX} jobs, got ${body.length}`);
        const items = [];
        for (const [i, raw] of body.entries()) {
          let req;
          try {
            req = checkJobRequest(raw);
          } catch (e) {
            throw new BadRequestError(`item ${i}: ${(e as Error).message}`, (e as BadRequestError).details);
          }
          items.push({ request: req, source: await storedSourceFor(deps, req) });
        }
        const rows = await submitBatch(deps, items, who);
        set.status = 202;
        return { items: rows.map((r) => view(r)) };
      },
      {
        parse: "none",
        response: { 202: JobItemsOut, ...SUBMIT_ERRORS },
        detail: { summary: "Submit up to 1000 JSON job requests at once", requestBody: requestBody({ "application/json": T.Array(JobRequestByType, { minItems: 1, maxItems: BATCH_MAX }) }, "JSON job requests (URL or path sources)") },
      },
    )
    .get(
      "",
      async ({ request }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:read");
        const r = await listVisibleJobs(deps, who, parseListQuery(new URL(request.url).searchParams));
        return { items: r.rows.map((r) => view(r)), nextCursor: r.nextCursor };
      },
      {
        query: ListQuery,
        response: { 200: JobListOut, ...errors(...AUTH_ERRORS, "BAD_REQUEST") },
        detail: { summary: "List jobs, newest first: ?status&type&node&errorCode&createdAfter&createdBefore&metadata.<key>=<value>&limit&cursor", description: METADATA_FILTER_DOC },
      },
    )
    .get(
      "/export",
      async ({ request }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:read");
        const q = new URL(request.url).searchParams;
        const raw = q.get("format") || "ndjson";
        if (raw !== "ndjson" && raw !== "csv") throw new BadRequestError("format must be ndjson or csv", { format: raw.slice(0, 20) });
        const format: ExportFormat = raw;
        const filter = parseJobFilter(q);
        const rows = exportJobs(deps, who, filter, request.signal);
        return new Response(exportBody(rows, format), {
          headers: {
            "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson",
            "content-disposition": `attachment; filename="${exportFileName(format, deps.now())}"`,
            "cache-control": "no-store",
          },
        });
      },
      {
        query: ExportQuery,
        response: { 200: T.String({ description: "NDJSON (one job per line) or CSV (a header row, then one row per job)" }), ...errors(...AUTH_ERRORS, "BAD_REQUEST") },
        detail: { summary: "Every job matching the list filters, streamed: ?format=ndjson|csv", description: METADATA_FILTER_DOC },
      },
    )
    .get(
      "/:id",
      async ({ request, params }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:read");
        return view(await getVisibleJob(deps, params.id, who));
      },
      { params: IdParams, response: { 200: JobOut, ...errors(...AUTH_ERRORS, "NOT_FOUND") }, detail: { summary: "Get a job" } },
    )
    .delete(
      "/:id",
      async ({ request, params }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:write");
        return view(await cancelJob(deps, params.id, who));
      },
      { params: IdParams, response: { 200: JobOut, ...ONE_JOB_ERRORS }, detail: { summary: "Cancel a job (kills its ffmpeg at once)" } },
    )
    .post(
      "/:id/retry",
      async ({ request, params, set }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:write");
        const row = await retryJob(deps, params.id, who);
        set.headers.location = jobUrl(clientOf(request), row.id);
        set.status = 202;
        return view(row);
      },
      { parse: "none", params: IdParams, response: { 202: JobOut, ...ONE_JOB_ERRORS }, detail: { summary: "Requeue a failed or cancelled job" } },
    );
}
