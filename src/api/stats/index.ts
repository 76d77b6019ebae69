// GET /v1/stats (SPEC §3): counts, failure rate, media seconds and duration percentiles per
// group over a time range, computed by the database for the caller's tenant (admin: all).
import { Elysia } from "elysia";
import type { Principal, ServiceDeps } from "../../services/deps";
import { jobStats, StatsAnswer } from "../../services/job-queries";
import { requireScope } from "../auth";
import { METADATA_FILTER_DOC, parseStatsQuery, StatsQuery } from "../jobs/query";
import { AUTH_ERRORS, errors, out } from "../schemas";

export function statsRoutes(deps: ServiceDeps, principalOf: (r: Request) => Principal) {
  return new Elysia({ prefix: "/v1/stats", tags: ["jobs"] }).get(
    "",
    async ({ request }) => {
      const who = principalOf(request);
      requireScope(who, "jobs:read");
      return await jobStats(deps, who, parseStatsQuery(new URL(request.url).searchParams, deps.now()));
    },
    {
      query: StatsQuery,
      response: { 200: out(StatsAnswer), ...errors(...AUTH_ERRORS, "BAD_REQUEST") },
      detail: { summary: "Job statistics per group: ?groupBy=type|status|day|hour|errorCode|metadata.<key>&from&to and the list filters", description: `Times are UTC. ${METADATA_FILTER_DOC}` },
    },
  );
}
