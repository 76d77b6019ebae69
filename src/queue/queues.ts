import { Queue, type JobsOptions } from "bullmq";
import type IORedis from "ioredis";
import { JOB_TYPES, type JobType } from "../jobs/schema";
import { InvalidOptionsError } from "../errors";
import { parseQueueName, QUEUE_PREFIX, queueName, REQUIREMENT_QUEUES_CHANNEL, REQUIREMENT_QUEUES_KEY } from "./names";
import type { WorkItem } from "./payload";

/** Distinct requirement queues the registry accepts: each costs every watcher a connection. */
export const MAX_REQUIREMENT_QUEUES = 64;

/** The producer side's queues: one per type, plus requirement queues made on first use. */
export interface Queues {
  /** The queue a job of this type and requirement goes to (see queueName). */
  of(type: JobType, require?: readonly string[]): Queue<WorkItem>;
  /**
   * Records a requirement queue in Redis before its first job is added, so workers and
   * monitors find it; a new one starts paused when its type is paused. No-op for [].
   */
  register(type: JobType, require: readonly string[]): Promise<void>;
  /** The type's queue, then every requirement queue of the type in the registry. */
  ofType(type: JobType): Promise<Queue<WorkItem>[]>;
  close(): Promise<void>;
}

// Finished jobs stay in Redis for a day so the api role can read their result when it
// reconciles after downtime; SQLite is the record, so Redis memory stays bounded.
const KEEP = { age: 24 * 3600, count: 20_000 };

export function createQueues(conn: IORedis): Queues {
  const made = new Map<string, Queue<WorkItem>>();
  const byName = (name: string) => {
    let q = made.get(name);
    if (!q) {
      q = new Queue<WorkItem>(name, {
        connection: conn,
        prefix: QUEUE_PREFIX,
        // Producers must fail fast when Redis is down (503), so do not wait for "ready" forever.
        skipWaitingForReady: true,
        defaultJobOptions: { removeOnComplete: KEEP, removeOnFail: KEEP },
      });
      // Redis outages surface as 503s on the calls that fail and in /readyz; an EventEmitter
      // "error" without a listener would be printed for every reconnect attempt.
      q.on("error", () => {});
      made.set(name, q);
    }
    return q;
  };
  for (const type of JOB_TYPES) byName(queueName(type));
  return {
    of: (type, require = []) => byName(queueName(type, require)),
    async register(type, require) {
      if (require.length === 0) return;
      const name = queueName(type, require);
      // A known set costs one round trip; only a new one is counted against the cap.
      if ((await conn.sadd(REQUIREMENT_QUEUES_KEY, name)) === 0) return;
      if ((await conn.scard(REQUIREMENT_QUEUES_KEY)) > MAX_REQUIREMENT_QUEUES) {
        await conn.srem(REQUIREMENT_QUEUES_KEY, name);
        throw new InvalidOptionsError(`too many distinct options.require sets in use (at most ${MAX_REQUIREMENT_QUEUES}); reuse an existing one`, { require });
      }
      if (await byName(queueName(type)).isPaused()) await byName(name).pause();
      await conn.publish(REQUIREMENT_QUEUES_CHANNEL, name);
    },
    async ofType(type) {
      const names = (await conn.smembers(REQUIREMENT_QUEUES_KEY)).filter((n) => parseQueueName(n)?.type === type).sort();
      return [byName(queueName(type)), ...names.map(byName)];
    },
    async close() {
      await Promise.all([...made.values()].map((x) => x.close()));
    },
  };
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
  await q.close();
}

/** A job's BullMQ id: `<jobId>-r<run>`, so a retry never collides with an older run still in Redis. */
export function bullJobId(id: string, run: number): string {
  return `${id}-r${run}`;
}

export function parseBullJobId(bullId: string): { id: string; run: number } | null {
  const m = /^(j_[0-9a-z]{26})-r(\d+)$/.exec(bullId);
  return m ? { id: m[1]!, run: Number(m[2]) } : null;
}

export interface TypeCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
  paused: boolean;
}

/**
 * One job type's counts, summed over its queue and its requirement queues (one line per
 * type in /v1/queues and medianode_queue_jobs); paused is the type's pause state.
 */
export async function countType(queues: Queues, type: JobType): Promise<TypeCounts> {
  const all = await queues.ofType(type);
  const each = await Promise.all(all.map((q) => q.getJobCounts("waiting", "prioritized", "active", "delayed", "failed", "completed")));
  const sum = (k: string) => each.reduce((n, c) => n + (c[k] ?? 0), 0);
  return {
    waiting: sum("waiting") + sum("prioritized"),
    active: sum("active"),
    delayed: sum("delayed"),
    failed: sum("failed"),
    completed: sum("completed"),
    paused: await all[0]!.isPaused(),
  };
}

/** Pauses (or resumes) a job type: its queue and every requirement queue of it. */
export async function setTypePaused(queues: Queues, type: JobType, paused: boolean): Promise<void> {
  const all = await queues.ofType(type);
  // The type's own queue last on pause, first on resume: a requirement queue registered
  // meanwhile copies its state from it.
  if (paused) {
    await Promise.all(all.slice(1).map((q) => q.pause()));
    await all[0]!.pause();
  } else {
    await all[0]!.resume();
    await Promise.all(all.slice(1).map((q) => q.resume()));
  }
}
