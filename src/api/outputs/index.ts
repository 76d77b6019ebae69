import { Elysia } from "elysia";
import { statSync } from "node:fs";
import type { Principal, ServiceDeps } from "../../services/deps";
import { getVisibleJob } from "../../services/jobs";
import { requireScope } from "../auth";
import { NotFoundError } from "../../errors";
import { mimeFor } from "../../media/mime";

/** Parses one `bytes=a-b` range (pure). Null: no usable range → whole file; "invalid" → 416. */
export function parseRange(header: string | null, size: number): { start: number; end: number } | null | "invalid" {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return "invalid";
  let start: number;
  let end: number;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) return "invalid";
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) return "invalid";
  return { start, end };
}

export function outputsRoutes(deps: ServiceDeps, principalOf: (r: Request) => Principal) {
  return new Elysia({ tags: ["outputs"] }).get(
    "/v1/jobs/:id/outputs/*",
    async ({ request, params }) => {
      const who = principalOf(request);
      requireScope(who, "jobs:read");
      const row = await getVisibleJob(deps, params.id, who);
      if (row.status !== "completed") throw new NotFoundError(`job ${row.id} has no outputs yet (status ${row.status})`);
      const name = params["*"];
      const file = deps.store.outputFile(row.id, name);
      const size = statSync(file).size;
      const headers: Record<string, string> = { "content-type": mimeFor(name), "accept-ranges": "bytes", "cache-control": "private, max-age=3600" };
      const range = parseRange(request.headers.get("range"), size);
      if (range === "invalid") return new Response(null, { status: 416, headers: { ...headers, "content-range": `bytes */${size}` } });
      const sent = range ? range.end - range.start + 1 : size;
      deps.metrics.bytesTotal.inc({ direction: "out" }, sent);
      if (!range) return new Response(Bun.file(file), { headers: { ...headers, "content-length": String(size) } });
      return new Response(Bun.file(file).slice(range.start, range.end + 1), {
        status: 206,
        headers: { ...headers, "content-range": `bytes ${range.start}-${range.end}/${size}`, "content-length": String(range.end - range.start + 1) },
      });
    },
    { detail: { summary: "Download an output (Range supported; HLS plays from here)" } },
  );
}
