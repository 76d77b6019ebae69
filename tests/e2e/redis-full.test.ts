// Issue 7 "Redis full": a Redis with noeviction and its memory used up refuses writes (OOM).
// Submissions must answer 503 with a clear code, and no half-accepted job may remain: no row
// a later reconcile would enqueue for a request the client was told failed, single or batch.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { corpus, CORPUS_DIR } from "../helpers/corpus";
import { startTestRedis, type TestRedis } from "../helpers/redis";
import { startTestNode, type TestNode } from "../helpers/server";

let redis: TestRedis;
let t: TestNode;
beforeAll(async () => {
  redis = await startTestRedis(["--maxmemory", "8mb"]);
  // No worker role: accepted jobs stay waiting in Redis, so the counts below are exact.
  t = await startTestNode({ MEDIANODE_ROLES: "api", MEDIANODE_IMPORT_DIRS: CORPUS_DIR }, { redis });
});
afterAll(async () => {
  await t.stop();
  await redis.stop();
});

const rows = () => {
  const db = new Database(join(t.dataDir, "medianode.db"), { readonly: true });
  try {
    return (db.query("SELECT id FROM jobs ORDER BY id").all() as { id: string }[]).map((r) => r.id);
  } finally {
    db.close();
  }
};
const waiting = async (r: TestRedis = redis) => {
  const c = r.client();
  let n = 0;
  for (const type of ["probe", "image", "audio"]) n += await c.llen(`medianode:jobs-${type}:wait`) + (await c.zcard(`medianode:jobs-${type}:prioritized`));
  return n;
};
const upload = () => t.api("/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-jpeg-1x1.jpg").path) });
/** One job for each of three queues (probe, image, audio) in one batch. */
const batch = (node: TestNode = t) =>
  node.api("/v1/jobs/batch", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify([
      { type: "probe", source: { path: corpus("video-h264-aac-faststart-960x540.mp4").path } },
      { type: "image", source: { path: corpus("image-jpeg-1x1.jpg").path } },
      { type: "audio", source: { path: corpus("audio-wav-pcm-s16le.wav").path } },
    ]),
  });

test("a full Redis: single and batch submissions answer 503 UNAVAILABLE, leave no row and no job; freeing memory recovers", async () => {
  const ok = await upload();
  expect(ok.status).toBe(202);
  const before = rows();
  expect(before.length).toBe(1);
  expect(await waiting()).toBe(1);

  // Fill Redis up to its maxmemory (noeviction: nothing is evicted, writes are refused), with
  // ever smaller values so that no small write still fits either.
  const c = redis.client();
  let filled = 0;
  for (const size of [64 * 1024, 4096, 256, 16]) {
    for (;;) {
      try {
        await c.set(`filler:${filled}`, "x".repeat(size));
        filled++;
      } catch (e) {
        expect((e as Error).message).toContain("OOM");
        break;
      }
    }
  }
  expect(filled).toBeGreaterThan(0);
  // Right at the limit, freed client buffers can let a small write through now and then: lower
  // the limit 1 MiB under what the data uses, so "full" stays full for the whole test.
  const used = Number(/used_memory:(\d+)/.exec(await c.info("memory"))![1]);
  await c.config("SET", "maxmemory", String(used - 1024 * 1024));

  const single = await upload();
  const body = (await single.json()) as { error: { code: string; message: string } };
  expect({ status: single.status, code: body.error.code }).toEqual({ status: 503, code: "UNAVAILABLE" });
  expect(body.error.message).toContain("out of memory");
  const many = await batch();
  const manyBody = (await many.json()) as { error: { code: string; message: string } };
  expect({ status: many.status, code: manyBody.error.code }).toEqual({ status: 503, code: "UNAVAILABLE" });

  // Several reconcile periods (1 s here) later, nothing was written or enqueued behind the 503s.
  await Bun.sleep(3000);
  expect(rows()).toEqual(before);
  expect(await waiting()).toBe(1);
  // The refused upload's file is gone too: only the accepted job has a folder.
  expect(readdirSync(join(t.dataDir, "media"))).toEqual(before);

  // Memory freed: accepted again, by itself.
  for (let i = 0; i < filled; i++) await c.del(`filler:${i}`);
  await c.config("SET", "maxmemory", "8mb");
  expect((await upload()).status).toBe(202);
  const again = await batch();
  expect(again.status).toBe(202);
  expect(rows().length).toBe(5);
  expect(await waiting()).toBe(5);
}, 60_000);

test("a batch one queue refuses (another has taken its part already) is refused whole: no rows, no jobs left", async () => {
  // Deterministic stand-in for Redis filling up between two queues' adds in one batch: a user
  // that may read but not write the audio queue's keys, so that addBulk alone fails. A Redis of
  // its own: the first test's node would take this node's unrecorded jobs for its own to sweep
  // (and this one sweeps that one's), which only a single api node per Redis rules out.
  const own = await startTestRedis();
  const admin = own.client();
  const writable = ["probe", "image", "video", "thumbnail"].map((q) => `%RW~medianode:jobs-${q}:*`);
  await admin.call("ACL", "SETUSER", "partial", "on", ">pw", "+@all", "&*", ...writable, "%R~medianode:jobs-audio:*", "%RW~medianode:[^j]*");
  const url = own.url.replace("redis://", "redis://partial:pw@");
  const n = await startTestNode({ REDIS_URL: url, MEDIANODE_ROLES: "api", MEDIANODE_IMPORT_DIRS: CORPUS_DIR }, { redis: own });
  try {
    const before = await waiting(own);
    expect(before).toBe(0);
    const r = await batch(n);
    expect(r.status).toBeGreaterThanOrEqual(500);
    const db = new Database(join(n.dataDir, "medianode.db"), { readonly: true });
    const left = db.query("SELECT count(*) AS n FROM jobs").get() as { n: number };
    db.close();
    expect(left.n).toBe(0);
    // The probe and image jobs that did get in were taken back out.
    expect(await waiting(own)).toBe(before);
    // A batch within the writable queues still goes through.
    const ok = await n.api("/v1/jobs/batch", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify([{ type: "probe", source: { path: corpus("image-jpeg-1x1.jpg").path } }]) });
    expect([ok.status, await ok.text()]).toEqual([202, expect.any(String)]);
    expect(await waiting(own)).toBe(before + 1);
  } finally {
    await n.stop();
    await own.stop();
  }
}, 60_000);
