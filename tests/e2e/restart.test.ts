import { afterAll, beforeAll, expect, test } from "bun:test";
import { loadConfig } from "../../src/config/load";
import { createLogger } from "../../src/log";
import { startServe } from "../../src/roles/serve";
import { newJobId } from "../../src/ids";
import { corpus } from "../helpers/corpus";
import { startTestRedis, type TestRedis } from "../helpers/redis";
import { startTestNode, testStore, waitForJob } from "../helpers/server";

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis.stop();
});

const log = createLogger({ level: "error" });
const post = (t: { api: (p: string, i?: RequestInit) => Promise<Response> }, file: string, type: string) =>
  t.api(`/v1/jobs?type=${type}`, { method: "POST", body: Bun.file(file), headers: { "content-type": "application/octet-stream" } });

test("a restart with the same data dir keeps every job, finished or not", async () => {
  const dir = await testStore();
  const a = await startTestNode({ ...dir.overrides, MEDIANODE_CONCURRENCY: "image=0" }, { redis, dataDir: dir.dataDir });
  const done = (await (await post(a, corpus("image-webp-lossy.webp").path, "probe")).json()) as { id: string };
  await waitForJob(a, done.id);
  // image=0: nobody consumes images, so these stay queued across the restart.
  const queued: string[] = [];
  for (let i = 0; i < 3; i++) queued.push(((await (await post(a, corpus("image-jpeg-1x1.jpg").path, "image")).json()) as { id: string }).id);
  await a.stop();

  const b = await startTestNode(dir.overrides, { redis, dataDir: dir.dataDir });
  try {
    expect(b.token).toBe(a.token);
    const first = (await (await b.api(`/v1/jobs/${done.id}`)).json()) as { status: string; result: { format: string } };
    expect(first.status).toBe("completed");
    expect(first.result.format).toContain("webp");
    for (const id of queued) expect((await waitForJob(b, id)).status).toBe("completed");
  } finally {
    await b.stop();
    await dir.remove();
  }
});

test("a report made while the api is down still lands when it comes back", async () => {
  const dir = await testStore();
  const env = { REDIS_URL: redis.url, MEDIANODE_DATA_DIR: dir.dataDir, MEDIANODE_PORT: "0", MEDIANODE_LOG_LEVEL: "error", ...dir.overrides };
  const apiOnly = await startTestNode({ ...dir.overrides, MEDIANODE_ROLES: "api" }, { redis, dataDir: dir.dataDir });
  const job = (await (await post(apiOnly, corpus("image-png-palette.png").path, "image")).json()) as { id: string; status: string };
  expect(job.status).toBe("queued");
  await apiOnly.stop();

  // Only a worker now: it finishes the job and reports through Redis to nobody.
  const worker = await startServe(loadConfig({ env: { ...env, MEDIANODE_ROLES: "worker" }, file: "/nonexistent" }), log);
  const q = await import("bullmq");
  const queue = new q.Queue("jobs-image", { connection: redis.client(), prefix: "medianode" });
  for (let i = 0; i < 400 && (await (await queue.getJob(`${job.id}-r1`))?.getState()) !== "completed"; i++) await Bun.sleep(50);
  await queue.close();
  await worker.stop(1000);
  const records = await dir.open();
  expect((await records.jobs.get(job.id))!.status).toBe("queued");
  await records.close();

  const back = await startTestNode({ ...dir.overrides, MEDIANODE_ROLES: "api" }, { redis, dataDir: dir.dataDir });
  try {
    const j = (await (await back.api(`/v1/jobs/${job.id}`)).json()) as { status: string; outputs: unknown[]; node: string; startedAt: string | null; finishedAt: string | null };
    expect(j.status).toBe("completed");
    expect(j.outputs.length).toBe(2);
    expect(j.node).toBe(worker.nodeId);
    // Its start, never reported to anyone, is recorded too (job.active before job.completed), at the worker's start.
    expect(j.startedAt).not.toBeNull();
    expect(Date.parse(j.startedAt!)).toBeLessThanOrEqual(Date.parse(j.finishedAt!));
  } finally {
    await back.stop();
    await dir.remove();
  }
});

test("a row written but never enqueued (crash between the two) is enqueued at start", async () => {
  const dir = await testStore();
  const a = await startTestNode({ ...dir.overrides, MEDIANODE_ROLES: "api", MEDIANODE_IMPORT_DIRS: corpus("image-jpeg-1x1.jpg").path.replace(/[^/]+$/, "") }, { redis, dataDir: dir.dataDir });
  await a.stop();
  const records = await dir.open();
  const id = newJobId();
  await records.jobs.insertMany([{
    id,
    tenant: "admin",
    tokenId: null,
    type: "probe",
    priority: 0,
    source: { kind: "path", path: corpus("audio-wav-pcm-s16le.wav").path },
    options: {},
    metadata: null,
    webhook: null,
    idempotencyKey: null,
    maxAttempts: 3,
    now: Date.now(),
  }]);
  await records.close();
  const b = await startTestNode({ ...dir.overrides, MEDIANODE_IMPORT_DIRS: corpus("image-jpeg-1x1.jpg").path.replace(/[^/]+$/, "") }, { redis, dataDir: dir.dataDir });
  try {
    expect((await waitForJob(b, id)).status).toBe("completed");
  } finally {
    await b.stop();
    await dir.remove();
  }
});

test("Redis losing its data: every open job is re-enqueued from the records and completes", async () => {
  const own = await startTestRedis();
  const dir = await testStore();
  const a = await startTestNode({ ...dir.overrides, MEDIANODE_CONCURRENCY: "image=0" }, { redis: own, dataDir: dir.dataDir });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push(((await (await post(a, corpus("image-jpeg-1x1.jpg").path, "image")).json()) as { id: string }).id);
  await a.stop();
  await own.client().flushall();
  const b = await startTestNode(dir.overrides, { redis: own, dataDir: dir.dataDir });
  try {
    for (const id of ids) expect((await waitForJob(b, id)).status).toBe("completed");
  } finally {
    await b.stop();
    await own.stop();
    await dir.remove();
  }
});
