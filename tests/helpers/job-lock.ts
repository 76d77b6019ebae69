// Takes a queued job the way a worker does (BullMQ getNextJob with a lock token), so a test can
// act as the legitimate holder of a run: the worker store accepts uploads only from it.
import { randomUUID } from "node:crypto";
import { Worker, type Job } from "bullmq";
import IORedis from "ioredis";
import type { JobType } from "../../src/jobs/schema";
import { QUEUE_PREFIX, queueName } from "../../src/queue/names";

export interface HeldJob {
  token: string;
  job: Job;
  release(): Promise<void>;
}

export async function holdNextJob(redisUrl: string, type: JobType, timeoutMs = 10_000): Promise<HeldJob> {
  const connection = new IORedis(redisUrl, { maxRetriesPerRequest: null });
  // autorun off: no processing loop and no stall checker; a long lock so the test keeps it.
  const worker = new Worker(queueName(type), null, { connection, prefix: QUEUE_PREFIX, autorun: false, lockDuration: 600_000 });
  const token = randomUUID();
  const until = Date.now() + timeoutMs;
  for (;;) {
    const job = (await worker.getNextJob(token, { block: false })) as Job | undefined;
    if (job) {
      return {
        token,
        job,
        async release() {
          await worker.close(true).catch(() => {});
          connection.disconnect();
        },
      };
    }
    if (Date.now() > until) {
      await worker.close(true);
      connection.disconnect();
      throw new Error(`no ${type} job to take within ${timeoutMs} ms`);
    }
    await Bun.sleep(100);
  }
}
