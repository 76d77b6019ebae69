// HTTP metrics by route template (bounded labels, never raw paths) and the /metrics endpoint.
import { Elysia } from "elysia";
import type { Metrics } from "../metrics/registry";

export type Fetch = (req: Request) => Promise<Response>;

/** Wraps app.handle: times every request and labels it with the matched route template. */
export function instrument(app: { handle(req: Request): Promise<Response> }, routes: WeakMap<Request, string>, metrics: Metrics): Fetch {
  return async (req) => {
    const started = performance.now();
    const res = await app.handle(req);
    const route = routes.get(req) ?? "unmatched";
    metrics.httpRequests.inc({ method: req.method, route, status: String(res.status) });
    metrics.httpDuration.observe({ method: req.method, route }, (performance.now() - started) / 1000);
    return res;
  };
}

/** GET /metrics (no token, SPEC §7); `refresh` updates gauges read on demand (queue counts). */
export function metricsRoutes(metrics: Metrics, refresh: () => Promise<void>) {
  return new Elysia({ tags: ["metrics"] }).get(
    "/metrics",
    async () => {
      await refresh().catch(() => {});
      return new Response(await metrics.registry.metrics(), { headers: { "content-type": metrics.registry.contentType } });
    },
    {
      detail: {
        summary: "Prometheus metrics (docs/metrics.md)",
        security: [],
        responses: { 200: { description: "Prometheus text exposition format", content: { "text/plain": { schema: { type: "string" } } } } },
      },
    },
  );
}
