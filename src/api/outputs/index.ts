import { Elysia } from "elysia";
import type { Principal, ServiceDeps } from "../../services/deps";
import { getVisibleJob } from "../../services/jobs";
import { requireScope } from "../auth";
import { NotFoundError } from "../../errors";
import { mimeFor } from "../../media/mime";
import { serveLocated } from "../static-file/serve";
import { AUTH_ERRORS, Binary, docResponses, errors } from "../schemas";

/**
 * Behind the token, and the same URL serves a newer run's file after a retry: the browser
 * keeps a copy but asks again each time (a 304 while the ETag holds). Public caching is for /p/.
 */
const OUTPUTS_CACHE_CONTROL = "private, no-cache";

export function outputsRoutes(deps: ServiceDeps, principalOf: (r: Request) => Principal) {
  const serve = async ({ request, params }: { request: Request; params: Record<string, string | undefined> }) => {
    const who = principalOf(request);
    requireScope(who, "jobs:read");
    const row = await getVisibleJob(deps, params.id ?? "", who);
    if (row.status !== "completed") throw new NotFoundError(`job ${row.id} has no outputs yet (status ${row.status})`);
    const name = params["*"] ?? "";
    return serveLocated(request, await deps.mediaFiles.locateOutput(row.id, name), {
      contentType: mimeFor(name),
      cacheControl: OUTPUTS_CACHE_CONTROL,
      onBytes: (n) => deps.metrics.bytesTotal.inc({ direction: "out" }, n),
    });
  };
  const route = {
    // No params schema: Elysia's exact mirror cannot compile a "*" key (it warns on every start).
    detail: {
      summary: "Download an output (ETag, 304, Range incl. multipart, HEAD; HLS plays from here)",
      description: "`*` is the output's name as in the job's outputs[].name, and may contain slashes (720p/seg_001.ts).",
      responses: docResponses({ 200: Binary, 206: Binary, 302: "Media in a bucket (MEDIANODE_MEDIA_URL): a presigned URL of the file (playlists are served here)", 304: "Not modified (If-None-Match / If-Modified-Since)", 412: "Precondition failed (If-Match / If-Unmodified-Since)", 416: "Range not satisfiable", ...errors(...AUTH_ERRORS, "NOT_FOUND") }, [200, 206]),
    },
  };
  return new Elysia({ tags: ["outputs"] }).get("/v1/jobs/:id/outputs/*", serve, route).head("/v1/jobs/:id/outputs/*", serve, route);
}
