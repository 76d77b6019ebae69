import { Elysia } from "elysia";
import { JOB_TYPES, type JobType } from "../../config/schema";
import { NotFoundError } from "../../errors";
import { withRedis } from "../../queue/connection";
import { queueName } from "../../queue/names";
import { audit } from "../../services/audit";
import type { Principal, ServiceDeps } from "../../services/deps";
import { requireScope } from "../auth";

function typeOf(name: string): JobType {
  const t = JOB_TYPES.find((x) => x === name || queueName(x) === name);
  if (!t) throw new NotFoundError(`no queue ${name} (queues: ${JOB_TYPES.join(", ")})`);
  return t;
}

export function queuesRoutes(deps: ServiceDeps, principalOf: (r: Request) => Principal) {
  return new Elysia({ prefix: "/v1/queues", tags: ["queues"] })
    .get("/", async ({ request }) => {
      requireScope(principalOf(request), "jobs:read");
      const items = await withRedis(() =>
        Promise.all(
          JOB_TYPES.map(async (t) => {
            const q = deps.queues[t];
            const c = await q.getJobCounts("waiting", "prioritized", "active", "delayed", "failed", "completed");
            return {
              name: t,
              waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
              active: c.active ?? 0,
              delayed: c.delayed ?? 0,
              failed: c.failed ?? 0,
              completed: c.completed ?? 0,
              paused: await q.isPaused(),
            };
          }),
        ),
      );
      return { items };
    })
    .post("/:name/pause", async ({ request, params }) => {
      const who = principalOf(request);
      requireScope(who, "admin");
      const t = typeOf(params.name);
      await withRedis(() => deps.queues[t].pause());
      audit(deps, who, "queue.pause", t);
      return { name: t, paused: true };
    }, { parse: "none" })
    .post("/:name/resume", async ({ request, params }) => {
      const who = principalOf(request);
      requireScope(who, "admin");
      const t = typeOf(params.name);
      await withRedis(() => deps.queues[t].resume());
      audit(deps, who, "queue.resume", t);
      return { name: t, paused: false };
    }, { parse: "none" });
}
