// Which queues this worker consumes (SPEC §2, options.require): each job type's own queue,
// plus every requirement queue of the type whose capabilities this node has all of, found
// in the registry at start and while running (queue/requirement-queues.ts), without a restart.
//
// MEDIANODE_CONCURRENCY stays a per-type limit across all of a type's queues: one slot gate
// per type. When the type's slots are full, its Workers stop fetching (pause without waiting);
// a job fetched in the instant before that waits for a slot, holding its lock, instead of
// running over the limit. A paused Worker also stops its stall checks; a dead node's job in
// such a queue comes back once a slot here frees (or from any node with a free slot), which
// is the soonest it could run anyway. With only the type queue nothing is ever paused.
import { Worker, type Job, type WorkerOptions } from "bullmq";
import type IORedis from "ioredis";
import type { JobType } from "../jobs/schema";
import type { Logger } from "../log";
import { covers } from "../nodes/capabilities";
import { settleWithin } from "./connection";
import { QUEUE_PREFIX, queueName } from "./names";
import type { WorkItem, WorkResult } from "./payload";
import { watchRequirementQueues } from "./requirement-queues";

export type Processor = (job: Job<WorkItem, WorkResult>, token?: string, signal?: AbortSignal) => Promise<WorkResult>;

export interface ConsumerDeps {
  /** Shared by the Workers (BullMQ duplicates it for its blocking reads). */
  connection: IORedis;
  /** A plain connection for registry reads, and one that becomes a subscriber. */
  redis: IORedis;
  sub: IORedis;
  /** Job type → slots; types not listed (or 0) are not consumed. */
  concurrency: Partial<Record<JobType, number>>;
  capabilities: ReadonlySet<string>;
  processor(type: JobType): Processor;
  workerOptions: Omit<WorkerOptions, "connection" | "prefix" | "concurrency">;
  /** BullMQ could not renew these jobs' locks: another worker may take them over. */
  onLockLost(bullIds: string[]): void;
  log: Logger;
}

export interface Consumers {
  /** Names of the queues consumed now. */
  names(): string[];
  /**
   * Stops fetching at once (it also drops the blocking BRPOP/BZPOPMIN, so nothing is taken after
   * this). Not awaited: it resolves only through that blocking connection, which hangs while
   * Redis is down. Running jobs go on.
   */
  pause(): void;
  /** Closes every Worker once its processors return; false if that took longer than `ms`. */
  close(ms: number): Promise<boolean>;
}

interface Gate {
  limit: number;
  busy: number;
  waiters: (() => void)[];
  workers: Worker<WorkItem, WorkResult>[];
}

export async function startConsumers(deps: ConsumerDeps): Promise<Consumers> {
  const gates = new Map<JobType, Gate>();
  let stopping = false;

  const acquire = async (g: Gate) => {
    if (g.busy < g.limit) {
      g.busy++;
      if (g.busy >= g.limit && g.workers.length > 1) for (const w of g.workers) void w.pause(true).catch(() => {});
      return;
    }
    await new Promise<void>((resolve) => g.waiters.push(resolve));
  };
  const release = (g: Gate) => {
    const next = g.waiters.shift();
    if (next) return next(); // the slot passes straight on
    g.busy--;
    if (!stopping && g.workers.length > 1 && g.busy < g.limit) for (const w of g.workers) if (w.isPaused()) void w.resume();
  };

  const consume = (type: JobType, name: string) => {
    const g = gates.get(type)!;
    const inner = deps.processor(type);
    const w = new Worker<WorkItem, WorkResult>(
      name,
      async (job, token, signal) => {
        await acquire(g);
        try {
          return await inner(job, token, signal);
        } finally {
          release(g);
        }
      },
      { ...deps.workerOptions, connection: deps.connection, prefix: QUEUE_PREFIX, concurrency: g.limit, autorun: true },
    );
    w.on("error", (e) => deps.log.warn("worker error (BullMQ reconnects by itself)", { type, queue: name, error: e }));
    w.on("lockRenewalFailed", (bullIds: string[]) => deps.onLockLost(bullIds));
    // A queue found while the type's slots are full starts paused like its siblings.
    if (g.workers.length > 0 && g.busy >= g.limit) void w.pause(true).catch(() => {});
    g.workers.push(w);
  };

  for (const [type, n] of Object.entries(deps.concurrency) as [JobType, number][]) {
    if (!n) continue;
    gates.set(type, { limit: n, busy: 0, waiters: [], workers: [] });
    consume(type, queueName(type));
  }
  const watch = await watchRequirementQueues(deps.redis, deps.sub, (q) => {
    if (stopping || !gates.has(q.type) || !covers(deps.capabilities, q.require)) return;
    deps.log.info("consuming requirement queue", { queue: q.name, require: q.require });
    consume(q.type, q.name);
  });

  const all = () => [...gates.values()].flatMap((g) => g.workers);
  return {
    names: () => all().map((w) => w.name),
    pause() {
      stopping = true;
      watch.stop();
      for (const w of all()) void w.pause(false).catch(() => {});
    },
    // Bounded: a processor stuck on Redis (down while we stop) must not hold the exit. BullMQ's
    // close() is memoised, so a second close would only wait on the same promise.
    close: (ms) => settleWithin(ms, Promise.all(all().map((w) => w.close()))),
  };
}
