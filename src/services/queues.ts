// Queue use-cases for /v1/queues: one line per job type (its requirement queues counted in
// it), and pause/resume of a type across all of its queues, audited.
import { NotFoundError } from "../errors";
import { JOB_TYPES, type JobType } from "../jobs/schema";
import { withRedis } from "../queue/connection";
import { queueName } from "../queue/names";
import { countType, setTypePaused, TypeCounts } from "../queue/queues";

/** The counts of one type's queues (its requirement queues included), as /v1/queues shows them. */
export { TypeCounts };
import { audit } from "./audit";
import type { Principal, ServiceDeps } from "./deps";

/** A queue's name in a route: the job type, or the type queue's BullMQ name. */
export function queueTypeOf(name: string): JobType {
  const t = JOB_TYPES.find((x) => x === name || queueName(x) === name);
  if (!t) throw new NotFoundError(`no queue ${name} (queues: ${JOB_TYPES.join(", ")})`);
  return t;
}

export async function listQueues(deps: Pick<ServiceDeps, "queues">): Promise<({ name: JobType } & TypeCounts)[]> {
  return await withRedis(() => Promise.all(JOB_TYPES.map(async (t) => ({ name: t, ...(await countType(deps.queues, t)) }))));
}

export async function pauseQueue(deps: ServiceDeps, who: Principal, name: string, paused: boolean): Promise<{ name: JobType; paused: boolean }> {
  const t = queueTypeOf(name);
  await withRedis(() => setTypePaused(deps.queues, t, paused));
  audit(deps, who, paused ? "queue.pause" : "queue.resume", t);
  return { name: t, paused };
}
