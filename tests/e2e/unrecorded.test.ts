// Issue 7 "enqueued but not written": a BullMQ job whose SQLite row does not exist (a crash
// after add before the row was kept, or a row taken back after a refused submission). The row
// is the record and the client never got a 202 for it, so the job is removed, never run:
// at start before the worker role takes anything, and by the periodic reconcile after.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "bullmq";
import { newJobId } from "../../src/ids";
import { QUEUE_PREFIX, queueName } from "../../src/queue/names";
import type { WorkItem } from "../../src/queue/payload";
import { bullJobId } from "../../src/queue/queues";
import { corpus } from "../helpers/corpus";
import { startTestRedis, type TestRedis } from "../helpers/redis";
import { startTestNode, waitForJob } from "../helpers/server";

let redis: TestRedis;
let queue: Queue<WorkItem>;
beforeAll(async () => {
  redis = await startTestRedis();
  queue = new Queue<WorkItem>(queueName("image"), { connection: redis.client(), prefix: QUEUE_PREFIX });
});
afterAll(async () => {
  await queue.close();
  await redis.stop();
});

/** What BullMQ would hold after the add of a submission whose row never made it. */
const addUnrecorded = async () => {
  const id = newJobId();
  const item: WorkItem = { id, run: 1, type: "image", tenant: "default", source: { kind: "path", path: corpus("image-jpeg-1x1.jpg").path }, options: {} };
  await queue.add("image", item, { jobId: bullJobId(id, 1) });
  return { id, bullId: bullJobId(id, 1) };
};

test("at start: a job in Redis without a row is removed before any worker runs it", async () => {
  const ghost = await addUnrecorded();
  const t = await startTestNode({}, { redis });
  try {
    expect(await queue.getJob(ghost.bullId)).toBeUndefined();
    // Never run: no folder, no outputs.
    expect(existsSync(join(t.dataDir, "media", ghost.id))).toBe(false);
    expect((await t.api(`/v1/jobs/${ghost.id}`)).status).toBe(404);
    // The node works as usual.
    const r = await t.api("/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-jpeg-1x1.jpg").path) });
    expect(r.status).toBe(202);
    expect((await waitForJob(t, ((await r.json()) as { id: string }).id)).status).toBe("completed");
  } finally {
    await t.stop();
  }
}, 60_000);

test("while running: the periodic reconcile removes one too, and leaves recorded jobs alone", async () => {
  // api only: nothing consumes images, so the recorded job stays queued (BullMQ: prioritized) next to the ghost.
  const t = await startTestNode({ MEDIANODE_ROLES: "api" }, { redis });
  try {
    const r = await t.api("/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-jpeg-1x1.jpg").path) });
    const kept = ((await r.json()) as { id: string }).id;
    const ghost = await addUnrecorded();
    for (let i = 0; i < 100 && (await queue.getJob(ghost.bullId)); i++) await Bun.sleep(100);
    expect(await queue.getJob(ghost.bullId)).toBeUndefined();
    expect(await (await queue.getJob(bullJobId(kept, 1)))?.getState()).toBe("prioritized");
  } finally {
    await t.stop();
  }
}, 60_000);
