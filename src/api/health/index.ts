import { Elysia } from "elysia";
import type { ServiceDeps } from "../../services/deps";
import { Type as T } from "@sinclair/typebox";
import { readiness, Readiness } from "../../services/health";
import { out } from "../schemas";

export function healthRoutes(deps: ServiceDeps) {
  return new Elysia({ tags: ["health"] })
    .get("/healthz", () => ({ status: "ok" }), { response: { 200: out(T.Object({ status: T.Literal("ok") })) }, detail: { summary: "Liveness", security: [] } })
    .get(
      "/readyz",
      async ({ set }) => {
        const r = await readiness(deps);
        set.status = r.ready ? 200 : 503;
        return { status: r.ready ? "ready" : "not ready", checks: r.checks };
      },
      { response: { 200: out(Readiness), 503: out(Readiness) }, detail: { summary: "Readiness: Redis, SQLite, disk space, ffmpeg, and the media bucket where there is one (503 says which is not); the message bus is reported under bus, not counted", security: [] } },
    );
}
