import { Elysia } from "elysia";
import type { ServiceDeps } from "../../services/deps";
import { readiness } from "../../services/health";

export function healthRoutes(deps: ServiceDeps) {
  return new Elysia({ tags: ["health"] })
    .get("/healthz", () => ({ status: "ok" }), { detail: { summary: "Liveness" } })
    .get(
      "/readyz",
      async ({ set }) => {
        const r = await readiness(deps);
        set.status = r.ready ? 200 : 503;
        return { status: r.ready ? "ready" : "not ready", checks: r.checks };
      },
      { detail: { summary: "Readiness: Redis, SQLite, disk space, ffmpeg" } },
    );
}
