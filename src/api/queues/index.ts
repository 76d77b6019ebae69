import { Elysia } from "elysia";
import type { Principal, ServiceDeps } from "../../services/deps";
import { listQueues, pauseQueue, TypeCounts } from "../../services/queues";
import { requireScope } from "../auth";
import { Type as T } from "@sinclair/typebox";
import { AUTH_ERRORS, errors, out } from "../schemas";

const QueueList = out(T.Object({ items: T.Array(T.Composite([T.Object({ name: T.String({ description: "Job type" }) }), TypeCounts])) }));
const QueueState = out(T.Object({ name: T.String(), paused: T.Boolean() }));
const QueueParams = T.Object({ name: T.String({ description: "Queue (job type), e.g. video" }) });
const ADMIN_ERRORS = errors(...AUTH_ERRORS, "NOT_FOUND", "UNAVAILABLE");

export function queuesRoutes(deps: ServiceDeps, principalOf: (r: Request) => Principal) {
  return new Elysia({ prefix: "/v1/queues", tags: ["queues"] })
    .get("", async ({ request }) => {
      requireScope(principalOf(request), "jobs:read");
      return { items: await listQueues(deps) };
    }, { response: { 200: QueueList, ...errors(...AUTH_ERRORS, "UNAVAILABLE") }, detail: { summary: "Per queue (job type): waiting, active, delayed, failed, completed, paused" } })
    .post("/:name/pause", async ({ request, params }) => {
      const who = principalOf(request);
      requireScope(who, "admin");
      return await pauseQueue(deps, who, params.name, true);
    }, { parse: "none", params: QueueParams, response: { 200: QueueState, ...ADMIN_ERRORS }, detail: { summary: "Pause a queue: running jobs finish, no new ones start (admin)" } })
    .post("/:name/resume", async ({ request, params }) => {
      const who = principalOf(request);
      requireScope(who, "admin");
      return await pauseQueue(deps, who, params.name, false);
    }, { parse: "none", params: QueueParams, response: { 200: QueueState, ...ADMIN_ERRORS }, detail: { summary: "Resume a paused queue (admin)" } });
}
