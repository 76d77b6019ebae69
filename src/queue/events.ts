// BullMQ's per-queue event stream, as the recorder reads it.
import { QueueEvents } from "bullmq";
import type IORedis from "ioredis";
import { QUEUE_PREFIX } from "./names";

/**
 * `fromStart`: read the queue's stream from its first event (a queue registered while the
 * reader runs may have had jobs added and run before it was ready); otherwise from "now".
 */
export function createQueueEvents(name: string, conn: IORedis, o: { fromStart: boolean }): QueueEvents {
  return new QueueEvents(name, { connection: conn, prefix: QUEUE_PREFIX, ...(o.fromStart ? { lastEventId: "0-0" } : {}) });
}
