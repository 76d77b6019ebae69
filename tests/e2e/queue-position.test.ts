// live.position (SPEC §2): with one worker slot and jobs queued behind, each job's position
// counts priority, is in its view, and falls as the jobs ahead start (job.progress events of
// a job still queued: status "queued", data.position).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load";
import { createLogger } from "../../src/log";
import { startServe } from "../../src/roles/serve";
import { startTestRedis, type TestRedis } from "../helpers/redis";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";
import { tempDir } from "../helpers/tmp";
import { wsConnect } from "../helpers/ws";

let redis: TestRedis;
let api: TestNode;
const dir = tempDir();
const clip = join(dir.path, "clip.mp4");

beforeAll(async () => {
  const r = Bun.spawnSync(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine", "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-y", clip]);
  expect(r.exitCode).toBe(0);
  redis = await startTestRedis();
  // No worker yet: the jobs wait, in a known order.
  api = await startTestNode({ MEDIANODE_ROLES: "api,monitor" }, { redis, dataDir: join(dir.path, "data") });
}, 60_000);
afterAll(async () => {
  await api?.stop();
  await redis?.stop();
  dir.remove();
});

type View = { id: string; status: string; live?: { position?: number } };
const post = async (priority: number) => {
  const opts = encodeURIComponent(JSON.stringify({ renditions: [240], preset: "veryfast" }));
  const r = await api.api(`/v1/jobs?type=video&priority=${priority}&options=${opts}`, { method: "POST", body: Bun.file(clip) });
  expect(r.status).toBe(202);
  return (await r.json()) as View;
};
const view = async (id: string) => (await (await api.api(`/v1/jobs/${id}`)).json()) as View;

test("positions count priority, stay in the view, and fall as the jobs ahead start (one slot, jobs queued behind)", async () => {
  const a = await post(0);
  const b = await post(0);
  const c = await post(0);
  const urgent = await post(50);
  const order = [urgent, a, b, c];
  // Computed from the queue's own events, a moment after the adds.
  let seen: (number | undefined)[] = [];
  for (let i = 0; i < 100; i++) {
    seen = await Promise.all(order.map(async (j) => (await view(j.id)).live?.position));
    if (seen.every((p) => p !== undefined)) break;
    await Bun.sleep(100);
  }
  expect(seen).toEqual([1, 2, 3, 4]);
  const list = (await (await api.api("/v1/jobs?status=queued")).json()) as { items: View[] };
  expect(list.items.find((j) => j.id === c.id)!.live?.position).toBe(4);

  const events = await wsConnect(`${api.url.replace("http", "ws")}/v1/events?token=${api.token}`);
  const worker = await startServe(
    loadConfig({
      env: { REDIS_URL: redis.url, MEDIANODE_DATA_DIR: join(dir.path, "data"), MEDIANODE_PORT: "0", MEDIANODE_ROLES: "worker", MEDIANODE_CONCURRENCY: "video=1", MEDIANODE_LOG_LEVEL: "error" },
      file: "/nonexistent",
    }),
    createLogger({ level: "error" }),
  );
  try {
    for (const j of order) expect((await waitForJob(api, j.id, 120_000)).status).toBe("completed");
  } finally {
    await worker.stop(1000);
    events.close();
  }
  const mine = (id: string) => events.messages.filter((m) => m.jobId === id) as { type: string; status?: string; data?: { position?: number } }[];
  // They ran in position order: priority first, then in order of submission.
  const started = events.messages.filter((m) => m.type === "job.active").map((m) => m.jobId);
  expect(started).toEqual(order.map((j) => j.id));
  for (const [i, j] of order.entries()) {
    const ms = mine(j.id);
    const before = ms.slice(0, ms.findIndex((m) => m.type === "job.active"));
    const positions = before.filter((m) => m.type === "job.progress" && m.status === "queued" && m.data?.position !== undefined).map((m) => m.data!.position!);
    // Falling one by one as each job ahead started; 1 (next) before it started itself.
    for (let k = 1; k < positions.length; k++) expect(positions[k]!).toBeLessThan(positions[k - 1]!);
    if (i > 0) expect(positions.at(-1)).toBe(1);
    // The last one heard every step from 3 (once the urgent job started) down to 1.
    if (j === c) expect(positions).toEqual([3, 2, 1]);
  }
  // Once running or done, a job has no position.
  expect((await view(c.id)).live?.position).toBeUndefined();
}, 240_000);
