// SPEC §8 / issue 7 "Lost lock": a worker cut off from Redis longer than its lock (here:
// SIGSTOPped) while another worker takes the job over must, when it comes back, kill its
// ffmpeg and never move its attempt's outputs into place. And the other side of the same
// setting: a live worker busy with an encode many times its lock keeps the job.
// MEDIANODE_LOCK_SEC is lowered so a takeover takes seconds, not 30 s.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "bullmq";
import { QUEUE_PREFIX, queueName } from "../../src/queue/names";
import { bullJobId } from "../../src/queue/queues";
import { startTestRedis, type TestRedis } from "../helpers/redis";
import { exitWithin, makeClip, pids, spawnNode, waitForFfmpeg, workerId, type NodeProcess } from "../helpers/processes";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";
import { tempDir } from "../helpers/tmp";

const LOCK_SEC = 2;
let redis: TestRedis;
let api: TestNode;
let queue: Queue;
const dir = tempDir();
const clip = join(dir.path, "clip.mp4");
const spawned: NodeProcess[] = [];

beforeAll(async () => {
  makeClip(clip, 30);
  redis = await startTestRedis();
  api = await startTestNode({ MEDIANODE_ROLES: "api" }, { redis, dataDir: dir.path });
  queue = new Queue(queueName("video"), { connection: redis.client(), prefix: QUEUE_PREFIX });
}, 120_000);
afterAll(async () => {
  for (const p of spawned) {
    try {
      process.kill(p.proc.pid, "SIGCONT");
    } catch {
      // already gone
    }
    if (p.proc.exitCode === null) p.proc.kill("SIGKILL");
  }
  await Promise.all(spawned.map((p) => p.proc.exited));
  await queue.close();
  await api.stop();
  await redis.stop();
  dir.remove();
});

const worker = async () => {
  const p = await spawnNode(["worker", "--concurrency", "video=1", "--data-dir", dir.path], { REDIS_URL: redis.url, MEDIANODE_LOCK_SEC: String(LOCK_SEC), MEDIANODE_SHUTDOWN_GRACE_SEC: "1" });
  spawned.push(p);
  return p;
};
const submit = async (o: { renditions: number[]; preset: string } = { renditions: [480, 360], preset: "veryfast" }) => {
  const opts = encodeURIComponent(JSON.stringify({ ...o, remux: false }));
  const r = await api.api(`/v1/jobs?type=video&options=${opts}`, { method: "POST", body: Bun.file(clip) });
  expect(r.status).toBe(202);
  return ((await r.json()) as { id: string }).id;
};
type JobView = { status: string; node: string; attempts: number; outputs: { name: string; bytes: number }[] };
const signal = (pid: number, s: "SIGSTOP" | "SIGCONT") => process.kill(pid, s);
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/\) Z /.test(Bun.spawnSync(["cat", `/proc/${pid}/stat`]).stdout.toString());
async function until(what: string, ok: () => boolean | Promise<boolean>, ms: number) {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await Bun.sleep(50);
  }
}
const stop = async (...ws: NodeProcess[]) => {
  for (const w of ws) w.proc.kill("SIGTERM");
  for (const w of ws) expect(await exitWithin(w, 30_000)).toBe(0);
};
/** Every listed output is served whole (its bytes as recorded). */
async function expectWholeOutputs(id: string, job: JobView) {
  expect(job.outputs.map((o) => o.name)).toContain("master.m3u8");
  for (const o of job.outputs) {
    const r = await api.api(`/v1/jobs/${id}/outputs/${o.name}`);
    expect(r.status).toBe(200);
    expect((await r.arrayBuffer()).byteLength).toBe(o.bytes);
  }
}

test("a live worker busy with an encode many times its lock keeps the job", async () => {
  const first = await worker();
  const id = await submit({ renditions: [720, 480, 360], preset: "veryfast" });
  await waitForFfmpeg(id);
  const started = Date.now();
  const second = await worker();
  try {
    const done = (await waitForJob(api, id, 120_000)) as unknown as JobView;
    // The encode ran for several lock periods while another worker was polling the queue.
    expect(Date.now() - started).toBeGreaterThan(3 * LOCK_SEC * 1000);
    expect(done.status).toBe("completed");
    expect(done.node).toBe(workerId(first));
    const bull = await queue.getJob(bullJobId(id, 1));
    expect({ started: bull!.attemptsStarted, stalled: bull!.stalledCounter }).toEqual({ started: 1, stalled: 0 });
    await expectWholeOutputs(id, done);
  } finally {
    await stop(first, second);
  }
}, 150_000);

for (const how of ["its ffmpeg still encoding", "its ffmpeg already done"] as const) {
  test(`a worker frozen past its lock comes back (${how}): it drops its attempt, the new owner's outputs stand`, async () => {
    const first = await worker();
    const id = await submit();
    const mine = await waitForFfmpeg(id);
    // Cut off: the worker process stops (no lock renewals); its ffmpeg too, or not.
    signal(first.proc.pid, "SIGSTOP");
    if (how === "its ffmpeg still encoding") for (const p of mine) signal(p, "SIGSTOP");

    const second = await worker();
    try {
      await until("the second worker takes the job over", () => pids(`ffmpeg.*${id}`).some((p) => !mine.includes(p)), 60_000);
      const theirs = pids(`ffmpeg.*${id}`).filter((p) => !mine.includes(p));
      if (how === "its ffmpeg already done") await until("the frozen worker's ffmpeg finishes", () => mine.every((p) => !alive(p)), 90_000);
      // Hold the new owner still, so what the first worker does when it wakes is seen alone.
      for (const p of theirs) signal(p, "SIGSTOP");
      const attempts = join(dir.path, "media", id, "attempts");
      expect(readdirSync(attempts).length).toBe(2);
      for (const p of mine) if (alive(p)) signal(p, "SIGCONT");
      signal(first.proc.pid, "SIGCONT");

      // It notices the lost lock: its ffmpeg is killed and its attempt folder removed...
      await until("the first worker's ffmpeg is gone", () => mine.every((p) => !alive(p)), 5000);
      await until("the first worker drops its attempt", () => readdirSync(attempts).length === 1, 5000);
      // ...and nothing was moved into place over the job that is now the second worker's.
      expect(existsSync(join(dir.path, "media", id, "out"))).toBe(false);
      for (const p of theirs) signal(p, "SIGCONT");

      const done = (await waitForJob(api, id, 120_000)) as unknown as JobView;
      expect(done.status).toBe("completed");
      expect(done.node).toBe(workerId(second));
      expect(done.attempts).toBe(1);
      const list = (await (await api.api("/v1/jobs?limit=500")).json()) as { items: { id: string; status: string }[] };
      expect(list.items.filter((j) => j.id === id).map((j) => j.status)).toEqual(["completed"]);
      await expectWholeOutputs(id, done);
      // The first worker is still a working node after the episode.
      expect(first.proc.exitCode).toBeNull();
    } finally {
      await stop(first, second);
    }
  }, 170_000);
}
