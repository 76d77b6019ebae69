// SPEC §8 "Redis down for 30 s" (redis-down.test.ts covers a sub-second outage of an
// in-process node). 30 s is longer than a job's lock (20 s), which is what a short outage
// never exercises: a separate `medianode worker` process is mid-encode when Redis dies and
// comes back (from its append-only file) with that lock expired. The worker and the api node
// must reconnect by themselves; the job caught mid-run and one waiting behind it both
// complete, each recorded once; a job submitted after the outage runs too.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { corpus } from "../helpers/corpus";
import { startTestRedis, type TestRedis } from "../helpers/redis";
import { exitWithin, makeClip, spawnNode, waitForFfmpeg, workerId, type NodeProcess } from "../helpers/processes";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";
import { tempDir } from "../helpers/tmp";

const OUTAGE_MS = 30_000;
let redis: TestRedis;
let api: TestNode;
let worker: NodeProcess;
const dir = tempDir();
const clip = join(dir.path, "clip.mp4");

beforeAll(async () => {
  makeClip(clip, 12, "640x360");
  // Persistence on, as the embedded Redis runs: the outage loses no data, only time.
  redis = await startTestRedis(["--appendonly", "yes", "--appendfsync", "always"]);
  api = await startTestNode({ MEDIANODE_ROLES: "api" }, { redis, dataDir: dir.path });
  worker = await spawnNode(["worker", "--concurrency", "video=1", "--data-dir", dir.path], { REDIS_URL: redis.url });
}, 60_000);
afterAll(async () => {
  if (worker?.proc.exitCode === null) worker.proc.kill("SIGKILL");
  await worker?.proc.exited;
  await api.stop();
  await redis.stop();
  dir.remove();
});

const submit = async () => {
  const opts = encodeURIComponent(JSON.stringify({ renditions: [360], preset: "veryfast", remux: false }));
  const r = await api.api(`/v1/jobs?type=video&options=${opts}`, { method: "POST", body: Bun.file(clip) });
  expect(r.status).toBe(202);
  return ((await r.json()) as { id: string }).id;
};

test("Redis down for 30 s mid-encode: everything reconnects by itself; the running and the waiting job complete once each", async () => {
  const running = await submit();
  await waitForFfmpeg(running);
  const waiting = await submit();

  redis.kill();
  const downAt = Date.now();
  await Bun.sleep(1000);
  expect((await api.api("/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-jpeg-1x1.jpg").path) })).status).toBe(503);
  expect((await fetch(api.url + "/readyz")).status).toBe(503);
  await Bun.sleep(OUTAGE_MS - (Date.now() - downAt));
  expect(worker.proc.exitCode).toBeNull();
  await redis.restart();

  for (const id of [running, waiting]) {
    const done = (await waitForJob(api, id, 120_000)) as unknown as { status: string; outputs: { name: string }[] };
    expect(done.status).toBe("completed");
    expect((await api.api(`/v1/jobs/${id}/outputs/master.m3u8`)).status).toBe(200);
  }
  // After the outage, new work flows again through the same worker process.
  const after = await submit();
  const done = (await waitForJob(api, after, 60_000)) as unknown as { status: string; node: string };
  expect({ status: done.status, node: done.node }).toEqual({ status: "completed", node: workerId(worker) });
  // One terminal record each, however many times the interrupted job was started.
  const list = (await (await api.api("/v1/jobs?limit=500")).json()) as { items: { id: string; status: string }[] };
  expect(list.items.map((j) => j.status)).toEqual(["completed", "completed", "completed"]);
  const metrics = await (await fetch(api.url + "/metrics")).text();
  expect(metrics).toContain('medianode_jobs_total{type="video",status="completed"} 3');
  expect((await fetch(api.url + "/readyz")).status).toBe(200);

}, 170_000);

test("SIGTERM while Redis is down: the worker still exits 0, promptly", async () => {
  redis.kill();
  await Bun.sleep(500);
  worker.proc.kill("SIGTERM");
  // Nothing waits forever on a Redis that is not there (offline queues, BullMQ close()).
  expect(await exitWithin(worker, 20_000)).toBe(0);
  await redis.restart();
}, 60_000);
