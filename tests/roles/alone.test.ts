// Each role alone in its own process, sharing one private Redis (issue 13): an api-only node,
// a worker, a monitor-only node on the api's data dir (reads the records: opaque tokens, late
// join), a monitor-only node without records (JWTs only), and a metrics-only node.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { corpus } from "../helpers/corpus";
import { createTokenCli, startServeProcess, startWorkerProcess, type ServeProc, type WorkerProc } from "../helpers/cluster";
import { startTestRedis, type TestRedis } from "../helpers/redis";
import { tempDir } from "../helpers/tmp";
import { wsConnect, wsRefusal } from "../helpers/ws";

const SECRET = "jwt-secret-for-role-tests-0123456789";
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
function jwt(sub: string): string {
  const head = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ sub, exp: Math.floor(Date.now() / 1000) + 600 })}`;
  return `${head}.${createHmac("sha256", SECRET).update(head).digest("base64url")}`;
}

let redis: TestRedis;
const apiDir = tempDir();
const loneDir = tempDir();
const env = { MEDIANODE_JWT_SECRET: SECRET, MEDIANODE_LOG_LEVEL: "warn" };
let api: ServeProc;
let worker: WorkerProc;
let monitor: ServeProc;
let loneMonitor: ServeProc;
let metrics: ServeProc;
let admin: string;
let other: string;

beforeAll(async () => {
  redis = await startTestRedis();
  api = await startServeProcess({ roles: "api", redisUrl: redis.url, dataDir: apiDir.path, env, startMs: 90_000 });
  admin = (await Bun.file(`${apiDir.path}/admin.token`).text()).trim();
  other = await createTokenCli(apiDir.path, "other", "jobs:read,jobs:write");
  // One at a time, with room for a loaded machine: four Bun processes starting at once on two
  // shared cores took longer than the helpers' default 30 s.
  const startMs = 90_000;
  // Shared-mount mode: the worker uses the api's media in place.
  worker = await startWorkerProcess({ redisUrl: redis.url, dataDir: apiDir.path, env });
  monitor = await startServeProcess({ roles: "monitor", redisUrl: redis.url, dataDir: apiDir.path, env, startMs });
  loneMonitor = await startServeProcess({ roles: "monitor", redisUrl: redis.url, dataDir: loneDir.path, env, startMs });
  metrics = await startServeProcess({ roles: "metrics", redisUrl: redis.url, dataDir: apiDir.path, env, startMs });
}, 400_000);

afterAll(async () => {
  for (const p of [metrics, loneMonitor, monitor, worker, api]) await p?.stop();
  await redis?.stop();
  apiDir.remove();
  loneDir.remove();
});

const ws = (node: ServeProc, q: string) => node.url.replace("http", "ws") + "/v1/events?" + q;
const postImage = async (token: string) => {
  const r = await fetch(`${api.url}/v1/jobs?type=image`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: Bun.file(corpus("image-webp-lossy.webp").path) });
  expect(r.status).toBe(202);
  return (await r.json()) as { id: string };
};

test("an api node without the monitor role has no /v1/events (404); it still exports its own metrics", async () => {
  expect(await wsRefusal(`${api.url}/v1/events?token=${admin}`)).toBe(404);
  const m = await (await fetch(`${api.url}/metrics`)).text();
  expect(m).toContain("medianode_http_requests_total");
  expect(m).toContain("process_resident_memory_bytes");
  // Cluster gauges are the metrics role's.
  expect(m).not.toMatch(/^medianode_queue_jobs\{/m);
});

test("a monitor-only node streams every node's events from Redis, with tenancy and late join", async () => {
  // Monitors answer the event stream and health, not the api's routes.
  expect((await fetch(`${monitor.url}/v1/jobs`, { headers: { authorization: `Bearer ${admin}` } })).status).toBe(404);
  expect((await fetch(`${monitor.url}/readyz`)).status).toBe(200);
  const all = await wsConnect(ws(monitor, `token=${admin}`));
  const mine = await wsConnect(ws(monitor, `token=${other}`));
  const job = await postImage(admin);
  const done = await all.next((m) => m.type === "job.completed" && m.jobId === job.id, 60_000);
  expect(done.node).toBe(worker.nodeId);
  const seen = all.messages.filter((m) => m.jobId === job.id).map((m) => m.type);
  expect(seen[0]).toBe("job.queued");
  expect(seen).toContain("job.active");
  // The other tenant heard nothing of the admin's job, and may not narrow to it.
  const theirs = await postImage(other);
  await mine.next((m) => m.type === "job.completed" && m.jobId === theirs.id, 60_000);
  expect(mine.messages.some((m) => m.jobId === job.id)).toBe(false);
  expect(await wsRefusal(ws(monitor, `token=${other}&jobId=${job.id}`).replace("ws", "http"))).toBe(404);
  // Late join: the finished job's state comes first, read from the records.
  const late = await wsConnect(ws(monitor, `token=${admin}&jobId=${job.id}`));
  const first = await late.next(() => true);
  expect(first).toMatchObject({ type: "job.completed", jobId: job.id, status: "completed", data: { snapshot: true } });
  for (const c of [all, mine, late]) c.close();
  // Its own metrics: the clients it served.
  expect(await (await fetch(`${monitor.url}/metrics`)).text()).toContain("medianode_ws_clients");
}, 120_000);

test("a monitor that cannot read the records accepts JWTs only, and keeps tenants apart", async () => {
  expect(await wsRefusal(`${loneMonitor.url}/v1/events?token=${admin}`)).toBe(401);
  const a = await wsConnect(ws(loneMonitor, `token=${jwt("site-a")}`));
  const b = await wsConnect(ws(loneMonitor, `token=${jwt("site-b")}`));
  // A client narrowed to another tenant's job hears nothing of it (no record to check it against).
  const job = await postImage(jwt("site-a"));
  const bNarrowed = await wsConnect(ws(loneMonitor, `token=${jwt("site-b")}&jobId=${job.id}`));
  await a.next((m) => m.type === "job.completed" && m.jobId === job.id, 60_000);
  const mark = await postImage(jwt("site-b"));
  await b.next((m) => m.type === "job.completed" && m.jobId === mark.id, 60_000);
  expect(b.messages.some((m) => m.jobId === job.id)).toBe(false);
  expect(bNarrowed.messages.some((m) => m.jobId === job.id)).toBe(false);
  for (const c of [a, b, bNarrowed]) c.close();
}, 120_000);

test("a metrics-only node exports the cluster's gauges: every queue, nodes online by role, jobs by state", async () => {
  const job = await postImage(admin);
  for (let i = 0; i < 600; i++) {
    const s = (await (await fetch(`${api.url}/v1/jobs/${job.id}`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { status: string };
    if (s.status === "completed") break;
    await Bun.sleep(100);
  }
  const m = await (await fetch(`${metrics.url}/metrics`)).text();
  for (const q of ["probe", "image", "video", "audio", "thumbnail"]) expect(m).toContain(`medianode_queue_jobs{queue="${q}",state="waiting"}`);
  expect(m).toMatch(/medianode_queue_jobs\{queue="image",state="completed"\} [1-9]/);
  expect(m).toContain('medianode_nodes_online{role="worker"} 1');
  expect(m).toContain('medianode_nodes_online{role="monitor"} 2');
  expect(m).toContain('medianode_nodes_online{role="api"} 1');
  expect(m).toMatch(/medianode_jobs\{status="completed"\} [1-9]/);
  expect(m).toContain("process_resident_memory_bytes");
}, 120_000);
