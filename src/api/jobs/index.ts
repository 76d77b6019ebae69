import { Elysia } from "elysia";
import { Type as T } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { BadRequestError } from "../../errors";
import { JOB_TYPES, type JobType } from "../../jobs/schema";
import { JobStatus, type JobRecord } from "../../jobs/schema";
import type { Principal, ServiceDeps } from "../../services/deps";
import { cancelJob, getVisibleJob, listVisibleJobs, retryJob, submitBatch, submitJob } from "../../services/jobs";
import { jobView } from "./view";
import { requireScope } from "../auth";
import { readJson } from "../body";
import { checkJobRequest, readIntake, storedSourceFor } from "./intake";

const BATCH_MAX = 1000;

const ListQuery = T.Object({
  status: T.Optional(JobStatus),
  type: T.Optional(T.Union(JOB_TYPES.map((s) => T.Literal(s)))),
  limit: T.Optional(T.String({ pattern: "^[0-9]{1,4}$" })),
  cursor: T.Optional(T.String({ maxLength: 64 })),
  token: T.Optional(T.String()),
});

export function jobsRoutes(deps: ServiceDeps, principalOf: (r: Request) => Principal) {
  // The position comes from memory (services/positions.ts): no Redis call per request.
  const view = (r: JobRecord) => jobView(r, r.status === "queued" ? deps.positions.of(r.id) : null);
  return new Elysia({ prefix: "/v1/jobs", tags: ["jobs"] })
    .post(
      "/",
      async ({ request, set }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:write");
        const intake = await readIntake(deps, request);
        try {
          const { row, created } = await submitJob(deps, intake, who);
          if (intake.source.kind === "upload") deps.metrics.bytesTotal.inc({ direction: "in" }, intake.source.bytes);
          if (!created) {
            await intake.discard();
            set.headers["idempotent-replayed"] = "true";
          }
          set.status = 202;
          return view(row);
        } catch (e) {
          await intake.discard();
          throw e;
        }
      },
      { parse: "none", detail: { summary: "Submit a job: JSON {type, source, options…}, a multipart upload (-F file=@x -F type=video) or a raw body (?type=video)" } },
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
      { parse: "none", detail: { summary: "Submit up to 1000 JSON job requests at once" } },
    )
    .get(
      "/",
      async ({ request, query }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:read");
        if (!Value.Check(ListQuery, query)) throw new BadRequestError("invalid query", { errors: [...Value.Errors(ListQuery, query)].slice(0, 5).map((e) => `${e.path}: ${e.message}`) });
        const r = await listVisibleJobs(deps, who, { status: query.status, type: query.type as JobType | undefined, cursor: query.cursor, limit: query.limit ? Number(query.limit) : undefined });
        return { items: r.rows.map((r) => view(r)), nextCursor: r.nextCursor };
      },
      { detail: { summary: "List jobs, newest first: ?status&type&limit&cursor" } },
    )
    .get(
      "/:id",
      async ({ request, params }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:read");
        return view(await getVisibleJob(deps, params.id, who));
      },
      { detail: { summary: "Get a job" } },
    )
    .delete(
      "/:id",
      async ({ request, params }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:write");
        return view(await cancelJob(deps, params.id, who));
      },
      { detail: { summary: "Cancel a job (kills its ffmpeg at once)" } },
    )
    .post(
      "/:id/retry",
      async ({ request, params, set }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:write");
        const row = await retryJob(deps, params.id, who);
        set.status = 202;
        return view(row);
      },
      { parse: "none", detail: { summary: "Requeue a failed or cancelled job" } },
    );
}
