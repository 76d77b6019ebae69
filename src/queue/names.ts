import type { JobType } from "../config/schema";

/** Every Redis key BullMQ writes starts with this. */
export const QUEUE_PREFIX = "medianode";

/** One BullMQ queue per job kind, so each kind has its own concurrency and can be paused alone. */
export function queueName(type: JobType): string {
  return `jobs-${type}`;
}

/** Redis pub/sub channel for control messages (cancel) between api and workers. */
export const CONTROL_CHANNEL = `${QUEUE_PREFIX}:control`;
