// SPEC §8 SIGTERM: stop taking jobs, let running ones finish within the grace period (then
// hand them back so another node restarts them), flush, exit 0. Real `medianode worker` and
// `medianode serve` processes, a real video encode, a private Redis.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { startTestRedis, type TestRedis } from "../helpers/redis";
import { exitWithin, makeClip, spawnNode, waitForFfmpeg, waitNoFfmpeg, workerId, type NodeProcess } from "../helpers/processes";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";
import { tempDir } from "../helpers/tmp";

let redis: TestRedis;
let api: TestNode;
const dir = tempDir();
const shortClip = join(dir.path, "short.mp4");
const longClip = join(dir.path, "long.mp4");
const spawned: NodeProcess[] = [];

beforeAll(async () => {
  makeClip(shortClip, 6, "640x360");
  makeClip(longClip, 30);
  redis = await startTestRedis();
  api = await startTestNode({ MEDIANODE_ROLES: "api" }, { redis, dataDir: dir.path });
}, 120_000);
afterAll(async () => {
  for (const p of spawned) if (p.proc.exitCode === null) p.proc.kill("SIGKILL");
  await Promise.all(spawned.map((p) => p.proc.exited));
  await api.stop();
  await redis.stop();
  dir.remove();
});

const worker = async (graceSec: number, concurrency = "video=1") => {
  const p = await spawnNode(["worker", "--concurrency", concurrency, "--data-dir", dir.path], { REDIS_URL: redis.url, MEDIANODE_SHUTDOWN_GRACE_SEC: String(graceSec) });
  spawned.push(p);
  return p;
};
const submitVideo = async (clip: string, renditions: number[]) => {
  const opts = encodeURIComponent(JSON.stringify({ renditions, preset: "veryfast", remux: false }));
  const r = await api.api(`/v1/jobs?type=video&options=${opts}`, { method: "POST", body: Bun.file(clip) });
  expect(r.status).toBe(202);
  return ((await r.json()) as { id: string }).id;
};
type JobView = { status: string; node: string | null; attempts: number; outputs: { name: string }[] };
const getJob = async (id: string) => (await (await api.api(`/v1/jobs/${id}`)).json()) as JobView;
const records = async (id: string) => ((await (await api.api("/v1/jobs?limit=500")).json()) as { items: { id: string; status: string }[] }).items.filter((j) => j.id === id).map((j) => j.status);

test("worker SIGTERM mid-encode: takes no new job, finishes the running one, exits 0", async () => {
  // Room for two: the second job stays queued only because the worker stopped taking jobs.
  const w = await worker(120, "video=2");
  const id = workerId(w);
  const running = await submitVideo(shortClip, [360]);
  await waitForFfmpeg(running);
  w.proc.kill("SIGTERM");
  await Bun.sleep(200);
  // Submitted after the signal: the stopping worker must leave it in the queue.
  const later = await submitVideo(shortClip, [360]);

  expect(await exitWithin(w, 90_000)).toBe(0);
  expect(await w.stderr()).toContain("SIGTERM received, stopping (running jobs get up to 120 s");
  const done = await waitForJob(api, running, 10_000);
  expect(done.status).toBe("completed");
  expect(done.node).toBe(id);
  expect(done.attempts).toBe(1);
  expect(await records(running)).toEqual(["completed"]);
  expect((await getJob(later)).status).toBe("queued");
  expect((await api.api(`/v1/jobs/${running}/outputs/master.m3u8`)).status).toBe(200);

  // The queued job is not lost: the next worker runs it.
  const next = await worker(30);
  try {
    expect((await waitForJob(api, later, 90_000)).status).toBe("completed");
  } finally {
    next.proc.kill("SIGTERM");
    expect(await exitWithin(next, 30_000)).toBe(0);
  }
}, 170_000);

test("a grace period shorter than the job: the job is handed back and another worker finishes it", async () => {
  const first = await worker(1);
  const firstId = workerId(first);
  const job = await submitVideo(longClip, [480, 360]);
  await waitForFfmpeg(job);
  expect((await getJob(job)).node).toBe(firstId);
  first.proc.kill("SIGTERM");
  expect(await exitWithin(first, 20_000)).toBe(0);
  expect(await first.stderr()).toContain("handing running jobs back");
  // Its ffmpeg was killed, not orphaned.
  expect(await waitNoFfmpeg(job)).toEqual([]);

  const second = await worker(30);
  const secondId = workerId(second);
  try {
    const done = (await waitForJob(api, job, 150_000)) as unknown as JobView;
    expect(done.status).toBe("completed");
    expect(done.node).toBe(secondId);
    expect(done.outputs.map((o) => o.name)).toContain("master.m3u8");
    expect(await records(job)).toEqual(["completed"]);
  } finally {
    second.proc.kill("SIGTERM");
    expect(await exitWithin(second, 30_000)).toBe(0);
  }
}, 170_000);

test("serve SIGTERM mid-encode: finishes the job, records it once in SQLite, exits 0", async () => {
  const data = tempDir();
  try {
    const serve = await spawnNode(["serve", "--data-dir", data.path], { MEDIANODE_SHUTDOWN_GRACE_SEC: "120", MEDIANODE_CONCURRENCY: "video=1" });
    spawned.push(serve);
    const url = /serving on (\S+)/.exec(serve.banner)![1]!;
    const token = (await Bun.file(join(data.path, "admin.token")).text()).trim();
    const opts = encodeURIComponent(JSON.stringify({ renditions: [360], preset: "veryfast", remux: false }));
    const r = await fetch(`${url}/v1/jobs?type=video&options=${opts}`, { method: "POST", body: Bun.file(shortClip), headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(202);
    const { id } = (await r.json()) as { id: string };
    await waitForFfmpeg(id);
    serve.proc.kill("SIGTERM");
    expect(await exitWithin(serve, 90_000)).toBe(0);
    // Flushed before exit: the row is final without a restart.
    const db = new Database(join(data.path, "medianode.db"), { readonly: true });
    const rows = db.query("SELECT status, attempts FROM jobs WHERE id = ?").all(id) as { status: string; attempts: number }[];
    db.close();
    expect(rows).toEqual([{ status: "completed", attempts: 1 }]);
  } finally {
    data.remove();
  }
}, 120_000);
