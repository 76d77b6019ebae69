import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load";
import { createLogger } from "../../src/log";
import { startServe } from "../../src/roles/serve";
import { openDb } from "../../src/store/db";
import { sqliteRecords } from "../../src/store/sqlite/index";
import { newJobId } from "../../src/ids";
import { corpus } from "../helpers/corpus";
import { startTestRedis, type TestRedis } from "../helpers/redis";
import { startTestNode, waitForJob } from "../helpers/server";
import { tempDir } from "../helpers/tmp";

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
  const dir = tempDir();
  const a = await startTestNode({ MEDIANODE_CONCURRENCY: "image=0" }, { redis, dataDir: dir.path });
  const done = (await (await post(a, corpus("image-webp-lossy.webp").path, "probe")).json()) as { id: string };
  await waitForJob(a, done.id);
  // image=0: nobody consumes images, so these stay queued across the restart.
  const queued: string[] = [];
  for (let i = 0; i < 3; i++) queued.push(((await (await post(a, corpus("image-jpeg-1x1.jpg").path, "image")).json()) as { id: string }).id);
  await a.stop();

  const b = await startTestNode({}, { redis, dataDir: dir.path });
  try {
    expect(b.token).toBe(a.token);
    const first = (await (await b.api(`/v1/jobs/${done.id}`)).json()) as { status: string; result: { format: string } };
    expect(first.status).toBe("completed");
    expect(first.result.format).toContain("webp");
    for (const id of queued) expect((await waitForJob(b, id)).status).toBe("completed");
  } finally {
    await b.stop();
    dir.remove();
  }
});

test("a report made while the api is down still lands when it comes back", async () => {
  const dir = tempDir();
  const env = { REDIS_URL: redis.url, MEDIANODE_DATA_DIR: dir.path, MEDIANODE_PORT: "0", MEDIANODE_LOG_LEVEL: "error" };
  const apiOnly = await startTestNode({ MEDIANODE_ROLES: "api" }, { redis, dataDir: dir.path });
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
  const db = openDb(join(dir.path, "medianode.db"));
  expect(db.query<{ status: string }, [string]>("SELECT status FROM jobs WHERE id = ?").get(job.id)!.status).toBe("queued");
  db.close();

  const back = await startTestNode({ MEDIANODE_ROLES: "api" }, { redis, dataDir: dir.path });
  try {
    const j = (await (await back.api(`/v1/jobs/${job.id}`)).json()) as { status: string; outputs: unknown[]; node: string };
    expect(j.status).toBe("completed");
    expect(j.outputs.length).toBe(2);
    expect(j.node).toBe(worker.nodeId);
  } finally {
    await back.stop();
    dir.remove();
  }
});

test("a row written but never enqueued (crash between the two) is enqueued at start", async () => {
  const dir = tempDir();
  const a = await startTestNode({ MEDIANODE_ROLES: "api", MEDIANODE_IMPORT_DIRS: corpus("image-jpeg-1x1.jpg").path.replace(/[^/]+$/, "") }, { redis, dataDir: dir.path });
  await a.stop();
  const db = openDb(join(dir.path, "medianode.db"));
  const id = newJobId();
  await sqliteRecords(db).jobs.insertMany([{
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
  db.close();
  const b = await startTestNode({ MEDIANODE_IMPORT_DIRS: corpus("image-jpeg-1x1.jpg").path.replace(/[^/]+$/, "") }, { redis, dataDir: dir.path });
  try {
    expect((await waitForJob(b, id)).status).toBe("completed");
  } finally {
    await b.stop();
    dir.remove();
  }
});

test("Redis losing its data: every open job is re-enqueued from SQLite and completes", async () => {
  const own = await startTestRedis();
  const dir = tempDir();
  const a = await startTestNode({ MEDIANODE_CONCURRENCY: "image=0" }, { redis: own, dataDir: dir.path });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push(((await (await post(a, corpus("image-jpeg-1x1.jpg").path, "image")).json()) as { id: string }).id);
  await a.stop();
  await own.client().flushall();
  const b = await startTestNode({}, { redis: own, dataDir: dir.path });
  try {
    for (const id of ids) expect((await waitForJob(b, id)).status).toBe("completed");
  } finally {
    await b.stop();
    await own.stop();
    dir.remove();
  }
});
