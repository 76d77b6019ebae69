import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { createToken } from "../../src/services/tokens";
import { corpus } from "../helpers/corpus";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";
import { tempDir } from "../helpers/tmp";
import { wsConnect, wsRefusal } from "../helpers/ws";

let t: TestNode;
let other: string;
const dir = tempDir();
const clip = join(dir.path, "clip.mp4");

beforeAll(async () => {
  const r = Bun.spawnSync(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25", "-f", "lavfi", "-i", "sine", "-t", "12", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-y", clip]);
  expect(r.exitCode).toBe(0);
  t = await startTestNode();
  other = (await createToken(await t.records(), { name: "other", scopes: ["jobs:read", "jobs:write"], tenant: "other" }, "test")).token;
}, 120_000);
afterAll(async () => {
  await t.stop();
  dir.remove();
});

const wsUrl = (q: string) => t.url.replace("http", "ws") + "/v1/events?" + q;
const postVideo = (token = t.token) =>
  fetch(`${t.url}/v1/jobs?type=video&options=${encodeURIComponent(JSON.stringify({ renditions: [720, 360], preset: "veryfast", remux: false }))}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
    body: Bun.file(clip),
  }).then((r) => r.json() as Promise<{ id: string }>);

test("a client sees queued → active → progress (rising) → completed for a video job, in order", async () => {
  const c = await wsConnect(wsUrl(`token=${t.token}`));
  const job = await postVideo();
  await c.next((m) => m.type === "job.completed" && m.jobId === job.id, 90_000);
  const mine = c.messages.filter((m) => m.jobId === job.id).map((m) => m as { type: string; progress: number; data?: { renditions?: Record<string, number> } });
  const order = mine.map((m) => m.type).filter((x, i, a) => a[i - 1] !== x);
  expect(order[0]).toBe("job.queued");
  expect(order).toContain("job.active");
  expect(order.indexOf("job.active")).toBeLessThan(order.indexOf("job.progress"));
  expect(order[order.length - 1]).toBe("job.completed");
  const progress = mine.filter((m) => m.type === "job.progress").map((m) => m.progress);
  expect(progress.length).toBeGreaterThan(1);
  for (let i = 1; i < progress.length; i++) expect(progress[i]!).toBeGreaterThanOrEqual(progress[i - 1]!);
  expect(progress[progress.length - 1]!).toBeGreaterThan(progress[0]!);
  expect(mine.some((m) => m.type === "job.progress" && m.data?.renditions && Object.keys(m.data.renditions).length === 2)).toBe(true);
  c.close();
}, 120_000);

test("?jobId= narrows the stream and starts with the job's current state (late join)", async () => {
  const a = (await (await t.api("/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-webp-lossy.webp").path) })).json()) as { id: string };
  await waitForJob(t, a.id);
  const late = await wsConnect(wsUrl(`token=${t.token}&jobId=${a.id}`));
  const first = await late.next(() => true);
  expect(first).toMatchObject({ type: "job.completed", jobId: a.id, status: "completed", data: { snapshot: true } });
  // Events of other jobs do not reach a narrowed client.
  const b = (await (await t.api("/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-png-palette.png").path) })).json()) as { id: string };
  await waitForJob(t, b.id);
  await Bun.sleep(300);
  expect(late.messages.every((m) => m.jobId === a.id)).toBe(true);
  late.close();
});

test("a subscribe message narrows an open stream; junk gets a clear error", async () => {
  const c = await wsConnect(wsUrl(`token=${t.token}`));
  const j = (await (await t.api("/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-webp-alpha.webp").path) })).json()) as { id: string };
  c.ws.send(JSON.stringify({ subscribe: [`job:${j.id}`] }));
  await c.next((m) => m.jobId === j.id && (m.data as { snapshot?: boolean } | undefined)?.snapshot === true);
  c.ws.send("not json");
  const err = await c.next((m) => "error" in m);
  expect((err.error as { code: string }).code).toBe("BAD_REQUEST");
  c.close();
});

test("a tenant sees only its own jobs' events; another tenant's job is 404", async () => {
  const mine = await wsConnect(wsUrl(`token=${other}`));
  const adminJob = (await (await t.api("/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-jpeg-1x1.jpg").path) })).json()) as { id: string };
  const ownJob = (await (
    await fetch(`${t.url}/v1/jobs?type=image`, { method: "POST", headers: { authorization: `Bearer ${other}` }, body: Bun.file(corpus("image-jpeg-1x1.jpg").path) })
  ).json()) as { id: string };
  await mine.next((m) => m.jobId === ownJob.id && m.type === "job.completed");
  await waitForJob(t, adminJob.id);
  await Bun.sleep(300);
  expect(mine.messages.some((m) => m.jobId === adminJob.id)).toBe(false);
  expect(await wsRefusal(`${t.url}/v1/events?token=${other}&jobId=${adminJob.id}`)).toBe(404);
  mine.close();
});

test("the upgrade needs a token: none or a bad one is 401; the ws_clients gauge counts clients", async () => {
  expect(await wsRefusal(`${t.url}/v1/events`)).toBe(401);
  expect(await wsRefusal(`${t.url}/v1/events?token=mn_t_00000000000000000000000000.nopenopenopenopenope`)).toBe(401);
  const a = await wsConnect(wsUrl(`token=${t.token}`));
  const b = await wsConnect(wsUrl(`token=${t.token}`));
  const metrics = await (await fetch(t.url + "/metrics")).text();
  expect(Number(/^medianode_ws_clients (\d+)/m.exec(metrics)![1])).toBeGreaterThanOrEqual(2);
  a.close();
  b.close();
});

test("queue.paused and queue.resumed reach every unfiltered client, once each", async () => {
  const c = await wsConnect(wsUrl(`token=${other}`));
  const admin = await wsConnect(wsUrl(`token=${t.token}`));
  await t.api("/v1/queues/audio/pause", { method: "POST" });
  await c.next((m) => m.type === "queue.paused" && (m.data as { queue: string }).queue === "audio");
  await t.api("/v1/queues/audio/resume", { method: "POST" });
  await c.next((m) => m.type === "queue.resumed");
  await admin.next((m) => m.type === "queue.resumed");
  await Bun.sleep(200);
  for (const client of [c, admin]) {
    expect(client.messages.filter((m) => m.type === "queue.paused").length).toBe(1);
    expect(client.messages.filter((m) => m.type === "queue.resumed").length).toBe(1);
  }
  c.close();
  admin.close();
});
