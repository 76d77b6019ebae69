// SPEC §11, issue #14 "many api nodes": two `medianode serve --roles api,monitor` processes on
// one PostgreSQL database and one private Redis, and a worker process. Media sit in one data
// folder all three use (the shared-mount mode; the bucket is the other way to share them).
// Every route answers for every job on both nodes, events of a job reach the monitor of the
// other node once each, the first admin token is made once although both start together, and
// when the node holding the cluster duties is SIGKILLed halfway through a 40-job batch, the
// other takes the duties over and every job completes, once.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { corpus, CORPUS_DIR } from "../helpers/corpus";
import { startServeProcess, startWorkerProcess, type ServeProc, type WorkerProc } from "../helpers/cluster";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres";
import { startTestRedis, type TestRedis } from "../helpers/redis";
import { waitForJob } from "../helpers/server";
import { tempDir } from "../helpers/tmp";
import { wsConnect, type WsClient } from "../helpers/ws";

let redis: TestRedis;
let database: TestDatabase;
let sql: SQL;
const dir = tempDir("mn-two-api-");
let nodes: ServeProc[] = [];
let worker: WorkerProc;
let token: string;

const TAKEN = "cluster duties taken";
const image = { type: "image", source: { path: corpus("image-png-palette.png").path }, options: { variants: [{ name: "t", size: 32 }] } };
const as = (n: ServeProc) => (path: string, init: RequestInit = {}) =>
  fetch(n.url + path, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...(init.headers as Record<string, string>) } });
const submit = async (n: ServeProc, body: unknown = image) => {
  const r = await as(n)("/v1/jobs", { method: "POST", body: JSON.stringify(body) });
  expect(r.status).toBe(202);
  return ((await r.json()) as { id: string }).id;
};
const until = async (what: string, ok: () => boolean | Promise<boolean>, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await Bun.sleep(100);
  }
};
const eventsOf = (ws: WsClient, jobId: string, type: string) => ws.messages.filter((m) => m.jobId === jobId && m.type === type).length;

beforeAll(async () => {
  redis = await startTestRedis();
  database = await createTestDatabase();
  sql = new SQL(database.url, { max: 2 });
  const env = {
    DATABASE_URL: database.url,
    MEDIANODE_IMPORT_DIRS: CORPUS_DIR,
    MEDIANODE_LOG_LEVEL: "info",
    MEDIANODE_PLAYBACK_SECRET: "playback-secret-shared-by-both-api-nodes",
    MEDIANODE_WEBHOOK_SECRET: "webhook-secret-shared-by-both-api-nodes",
    MEDIANODE_URL_ALLOWLIST: "127.0.0.1",
  };
  // Started together: both race for the first admin token and for the duties lock.
  nodes = await Promise.all([0, 1].map(() => startServeProcess({ roles: "api,monitor", redisUrl: redis.url, dataDir: dir.path, env, startMs: 90_000 })));
  token = (await Bun.file(`${dir.path}/admin.token`).text()).trim();
  worker = await startWorkerProcess({ redisUrl: redis.url, dataDir: dir.path, concurrency: "image=2,probe=1", env: { MEDIANODE_IMPORT_DIRS: CORPUS_DIR } });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  for (const n of nodes) await n.stop();
  await sql?.close();
  await database?.drop();
  await redis?.stop();
  dir.remove();
});

describe("two api nodes on one PostgreSQL and one Redis", () => {
  test("the first admin token is made once, by one of the two nodes started together; one node holds the duties", async () => {
    const [admins] = (await sql`SELECT COUNT(*)::int AS n FROM tokens WHERE scopes LIKE '%"admin"%'`) as { n: number }[];
    expect(admins!.n).toBe(1);
    expect(nodes.filter((n) => n.stdout().includes("admin token (printed only this once")).length).toBe(1);
    expect(nodes.filter((n) => n.stderr().includes(TAKEN)).length).toBe(1);
  });

  test("a job submitted through one node is read, listed and served through the other; readiness names postgres on both", async () => {
    const [a, b] = nodes as [ServeProc, ServeProc];
    const id = await submit(a);
    const done = (await waitForJob({ api: as(b) }, id, 60_000)) as unknown as { status: string; error?: unknown; outputs: { name: string; bytes: number }[] };
    expect(done.status, JSON.stringify(done.error)).toBe("completed");
    expect(done.outputs.length).toBeGreaterThan(0);
    for (const n of nodes) {
      const view = (await (await as(n)(`/v1/jobs/${id}`)).json()) as { status: string; outputs: unknown[] };
      expect(view).toMatchObject({ status: "completed", outputs: done.outputs });
      const list = (await (await as(n)("/v1/jobs?limit=10")).json()) as { items: { id: string }[] };
      expect(list.items.map((j) => j.id)).toContain(id);
      for (const o of done.outputs) {
        const r = await as(n)(`/v1/jobs/${id}/outputs/${o.name}`);
        expect(r.status).toBe(200);
        expect((await r.arrayBuffer()).byteLength).toBe(o.bytes);
      }
      expect((await as(n)("/v1/queues")).status).toBe(200);
      const ready = (await (await fetch(n.url + "/readyz")).json()) as { status: string; checks: Record<string, { ok: boolean }> };
      expect(ready.checks.postgres?.ok).toBe(true);
      expect(ready.checks.sqlite).toBeUndefined();
    }
    // A playback URL made by one node is honoured by the other (the secret is shared).
    const pb = (await (await as(a)(`/v1/jobs/${id}/playback`)).json()) as { base: string };
    const played = await fetch(b.url + new URL(pb.base + done.outputs[0]!.name).pathname);
    expect(played.status).toBe(200);
    expect((await played.arrayBuffer()).byteLength).toBe(done.outputs[0]!.bytes);
    // Subscriptions and tokens live in the shared records too.
    const made = await as(a)("/v1/webhooks", { method: "POST", body: JSON.stringify({ url: "http://127.0.0.1:9/hook" }) });
    expect(made.status).toBe(201);
    const hook = ((await made.json()) as { id: string }).id;
    expect(((await (await as(b)("/v1/webhooks")).json()) as { items: { id: string }[] }).items.map((w) => w.id)).toContain(hook);
    expect((await as(b)(`/v1/webhooks/${hook}`, { method: "DELETE" })).status).toBe(204);
    expect(((await (await as(a)("/v1/webhooks")).json()) as { items: { id: string }[] }).items.map((w) => w.id)).not.toContain(hook);
    const audit = (await (await as(b)("/v1/audit?limit=10")).json()) as { items: { action: string; target: string }[] };
    expect(audit.items.filter((e) => e.target === hook).map((e) => e.action).sort()).toEqual(["webhook.create", "webhook.delete"]);
  }, 90_000);

  test("events of a job submitted through one node reach a WebSocket on the other, once each", async () => {
    const [a, b] = nodes as [ServeProc, ServeProc];
    const onA = await wsConnect(`${a.url.replace("http", "ws")}/v1/events?token=${encodeURIComponent(token)}`);
    const onB = await wsConnect(`${b.url.replace("http", "ws")}/v1/events?token=${encodeURIComponent(token)}`);
    try {
      const id = await submit(b);
      await onA.next((m) => m.jobId === id && m.type === "job.completed", 60_000);
      await onB.next((m) => m.jobId === id && m.type === "job.completed", 10_000);
      await Bun.sleep(500); // a duplicate, if any, would be right behind
      for (const ws of [onA, onB]) for (const type of ["job.queued", "job.active", "job.completed"]) expect(eventsOf(ws, id, type), `${type} on one socket`).toBe(1);
    } finally {
      onA.close();
      onB.close();
    }
  }, 90_000);

  test("the duties' holder SIGKILLed halfway through a 40-job batch: the other takes the duties over, every job completes once", async () => {
    const holder = nodes.find((n) => n.stderr().includes(TAKEN))!;
    const survivor = nodes.find((n) => n !== holder)!;
    const watch = await wsConnect(`${survivor.url.replace("http", "ws")}/v1/events?token=${encodeURIComponent(token)}`);
    try {
      const ids = new Set<string>();
      for (let i = 0; i < 40; i++) {
        if (i === 20) holder.proc.kill("SIGKILL");
        const key = `batch-${i}`;
        const to = i % 2 === 0 && holder.proc.exitCode === null && i < 20 ? holder : survivor;
        // A client whose node died retries on the other with the same idempotency key.
        const r = await as(to)("/v1/jobs", { method: "POST", body: JSON.stringify({ ...image, idempotencyKey: key }) }).catch(() => null);
        const ok = r && (r.status === 202 || r.status === 200) ? r : await as(survivor)("/v1/jobs", { method: "POST", body: JSON.stringify({ ...image, idempotencyKey: key }) });
        expect([200, 202]).toContain(ok.status);
        ids.add(((await ok.json()) as { id: string }).id);
      }
      expect(ids.size).toBe(40);
      await holder.proc.exited;
      await until("the survivor takes the duties", () => survivor.stderr().includes(TAKEN), 15_000);
      for (const id of ids) expect((await waitForJob({ api: as(survivor) }, id, 120_000)).status).toBe("completed");
      const rows = (await sql`SELECT status, attempts, COUNT(*)::int AS n FROM jobs WHERE idempotency_key LIKE 'batch-%' GROUP BY status, attempts`) as { status: string; attempts: number; n: number }[];
      expect(rows).toEqual([{ status: "completed", attempts: 1, n: 40 }]);
      await Bun.sleep(500);
      for (const id of ids) expect(eventsOf(watch, id, "job.completed")).toBeLessThanOrEqual(1);
      // The survivor answers on its own, including readiness.
      expect((await fetch(survivor.url + "/readyz")).status).toBe(200);
    } finally {
      watch.close();
    }
  }, 240_000);
});
