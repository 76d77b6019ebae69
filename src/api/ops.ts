// The small HTTP port of a process without the api role (`medianode worker`, default 8081):
// /healthz, /readyz and /metrics only (SPEC §1), no token needed.
import { Elysia } from "elysia";
import { readiness, type HealthDeps } from "../services/health";
import type { Metrics } from "../metrics/registry";
import { metricsRoutes } from "./metrics";

export function createOpsApp(deps: HealthDeps, metrics: Metrics, refreshGauges: () => void) {
  return new Elysia({ name: "medianode-ops" })
    .get("/healthz", () => ({ status: "ok" }))
    .get("/readyz", async ({ set }) => {
      const r = await readiness(deps);
      set.status = r.ready ? 200 : 503;
      return { status: r.ready ? "ready" : "not ready", checks: r.checks };
    })
    .use(metricsRoutes(metrics, async () => refreshGauges()));
}
