import { Elysia } from "elysia";
import { Type as T } from "@sinclair/typebox";
import type { Principal, ServiceDeps } from "../../services/deps";
import { getVisibleJob } from "../../services/jobs";
import { requireScope } from "../auth";
import { NotFoundError } from "../../errors";
import { mimeFor } from "../../media/mime";
import { serveFile } from "../static-file/serve";

// The wildcard (the output's name) is not declared: Elysia cannot mirror a "*" key.
const OutputParams = T.Object({ id: T.String({ maxLength: 64, description: "Job id" }) }, { additionalProperties: true });

/**
 * Behind the token, and the same URL serves a newer run's file after a retry: the browser
 * keeps a copy but asks again each time (a 304 while the ETag holds). Public caching is for /p/.
 */
const OUTPUTS_CACHE_CONTROL = "private, no-cache";

export function outputsRoutes(deps: ServiceDeps, principalOf: (r: Request) => Principal) {
  const serve = ({ request, params }: { request: Request; params: Record<string, string | undefined> }) => {
    const who = principalOf(request);
    requireScope(who, "jobs:read");
    const row = getVisibleJob(deps, params.id ?? "", who);
    if (row.status !== "completed") throw new NotFoundError(`job ${row.id} has no outputs yet (status ${row.status})`);
    const name = params["*"] ?? "";
    const file = deps.store.outputFile(row.id, name);
    return serveFile(request, file, {
      contentType: mimeFor(name),
      cacheControl: OUTPUTS_CACHE_CONTROL,
      onBytes: (n) => deps.metrics.bytesTotal.inc({ direction: "out" }, n),
    });
  };
  const route = { params: OutputParams, detail: { summary: "Download an output (ETag, 304, Range incl. multipart, HEAD; HLS plays from here)" } };
  return new Elysia({ tags: ["outputs"] }).get("/v1/jobs/:id/outputs/*", serve, route).head("/v1/jobs/:id/outputs/*", serve, route);
}
