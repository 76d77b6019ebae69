import { Elysia } from "elysia";
import type { Principal, ServiceDeps } from "../../services/deps";
import { listQueues, pauseQueue } from "../../services/queues";
import { requireScope } from "../auth";

export function queuesRoutes(deps: ServiceDeps, principalOf: (r: Request) => Principal) {
  return new Elysia({ prefix: "/v1/queues", tags: ["queues"] })
    .get("/", async ({ request }) => {
      requireScope(principalOf(request), "jobs:read");
      return { items: await listQueues(deps) };
    })
    .post("/:name/pause", async ({ request, params }) => {
      const who = principalOf(request);
      requireScope(who, "admin");
      return await pauseQueue(deps, who, params.name, true);
    }, { parse: "none" })
    .post("/:name/resume", async ({ request, params }) => {
      const who = principalOf(request);
      requireScope(who, "admin");
      return await pauseQueue(deps, who, params.name, false);
    }, { parse: "none" });
}
