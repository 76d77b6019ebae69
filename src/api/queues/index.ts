import { Elysia } from "elysia";
import { JOB_TYPES, type JobType } from "../../jobs/schema";
import { NotFoundError } from "../../errors";
import { withRedis } from "../../queue/connection";
import { queueName } from "../../queue/names";
import { countType, setTypePaused } from "../../queue/queues";
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
          // A type's requirement queues (options.require) are counted in its line.
          JOB_TYPES.map(async (t) => ({ name: t, ...(await countType(deps.queues, t)) })),
        ),
      );
      return { items };
    })
    .post("/:name/pause", async ({ request, params }) => {
      const who = principalOf(request);
      requireScope(who, "admin");
      const t = typeOf(params.name);
      await withRedis(() => setTypePaused(deps.queues, t, true));
      audit(deps, who, "queue.pause", t);
      return { name: t, paused: true };
    }, { parse: "none" })
    .post("/:name/resume", async ({ request, params }) => {
      const who = principalOf(request);
      requireScope(who, "admin");
      const t = typeOf(params.name);
      await withRedis(() => setTypePaused(deps.queues, t, false));
      audit(deps, who, "queue.resume", t);
      return { name: t, paused: false };
    }, { parse: "none" });
}
