// SPEC §8: a job that got a 202 is never lost when its worker is SIGKILLed mid-job:
// another worker finishes it, with one terminal record, and the dead worker's ffmpeg is gone.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { startTestRedis, type TestRedis } from "../helpers/redis";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";
import { tempDir } from "../helpers/tmp";

let redis: TestRedis;
let api: TestNode;
const dir = tempDir();
const clip = join(dir.path, "clip.mp4");
const fixture = join(import.meta.dir, "fixtures/worker-process.ts");

beforeAll(async () => {
  const r = Bun.spawnSync(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25", "-f", "lavfi", "-i", "sine", "-t", "20", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-y", clip]);
  expect(r.exitCode).toBe(0);
  redis = await startTestRedis();
  api = await startTestNode({ MEDIANODE_ROLES: "api" }, { redis, dataDir: dir.path });
}, 120_000);
afterAll(async () => {
  await api.stop();
  await redis.stop();
  dir.remove();
});

const spawnWorker = () =>
  Bun.spawn([process.execPath, fixture], {
    env: { ...process.env, REDIS_URL: redis.url, MEDIANODE_DATA_DIR: dir.path, MEDIANODE_LOG_LEVEL: "error" },
    stdout: "pipe",
    stderr: "inherit",
  });
const ready = async (p: ReturnType<typeof spawnWorker>) => {
  const r = p.stdout.getReader();
  const line = new TextDecoder().decode((await r.read()).value);
  expect(line).toStartWith("ready ");
  return line.trim().split(" ")[1]!;
};
const pids = (pattern: string) => Bun.spawnSync(["pgrep", "-f", pattern]).stdout.toString().split("\n").filter(Boolean).map(Number);

test("a worker SIGKILLed mid-job: another worker finishes it; one terminal record; no orphan ffmpeg", async () => {
  const first = spawnWorker();
  const firstId = await ready(first);
  const opts = encodeURIComponent(JSON.stringify({ renditions: [480, 360], preset: "veryfast", remux: false }));
  const job = (await (await api.api(`/v1/jobs?type=video&options=${opts}`, { method: "POST", body: Bun.file(clip) })).json()) as { id: string };
  for (let i = 0; i < 300 && pids(`ffmpeg.*${job.id}`).length === 0; i++) await Bun.sleep(50);
  expect(pids(`ffmpeg.*${job.id}`).length).toBeGreaterThan(0);
  const running = (await (await api.api(`/v1/jobs/${job.id}`)).json()) as { status: string; node: string };
  expect(running.node).toBe(firstId);

  first.kill("SIGKILL");
  await first.exited;
  const killedAt = Date.now();
  while (pids(`ffmpeg.*${job.id}`).length > 0 && Date.now() - killedAt < 5000) await Bun.sleep(100);
  expect(pids(`ffmpeg.*${job.id}`)).toEqual([]);

  const second = spawnWorker();
  const secondId = await ready(second);
  try {
    const done = (await waitForJob(api, job.id, 120_000)) as unknown as { status: string; node: string; outputs: { name: string }[]; attempts: number };
    expect(done.status).toBe("completed");
    expect(done.node).toBe(secondId);
    // Back within lock + stall check (30 s), plus the job's own time.
    expect(Date.now() - killedAt).toBeLessThan(60_000 + 30_000);
    expect(done.outputs.map((o) => o.name)).toContain("master.m3u8");
    const master = await api.api(`/v1/jobs/${job.id}/outputs/master.m3u8`);
    expect(master.status).toBe(200);
    // One record: the job is listed once, completed.
    const list = (await (await api.api("/v1/jobs?limit=500")).json()) as { items: { id: string; status: string }[] };
    expect(list.items.filter((j) => j.id === job.id).map((j) => j.status)).toEqual(["completed"]);
  } finally {
    second.kill("SIGTERM");
    await second.exited;
  }
}, 180_000);
