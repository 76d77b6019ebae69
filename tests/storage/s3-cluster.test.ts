// Media in a bucket with the worker on "another host" (SPEC §11): an api-only node and a real
// `medianode worker` process that has only Redis and the bucket's credentials (its own data
// dir, no --server). Then the bucket goes down: /readyz on both says so, the job's attempt
// fails STORAGE and is retried, and it completes once the bucket is back.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";
import { startTestS3, type TestS3 } from "../helpers/s3";
import { startWorkerProcess } from "../helpers/worker-process";
import { freePort } from "../helpers/redis";
import { corpus, CORPUS_DIR } from "../helpers/corpus";
import { tempDir } from "../helpers/tmp";
import { wsConnect } from "../helpers/ws";

let s3: TestS3;
let bucket: string;
let t: TestNode;
let workerDir: ReturnType<typeof tempDir>;
const procs: ReturnType<typeof Bun.spawn>[] = [];

const fileCount = (dataDir: string) => {
  const root = join(dataDir, "media");
  return existsSync(root) ? (readdirSync(root, { recursive: true, withFileTypes: true }) as import("node:fs").Dirent[]).filter((e) => e.isFile()).length : 0;
};

async function submitImage(attempts = 3): Promise<string> {
  const r = await t.api(`/v1/jobs?type=image&attempts=${attempts}`, { method: "POST", body: Bun.file(corpus("image-jpeg-progressive-320x213.jpg").path) });
  const body = await r.text();
  expect(r.status, body).toBe(202);
  return (JSON.parse(body) as { id: string }).id;
}

/** The worker process's own /readyz (its MEDIANODE_PORT is given, so the test knows it). */
let workerPort = 0;

beforeAll(async () => {
  s3 = await startTestS3();
  bucket = s3.bucket();
  // The api node has the import folder; the worker has none: {path} sources reach it through the bucket.
  t = await startTestNode({ ...s3.env(bucket), MEDIANODE_ROLES: "api,monitor,metrics", MEDIANODE_IMPORT_DIRS: CORPUS_DIR, MEDIANODE_URL_ALLOWLIST: "127.0.0.1" });
  workerDir = tempDir("mn-s3-worker-");
  workerPort = await freePort();
  await startWorkerProcess({
    redisUrl: t.redis.url,
    dataDir: workerDir.path,
    api: t,
    concurrency: "image=1",
    env: { ...s3.env(bucket), MEDIANODE_PORT: String(workerPort), MEDIANODE_URL_ALLOWLIST: "127.0.0.1" },
    procs,
  });
}, 120_000);

afterAll(async () => {
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
  await t?.stop();
  await s3?.stop();
  workerDir?.remove();
});

describe("a worker with only Redis and the bucket", () => {
  test("completes an upload's job; outputs come from the bucket; neither data dir keeps media", async () => {
    const id = await submitImage();
    const j = (await waitForJob(t, id, 60_000)) as { status: string; node: string; outputs: { name: string; bytes: number }[] };
    expect(j.status, JSON.stringify(j)).toBe("completed");
    expect(j.outputs.length).toBeGreaterThan(0);
    const keys = await s3.keys(bucket, `media/${id}/`);
    for (const o of j.outputs) expect(keys.some((k) => k.endsWith(`/${o.name}`) && k.includes("/attempts/"))).toBe(true);
    const r = await t.api(`/v1/jobs/${id}/outputs/${j.outputs[0]!.name}`);
    expect(r.status).toBe(200);
    expect((await r.bytes()).byteLength).toBe(j.outputs[0]!.bytes);
    expect(fileCount(t.dataDir)).toBe(0);
    expect(fileCount(workerDir.path)).toBe(0);
  });

  test("a {path} source is copied into the bucket by the api node: the worker, without the import folder, completes it", async () => {
    const r = await t.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "image", source: { path: corpus("image-jpeg-progressive-320x213.jpg").path } }) });
    const body = (await r.json()) as { id: string };
    expect(r.status, JSON.stringify(body)).toBe(202);
    expect(await s3.keys(bucket, `media/${body.id}/source`)).toEqual([`media/${body.id}/source`]);
    expect((await waitForJob(t, body.id, 60_000)).status).toBe("completed");
  });

  test("a URL source is downloaded once by the worker and copied into the bucket", async () => {
    const bytes = await Bun.file(corpus("image-jpeg-progressive-320x213.jpg").path).bytes();
    let hits = 0;
    // Whole-file GETs only: the api node reads a URL image's head at submit with a Range request (HEIC routing).
    const origin = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => (req.headers.has("range") || hits++, new Response(bytes, { headers: { "content-type": "image/jpeg" } })) });
    let id: string;
    try {
      const r = await t.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "image", source: { url: `http://127.0.0.1:${origin.port}/photo.jpg` } }) });
      const body = (await r.json()) as { id: string };
      expect(r.status, JSON.stringify(body)).toBe(202);
      id = body.id;
      expect((await waitForJob(t, id, 60_000)).status).toBe("completed");
    } finally {
      origin.stop(true);
    }
    // The worker's one download is kept in the bucket: a later attempt, on any host, reads it there.
    expect(hits).toBe(1);
    expect(Buffer.from(await s3.client(bucket).file(`media/${id}/source`).bytes()).equals(Buffer.from(bytes))).toBe(true);
  });

  test("the bucket down: /readyz of the api node and of the worker say so; the attempt fails STORAGE, retries, and completes once it is back", async () => {
    expect((await t.api("/v1/queues/image/pause", { method: "POST" })).status).toBe(200);
    const id = await submitImage(6);
    const ws = await wsConnect(`${t.url.replace("http", "ws")}/v1/events?jobId=${id}&token=${t.token}`);
    try {
      await s3.down();
      for (const url of [`${t.url}/readyz`, `http://127.0.0.1:${workerPort}/readyz`]) {
        const r = await fetch(url);
        const body = (await r.json()) as { checks: Record<string, { ok: boolean; detail: string }> };
        expect(r.status, url).toBe(503);
        expect(body.checks.bucket?.ok, JSON.stringify(body)).toBe(false);
      }
      // An upload while the bucket is down is refused as STORAGE, not half-stored.
      const refused = await t.api("/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-jpeg-progressive-320x213.jpg").path) });
      const rb = (await refused.json()) as { error: { code: string } };
      expect(rb.error.code, JSON.stringify(rb)).toBe("STORAGE");
      expect((await t.api("/v1/queues/image/resume", { method: "POST" })).status).toBe(200);
      const retrying = await ws.next((m) => m.type === "job.retrying", 60_000);
      expect(String((retrying.data as { error?: string }).error)).toMatch(/^STORAGE: media bucket/);
      await s3.up();
      const j = await waitForJob(t, id, 90_000);
      expect(j.status, JSON.stringify(j)).toBe("completed");
      expect(Number(j.attempts)).toBeGreaterThan(1);
      expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
    } finally {
      ws.close();
      await s3.up().catch(() => {});
    }
  }, 150_000);
});
