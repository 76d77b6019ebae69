import { Queue, type JobsOptions } from "bullmq";
import { Type as T, type Static } from "@sinclair/typebox";
import type IORedis from "ioredis";
import { JOB_TYPES, type JobType } from "../jobs/schema";
import { InvalidOptionsError } from "../errors";
import { parseQueueName, QUEUE_PREFIX, queueName, REQUIREMENT_QUEUES_CHANNEL, REQUIREMENT_QUEUES_KEY, REQUIREMENT_USED_KEY, requirementTenantKey } from "./names";
import type { WorkItem } from "./payload";

/** Distinct requirement queues the registry accepts: each costs every watcher a connection. */
export const MAX_REQUIREMENT_QUEUES = 64;

export interface RequirementLimits {
  /** Distinct sets one tenant may have in use at once (MEDIANODE_REQUIRE_SETS_PER_TENANT). */
  perTenant: number;
  /** A set with no queued or active job, not submitted to for this long, is freed (MEDIANODE_REQUIRE_SET_IDLE_SEC). */
  idleMs: number;
}
export const DEFAULT_REQUIREMENT_LIMITS: RequirementLimits = { perTenant: 8, idleMs: 600_000 };

export interface RegisterOptions {
  /** Whose submission this is: a set new to the tenant counts against its own quota. */
  tenant: string;
  /** Re-registering an accepted job (recovery, retry): recorded, never refused. */
  force?: boolean;
}

/** The producer side's queues: one per type, plus requirement queues made on first use. */
export interface Queues {
  /** The queue a job of this type and requirement goes to (see queueName). */
  of(type: JobType, require?: readonly string[]): Queue<WorkItem>;
  /**
   * Records a requirement queue in Redis before its first job is added, so workers and
   * monitors find it; a new one starts paused when its type is paused. No-op for [].
   */
  register(type: JobType, require: readonly string[], o: RegisterOptions): Promise<void>;
  /** The type's queue, then every requirement queue of the type in the registry. */
  ofType(type: JobType): Promise<Queue<WorkItem>[]>;
  close(): Promise<void>;
}

// Finished jobs stay in Redis for a day so the api role can read their result when it
// reconciles after downtime; SQLite is the record, so Redis memory stays bounded.
const KEEP = { age: 24 * 3600, count: 20_000 };

export function createQueues(conn: IORedis, limits: RequirementLimits = DEFAULT_REQUIREMENT_LIMITS): Queues {
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
  /** No job waiting, delayed or running in the queue (finished ones do not count). */
  const empty = async (name: string) => {
    const c = await byName(name).getJobCounts("waiting", "prioritized", "active", "delayed", "waiting-children");
    return Object.values(c).every((n) => n === 0);
  };
  /** Unused: empty now and not submitted to for idleMs. A set never stamped is stamped now (kept). */
  const unused = async (name: string, now: number) => {
    const at = await conn.hget(REQUIREMENT_USED_KEY, name);
    if (at === null) {
      await conn.hset(REQUIREMENT_USED_KEY, name, now);
      return false;
    }
    return now - Number(at) >= limits.idleMs && (await empty(name));
  };
  /** Drops a tenant's unused sets from its quota. */
  const freeTenant = async (tenant: string, now: number) => {
    const key = requirementTenantKey(tenant);
    for (const name of await conn.zrangebyscore(key, 0, now - limits.idleMs)) if (await empty(name)) await conn.zrem(key, name);
  };
  /** Drops unused sets from the registry (workers stop being told about them; their slot is free). */
  const freeRegistry = async (now: number) => {
    for (const name of await conn.smembers(REQUIREMENT_QUEUES_KEY)) {
      if (await unused(name, now)) {
        await conn.srem(REQUIREMENT_QUEUES_KEY, name);
        await conn.hdel(REQUIREMENT_USED_KEY, name);
      }
    }
  };
  return {
    of: (type, require = []) => byName(queueName(type, require)),
    async register(type, require, o) {
      if (require.length === 0) return;
      const name = queueName(type, require);
      const now = Date.now();
      const tenantKey = requirementTenantKey(o.tenant);
      // A set new to this tenant counts against its own quota (its unused sets are freed first),
      // so no tenant can use up the registry's slots for everyone (issue #12 point 3).
      if (!o.force && (await conn.zscore(tenantKey, name)) === null && (await conn.zcard(tenantKey)) >= limits.perTenant) {
        await freeTenant(o.tenant, now);
        if ((await conn.zcard(tenantKey)) >= limits.perTenant) {
          throw new InvalidOptionsError(`this tenant already uses ${limits.perTenant} distinct options.require sets (MEDIANODE_REQUIRE_SETS_PER_TENANT); reuse one of them`, { require });
        }
      }
      await conn.zadd(tenantKey, now, name);
      await conn.hset(REQUIREMENT_USED_KEY, name, now);
      // A known set costs a few round trips; only a new one is counted against the cap.
      if ((await conn.sadd(REQUIREMENT_QUEUES_KEY, name)) === 0) return;
      if ((await conn.scard(REQUIREMENT_QUEUES_KEY)) > MAX_REQUIREMENT_QUEUES) await freeRegistry(now);
      if (!o.force && (await conn.scard(REQUIREMENT_QUEUES_KEY)) > MAX_REQUIREMENT_QUEUES) {
        await conn.srem(REQUIREMENT_QUEUES_KEY, name);
        await conn.zrem(tenantKey, name);
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

/**
 * True when `token` holds the BullMQ lock of job `bullId` in `queue` now: the lock key exists
 * only while the job is active, and holds the token of the worker that took it.
 */
export async function holdsLock(redis: IORedis, queue: Queue, bullId: string, token: string): Promise<boolean> {
  if (!token) return false;
  return (await redis.get(queue.toKey(`${bullId}:lock`))) === token;
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

export const TypeCounts = T.Object({
  waiting: T.Integer(),
  active: T.Integer(),
  delayed: T.Integer(),
  failed: T.Integer(),
  completed: T.Integer(),
  paused: T.Boolean(),
});
export type TypeCounts = Static<typeof TypeCounts>;

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
