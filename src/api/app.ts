// Mounts every feature plugin and owns the one error mapping (code → status, SPEC §3).
import { Elysia } from "elysia";
import { openapi } from "@elysiajs/openapi";
import { MedianodeError, toMedianodeError } from "../errors";
import type { Principal, ServiceDeps } from "../services/deps";
import { listAuditEntries } from "../services/audit";
import { authenticate, requireScope } from "./auth";
import { healthRoutes } from "./health/index";
import { jobsRoutes } from "./jobs/index";
import { outputsRoutes } from "./outputs/index";
import { queuesRoutes } from "./queues/index";

export const VERSION = "0.1.0";

function errorResponse(err: MedianodeError, extraHeaders: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(err.toBody()), { status: err.status, headers: { "content-type": "application/json", ...extraHeaders } });
}

export function createApp(deps: ServiceDeps) {
  // One token check per request, whichever route asks.
  const principals = new WeakMap<Request, Principal>();
  const principalOf = (r: Request): Principal => {
    let p = principals.get(r);
    if (!p) {
      p = authenticate(deps.db, r);
      principals.set(r, p);
    }
    return p;
  };
  return new Elysia({ name: "medianode" })
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
    .use(jobsRoutes(deps, principalOf))
    .use(outputsRoutes(deps, principalOf))
    .use(queuesRoutes(deps, principalOf))
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

export type App = ReturnType<typeof createApp>;
