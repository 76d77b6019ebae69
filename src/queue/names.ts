import { JOB_TYPES, type JobType } from "../jobs/schema";

/** Every Redis key BullMQ writes starts with this. */
export const QUEUE_PREFIX = "medianode";

/** Between a job type and its requirement in a queue name; no capability contains it (CAPABILITY_PATTERN). */
const REQUIRE_SEP = "@";

/**
 * The one place a queue is named. One BullMQ queue per job kind, so each kind has its own
 * concurrency and can be paused alone; a job with `options.require` goes to its kind's
 * queue for that requirement set (`jobs-video@gpu,libsvtav1`), which only nodes having
 * every capability consume. Order and repeats in `require` do not matter.
 */
export function queueName(type: JobType, require: readonly string[] = []): string {
  if (require.length === 0) return `jobs-${type}`;
  return `jobs-${type}${REQUIRE_SEP}${[...new Set(require)].sort().join(",")}`;
}

/** The inverse of queueName; null for a name it did not make. */
export function parseQueueName(name: string): { type: JobType; require: string[] } | null {
  const m = /^jobs-([a-z]+)(?:@([a-z0-9_,-]+))?$/.exec(name);
  const type = JOB_TYPES.find((t) => t === m?.[1]);
  if (!m || !type) return null;
  const require = m[2] ? m[2].split(",") : [];
  if (require.some((c) => c === "") || queueName(type, require) !== name) return null;
  return { type, require };
}

/**
 * Redis set of every requirement queue ever submitted to (members are queue names): workers
 * and the api role read it to find the queues they must consume or watch.
 */
export const REQUIREMENT_QUEUES_KEY = `${QUEUE_PREFIX}:requirement-queues`;
/** Hash: requirement queue name → when a job was last submitted to it (ms), to find unused ones. */
export const REQUIREMENT_USED_KEY = `${QUEUE_PREFIX}:requirement-queues:used`;
/** Sorted set per tenant: the requirement queues it uses, scored by last use (ms). */
export const requirementTenantKey = (tenant: string) => `${QUEUE_PREFIX}:requirement-queues:tenant:${tenant}`;
/** Pub/sub hint sent when a requirement queue is added to the set, so nobody waits for the next re-read. */
export const REQUIREMENT_QUEUES_CHANNEL = `${QUEUE_PREFIX}:requirement-queues`;

/** Redis pub/sub channel for control messages (cancel) between api and workers. */
export const CONTROL_CHANNEL = `${QUEUE_PREFIX}:control`;

/**
 * Redis pub/sub channel of every job and queue event the api role records: monitor nodes
 * (the WebSocket stream) read it, whichever host they run on (SPEC §1, §11).
 */
export const EVENTS_CHANNEL = `${QUEUE_PREFIX}:events`;
