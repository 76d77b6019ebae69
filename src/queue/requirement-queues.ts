// Finding requirement queues without a restart: the registry set is read at start, again on
// every hint published when a queue is added, and periodically (a hint lost while a node was
// disconnected, or a registry rebuilt after Redis lost its data, is found by the re-read).
import { subscribeWhenReady } from "./connection";
import type IORedis from "ioredis";
import type { JobType } from "../jobs/schema";
import { parseQueueName, REQUIREMENT_QUEUES_CHANNEL, REQUIREMENT_QUEUES_KEY } from "./names";

export interface RequirementQueue {
  name: string;
  type: JobType;
  require: string[];
}

export const REQUIREMENT_REREAD_MS = 5_000;

export async function listRequirementQueues(redis: IORedis): Promise<RequirementQueue[]> {
  const out: RequirementQueue[] = [];
  for (const name of (await redis.smembers(REQUIREMENT_QUEUES_KEY)).sort()) {
    const p = parseQueueName(name);
    if (p && p.require.length) out.push({ name, ...p });
  }
  return out;
}

/**
 * Calls `onQueue` once for every requirement queue in the registry, now (`atStart`) and
 * whenever one appears. `sub` is a connection of its own (it enters subscriber mode).
 */
export async function watchRequirementQueues(
  redis: IORedis,
  sub: IORedis,
  onQueue: (q: RequirementQueue, atStart: boolean) => void,
  everyMs = REQUIREMENT_REREAD_MS,
): Promise<{ refresh(): Promise<void>; stop(): void }> {
  const seen = new Set<string>();
  let stopped = false;
  let started = false;
  const refresh = async () => {
    if (stopped) return;
    const atStart = !started;
    for (const q of await listRequirementQueues(redis)) {
      if (seen.has(q.name) || stopped) continue;
      seen.add(q.name);
      onQueue(q, atStart);
    }
    started = true;
  };
  const quiet = () => void refresh().catch(() => {});
  sub.on("message", (ch) => {
    if (ch === REQUIREMENT_QUEUES_CHANNEL) quiet();
  });
  await subscribeWhenReady(sub, REQUIREMENT_QUEUES_CHANNEL).catch(() => {});
  await refresh().catch(() => {});
  const timer = setInterval(quiet, everyMs);
  return {
    refresh,
    stop() {
      stopped = true;
      clearInterval(timer);
      sub.disconnect();
    },
  };
}
