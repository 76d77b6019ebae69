import { afterAll, beforeAll, expect, test } from "bun:test";
import { corpus } from "../helpers/corpus";
import { startTestRedis, type TestRedis } from "../helpers/redis";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";

let redis: TestRedis;
let t: TestNode;
beforeAll(async () => {
  redis = await startTestRedis();
  t = await startTestNode({}, { redis });
});
afterAll(async () => {
  await t.stop();
  await redis.stop();
});

const submit = () => t.api("/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-jpeg-1x1.jpg").path) });

test("Redis down: writes answer 503 at once, reads keep working, /readyz says why, and it recovers by itself", async () => {
  const first = (await (await submit()).json()) as { id: string };
  await waitForJob(t, first.id);
  const before = ((await (await t.api("/v1/jobs?limit=500")).json()) as { items: unknown[] }).items.length;
  redis.kill();
  await Bun.sleep(300);

  const started = Date.now();
  const r = await submit();
  expect(r.status).toBe(503);
  expect(((await r.json()) as { error: { code: string } }).error.code).toBe("UNAVAILABLE");
  // Fail fast: never queued in memory waiting for Redis.
  expect(Date.now() - started).toBeLessThan(5000);

  const read = await t.api(`/v1/jobs/${first.id}`);
  expect(read.status).toBe(200);
  expect(((await (await t.api("/v1/jobs?limit=500")).json()) as { items: unknown[] }).items.length).toBe(before);

  const ready = await fetch(t.url + "/readyz");
  expect(ready.status).toBe(503);
  const body = (await ready.json()) as { checks: { redis: { ok: boolean; detail: string } } };
  expect(body.checks.redis.ok).toBe(false);
  expect(body.checks.redis.detail).toContain("Redis unreachable");

  await redis.restart();
  let ok: Response | null = null;
  for (let i = 0; i < 100; i++) {
    ok = await submit();
    if (ok.status === 202) break;
    await Bun.sleep(100);
  }
  expect(ok!.status).toBe(202);
  const again = (await ok!.json()) as { id: string };
  expect((await waitForJob(t, again.id)).status).toBe("completed");
  expect((await fetch(t.url + "/readyz")).status).toBe(200);
});

test("/readyz names a missing ffmpeg and how to install it", async () => {
  const n = await startTestNode({ MEDIANODE_FFMPEG_PATH: "/nonexistent/ffmpeg" }, { redis });
  try {
    const r = await fetch(n.url + "/readyz");
    expect(r.status).toBe(503);
    const b = (await r.json()) as { checks: { ffmpeg: { ok: boolean; detail: string } } };
    expect(b.checks.ffmpeg.ok).toBe(false);
    expect(b.checks.ffmpeg.detail).toContain("apt-get install -y ffmpeg");
  } finally {
    await n.stop();
  }
});

test("/readyz refuses a Redis that may evict keys", async () => {
  const evicting = await startTestRedis(["--maxmemory-policy", "allkeys-lru"]);
  const n = await startTestNode({}, { redis: evicting });
  try {
    const r = await fetch(n.url + "/readyz");
    expect(r.status).toBe(503);
    expect(((await r.json()) as { checks: { redis: { detail: string } } }).checks.redis.detail).toContain("noeviction");
  } finally {
    await n.stop();
    await evicting.stop();
  }
});
