// Mounts every feature plugin and owns the one error mapping (code → status, SPEC §3).
import { Elysia } from "elysia";
import { MedianodeError, toMedianodeError, UnauthorizedError } from "../errors";
import type { Principal, ServiceDeps } from "../services/deps";
import { AuditEntry, listAuditEntries } from "../services/audit";
import { Type as T } from "@sinclair/typebox";
import { NodeAdvert } from "../nodes/advert";
import { AUTH_ERRORS, errors, out } from "./schemas";
import { authenticate, requireScope } from "./auth";
import { listOnlineNodes } from "../services/nodes";
import { tokenCheck } from "../services/tokens";
import { createRateLimiter } from "./rate-limit";
import { clientInfo, createProxyTrust, type ClientInfo } from "./forwarded";
import { docsRoutes } from "./docs";
import { jobRelativeText } from "../storage/paths";
import { ListBefore, listBefore, ListLimit, listLimit } from "./list-query";
import { healthRoutes } from "./health/index";
import { jobsRoutes } from "./jobs/index";
import { instrument, metricsRoutes, type Fetch } from "./metrics";
import { outputsRoutes } from "./outputs/index";
import { playbackRoutes } from "./playback/index";
import { withPlaybackCors } from "./playback/cors";
import { queuesRoutes } from "./queues/index";
import { webhooksRoutes } from "./webhooks/index";
import { notificationsRoutes } from "./notifications/index";
import { dashboardRoutes } from "./dashboard/index";
import { remoteMediaRoutes } from "./remote-media/index";


export function errorResponse(err: MedianodeError): Response {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const retry = (err.details as { retryAfterSec?: number } | undefined)?.retryAfterSec;
  if ((err.code === "RATE_LIMITED" || err.code === "UNAVAILABLE") && retry) headers["retry-after"] = String(retry);
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

/**
 * Elysia finds a request's path at the first "/" from index 11 of its URL, assuming a host of
 * at least three characters: with `Host: x`, `http://x/v1/v1/jobs` is routed as `/v1/jobs`,
 * past a proxy's path rules (issue #12 point 10). Such a URL is rebuilt on a host that cannot
 * be cut short, keeping the path and query exactly as parsed; null when nothing needs doing. Pure.
 */
export function routableUrl(url: string): string | null {
  const scheme = url.indexOf("://");
  const pathStart = url.indexOf("/", scheme + 3);
  if (scheme < 0 || pathStart >= 11 || pathStart < 0) return null;
  const u = new URL(url);
  return `http://localhost${u.pathname}${u.search}`;
}

function routeOnParsedPath(next: Fetch): Fetch {
  return (req) => {
    const fixed = routableUrl(req.url);
    return next(fixed === null ? req : new Request(fixed, req));
  };
}

export interface AppOptions {
  /** Refreshes the gauges every role of this process reads on demand (roles/context.ts). */
  scrape(): Promise<void>;
  /** The client behind a request (the server knows its peer address); default: no peer, so forwarded headers are ignored. */
  clientOf?: (req: Request) => ClientInfo;
}

export function createApp(deps: ServiceDeps, o: AppOptions): { app: ReturnType<typeof buildApp>; fetch: Fetch } {
  const routes = new WeakMap<Request, string>();
  const app = buildApp(deps, routes, o);
  // /p/ has its own open CORS (SPEC §10) in front of the API's closed one.
  return { app, fetch: routeOnParsedPath(withPlaybackCors(withCors(deps.config.corsOrigins, instrument(app, routes, deps.metrics)))) };
}

function buildApp(deps: ServiceDeps, routes: WeakMap<Request, string>, o: AppOptions) {
  const trust = createProxyTrust(deps.config.trustedProxies);
  const clientOf = o.clientOf ?? ((r: Request) => clientInfo(r.headers, undefined, new URL(r.url), trust));
  // One token check per request, whichever route asks: the record lookup is async (either
  // engine), so it runs before the handler for every /v1 route, and routes read its outcome.
  const checked = new WeakMap<Request, { p: Principal } | { error: unknown }>();
  const limited = new WeakSet<Request>();
  const perToken = createRateLimiter(deps.config.rateLimitPerToken, "token");
  const tokens = tokenCheck(deps.records);
  const principalOf = (r: Request): Principal => {
    const c = checked.get(r);
    if (!c) throw new UnauthorizedError("missing token: send Authorization: Bearer <token>");
    if ("error" in c) throw c.error;
    if (!limited.has(r)) (limited.add(r), perToken.take(c.p.tokenId ?? c.p.name));
    return c.p;
  };
  return new Elysia({ name: "medianode" })
    .onTransform({ as: "global" }, ({ request, route }) => {
      routes.set(request, route);
    })
    .onBeforeHandle({ as: "global" }, async ({ request }) => {
      if (!new URL(request.url).pathname.startsWith("/v1/") || checked.has(request)) return;
      checked.set(
        request,
        await authenticate(tokens, request, deps.config.jwtSecret).then(
          (p) => ({ p }),
          (error: unknown) => ({ error }),
        ),
      );
    })
    .onError(({ code, error, request }) => {
      if (error instanceof MedianodeError) {
        // ffprobe and fs messages name files by their absolute path: show job-relative names.
        error.message = jobRelativeText(error.message, deps.mediaStore.root);
        return errorResponse(error);
      }
      if (code === "NOT_FOUND") return errorResponse(new MedianodeError("NOT_FOUND", `no route ${request.method} ${new URL(request.url).pathname}`));
      if (code === "VALIDATION" || code === "PARSE") return errorResponse(new MedianodeError("BAD_REQUEST", (error as Error).message.slice(0, 500)));
      const m = toMedianodeError(error);
      m.message = jobRelativeText(m.message, deps.mediaStore.root);
      // A playback token is a credential: never in a log line.
      if (m.code === "INTERNAL") deps.log.error("unhandled error", { method: request.method, url: new URL(request.url).pathname.replace(/^\/p\/[^/]+/, "/p/<token>"), ip: clientOf(request).ip, error });
      return errorResponse(m);
    })
    .use(docsRoutes())
    .use(healthRoutes(deps))
    .use(dashboardRoutes(deps.config.playbackBaseUrl))
    .use(metricsRoutes(deps.metrics, o.scrape))
    .use(jobsRoutes(deps, principalOf, clientOf))
    .use(outputsRoutes(deps, principalOf))
    .use(playbackRoutes(deps, principalOf))
    .use(queuesRoutes(deps, principalOf))
    .use(webhooksRoutes(deps, principalOf))
    .use(notificationsRoutes(deps, principalOf))
    .use(remoteMediaRoutes(deps, principalOf))
    .get(
      "/v1/nodes",
      async ({ request }) => {
        requireScope(principalOf(request), "jobs:read");
        return { items: await listOnlineNodes(deps) };
      },
      { response: { 200: out(T.Object({ items: T.Array(NodeAdvert) })), ...errors(...AUTH_ERRORS, "UNAVAILABLE") }, detail: { tags: ["nodes"], summary: "Nodes seen in the last minute, with their capabilities" } },
    )
    .get(
      "/v1/audit",
      async ({ request, query }) => {
        requireScope(principalOf(request), "admin");
        const limit = listLimit(query.limit);
        const before = listBefore(query.before);
        return { items: await listAuditEntries(deps, before, limit) };
      },
      {
        query: T.Object({
          limit: ListLimit,
          before: ListBefore,
          token: T.Optional(T.String()),
        }),
        response: { 200: out(T.Object({ items: T.Array(AuditEntry) })), ...errors(...AUTH_ERRORS, "BAD_REQUEST") },
        detail: { tags: ["audit"], summary: "Who did what (admin)" },
      },
    );
}
