// The delivery queue of every notification channel (webhook, email, webpush): one BullMQ job per delivery, retried with exponential backoff.
// What a delivery does is services/webhooks.ts's; this file only builds the queue and worker.
import { Queue, Worker, type Job } from "bullmq";
import type IORedis from "ioredis";
import { settleWithin } from "./connection";
import { QUEUE_PREFIX } from "./names";

export const WEBHOOK_QUEUE = "webhooks";

export interface DeliveryJob {
  deliveryId: string;
}

export interface DeliveryQueue {
  add(deliveryId: string, o: { attempts: number; backoffMs: number }): Promise<void>;
  close(): Promise<void>;
}

export function createDeliveryQueue(
  producer: IORedis,
  consumer: IORedis,
  deliver: (job: Job<DeliveryJob>, token?: string) => Promise<void>,
  /** lockMs: a dead node's delivery returns after it (and a stall check at half of it). */
  o: { concurrency: number; lockMs?: number; onError(e: Error): void },
): DeliveryQueue {
  const queue = new Queue<DeliveryJob>(WEBHOOK_QUEUE, { connection: producer, prefix: QUEUE_PREFIX });
  queue.on("error", () => {});
  const lock = o.lockMs ? { lockDuration: o.lockMs, stalledInterval: Math.round(o.lockMs / 2), maxStalledCount: 3 } : {};
  const worker = new Worker<DeliveryJob>(WEBHOOK_QUEUE, deliver, { connection: consumer, prefix: QUEUE_PREFIX, concurrency: o.concurrency, ...lock });
  worker.on("error", o.onError);
  return {
    async add(deliveryId, a) {
      await queue.add("deliver", { deliveryId }, { jobId: deliveryId, attempts: a.attempts, backoff: { type: "exponential", delay: a.backoffMs }, removeOnComplete: true, removeOnFail: { age: 7 * 86400 } });
    },
    async close() {
      await settleWithin(2000, Promise.all([worker.close(), queue.close()]));
    },
  };
}
