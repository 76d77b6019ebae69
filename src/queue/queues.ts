import { Queue, type JobsOptions } from "bullmq";
import type IORedis from "ioredis";
import { JOB_TYPES, type JobType } from "../config/schema";
import { QUEUE_PREFIX, queueName } from "./names";
import type { WorkItem } from "./payload";

export type Queues = Record<JobType, Queue<WorkItem>>;

// Finished jobs stay in Redis for a day so the api role can read their result when it
// reconciles after downtime; SQLite is the record, so Redis memory stays bounded.
const KEEP = { age: 24 * 3600, count: 20_000 };

export function createQueues(conn: IORedis): Queues {
  const out = {} as Queues;
  for (const type of JOB_TYPES) {
    out[type] = new Queue<WorkItem>(queueName(type), {
      connection: conn,
      prefix: QUEUE_PREFIX,
      // Producers must fail fast when Redis is down (503), so do not wait for "ready" forever.
      skipWaitingForReady: true,
      defaultJobOptions: { removeOnComplete: KEEP, removeOnFail: KEEP },
    });
    // Redis outages surface as 503s on the calls that fail and in /readyz; an EventEmitter
    // "error" without a listener would be printed for every reconnect attempt.
    out[type].on("error", () => {});
  }
  return out;
}

/** SPEC priority (-100..100, higher sooner) → BullMQ priority (1 is the highest). */
export function bullPriority(priority: number): number {
  return 101 - Math.max(-100, Math.min(100, priority));
}

export function jobOptions(id: string, priority: number, attempts: number): JobsOptions {
  return {
    jobId: id,
    priority: bullPriority(priority),
    attempts,
    backoff: { type: "exponential", delay: 2000 },
  };
}

export async function closeQueues(q: Queues): Promise<void> {
  await Promise.all(Object.values(q).map((x) => x.close()));
}

/** A job's BullMQ id: `<jobId>-r<run>`, so a retry never collides with an older run still in Redis. */
export function bullJobId(id: string, run: number): string {
  return `${id}-r${run}`;
}

export function parseBullJobId(bullId: string): { id: string; run: number } | null {
  const m = /^(j_[0-9a-z]{26})-r(\d+)$/.exec(bullId);
  return m ? { id: m[1]!, run: Number(m[2]) } : null;
}
