// Mounts every feature plugin and owns the one error mapping (code → status, SPEC §3).
import { Elysia } from "elysia";
import { openapi } from "@elysiajs/openapi";
import { MedianodeError, toMedianodeError } from "../errors";
import type { Principal, ServiceDeps } from "../services/deps";
import { listAuditEntries } from "../services/audit";
import { authenticate, requireScope } from "./auth";
import { VERSION } from "../version";
import { listOnlineNodes } from "../services/nodes";
import { tokenCheck } from "../services/tokens";
import { createRateLimiter } from "./rate-limit";
import { healthRoutes } from "./health/index";
import { jobsRoutes } from "./jobs/index";
import { instrument, metricsRoutes, type Fetch } from "./metrics";
import { outputsRoutes } from "./outputs/index";
import { queuesRoutes } from "./queues/index";
import { webhooksRoutes } from "./webhooks/index";
import { channelsRoutes } from "./channels/index";
import { dashboardRoutes } from "./dashboard/index";
import { workerStoreRoutes } from "./worker-store/index";


export function errorResponse(err: MedianodeError): Response {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const retry = (err.details as { retryAfterSec?: number } | undefined)?.retryAfterSec;
  if (err.code === "RATE_LIMITED" && retry) headers["retry-after"] = String(retry);
  return new Response(JSON.stringify(err.toBody()), { status: err.status, headers });
}

const CORS_METHODS = "GET, POST, DELETE, OPTIONS";
const CORS_HEADERS = "authorization, content-type";

/** CORS is closed unless MEDIANODE_CORS_ORIGINS lists the caller's origin (SPEC §7). */
export function withCors(origins: string[], next: Fetch): Fetch {
  return async (req) => {
    const origin = req.headers.get("origin");
    const allowed = origin !== null && (origins.includes(origin) || origins.includes("*"));
    if (req.method === "OPTIONS" && origin) {
      if (!allowed) return new Response(null, { status: 403 });
      return new Response(null, {
        status: 204,
        headers: { "access-control-allow-origin": origin, "access-control-allow-methods": CORS_METHODS, "access-control-allow-headers": CORS_HEADERS, "access-control-max-age": "600", vary: "Origin" },
      });
    }
    const res = await next(req);
    res.headers.set("x-content-type-options", "nosniff");
    if (!res.headers.has("referrer-policy")) res.headers.set("referrer-policy", "no-referrer");
    if (allowed) {
      res.headers.set("access-control-allow-origin", origin);
      res.headers.append("vary", "Origin");
    }
    return res;
  };
}

export interface AppOptions {
  /** Refreshes the gauges every role of this process reads on demand (roles/context.ts). */
  scrape(): Promise<void>;
}

export function createApp(deps: ServiceDeps, o: AppOptions): { app: ReturnType<typeof buildApp>; fetch: Fetch } {
  const routes = new WeakMap<Request, string>();
  const app = buildApp(deps, routes, o);
  return { app, fetch: withCors(deps.config.corsOrigins, instrument(app, routes, deps.metrics)) };
}

function buildApp(deps: ServiceDeps, routes: WeakMap<Request, string>, o: AppOptions) {
  // One token check per request, whichever route asks.
  const principals = new WeakMap<Request, Principal>();
  const perToken = createRateLimiter(deps.config.rateLimitPerToken, "token");
  const tokens = tokenCheck(deps.db);
  const principalOf = (r: Request): Principal => {
    let p = principals.get(r);
    if (!p) {
      p = authenticate(tokens, r, deps.config.jwtSecret);
      perToken.take(p.tokenId ?? p.name);
      principals.set(r, p);
    }
    return p;
  };
  return new Elysia({ name: "medianode" })
    .onTransform({ as: "global" }, ({ request, route }) => {
      routes.set(request, route);
    })
    .onError(({ code, error, request }) => {
      if (error instanceof MedianodeError) return errorResponse(error);
      if (code === "NOT_FOUND") return errorResponse(new MedianodeError("NOT_FOUND", `no route ${request.method} ${new URL(request.url).pathname}`));
      if (code === "VALIDATION" || code === "PARSE") return errorResponse(new MedianodeError("BAD_REQUEST", (error as Error).message.slice(0, 500)));
      const m = toMedianodeError(error);
      if (m.code === "INTERNAL") deps.log.error("unhandled error", { method: request.method, url: new URL(request.url).pathname, error });
      return errorResponse(m);
    })
    .use(
      openapi({
        path: "/docs",
        documentation: {
          info: { title: "medianode", version: VERSION, description: "Self-hosted media processing node: probe, image, video, audio and thumbnail jobs." },
          components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
          security: [{ bearer: [] }],
        },
      }),
    )
    .use(healthRoutes(deps))
    .use(dashboardRoutes())
    .use(metricsRoutes(deps.metrics, o.scrape))
    .use(jobsRoutes(deps, principalOf))
    .use(outputsRoutes(deps, principalOf))
    .use(queuesRoutes(deps, principalOf))
    .use(webhooksRoutes(deps, principalOf))
    .use(channelsRoutes(deps, principalOf))
    .use(workerStoreRoutes(deps, principalOf))
    .get(
      "/v1/nodes",
      async ({ request }) => {
        requireScope(principalOf(request), "jobs:read");
        return { items: await listOnlineNodes(deps) };
      },
      { detail: { tags: ["nodes"], summary: "Nodes seen in the last minute, with their capabilities" } },
    )
    .get(
      "/v1/audit",
      ({ request, query }) => {
        requireScope(principalOf(request), "admin");
        const limit = Math.min(Number(query.limit ?? 100) || 100, 1000);
        const before = query.before ? Number(query.before) : undefined;
        return { items: listAuditEntries(deps, before, limit) };
      },
      { detail: { tags: ["audit"], summary: "Who did what (admin)" } },
    );
}
