// Issue #12 point 12, leaks and growth, each against a real node: the import-path existence
// oracle, absolute data paths in error messages, ?token= outside the WebSocket and output
// downloads, logs kept forever, uploads with the disk nearly full or too many at once, and
// two IPv6 forms the SSRF filter let through.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isBlockedAddress } from "../../src/sources/url";
import { openDb, dbPath } from "../../src/store/db";
import { migrate } from "../../src/store/migrate";
import { corpus } from "../helpers/corpus";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";
import { tempDir } from "../helpers/tmp";
import { wsConnect } from "../helpers/ws";

const work = tempDir();
const inside = join(work.path, "imports");
const outside = join(work.path, "elsewhere");
const dataDir = join(work.path, "data");
const DAY = 86_400_000;
let t: TestNode;

beforeAll(async () => {
  mkdirSync(inside, { recursive: true });
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(outside, "secret.txt"), "exists");
  // Old log rows written before the node starts: its first retention sweep must prune them.
  mkdirSync(dataDir, { recursive: true });
  const db = openDb(dbPath(dataDir));
  migrate(db);
  const old = Date.now() - 40 * DAY;
  db.query("INSERT INTO deliveries (id, webhook_id, job_id, tenant, url, event_type, body, state, attempts, created_at, finished_at) VALUES ('d_old', 'w_x', NULL, 't', 'http://x', 'job.completed', '{}', 'delivered', 1, ?, ?)").run(old, old);
  db.query("INSERT INTO delivery_attempts (delivery_id, attempt, at, status_code, error, duration_ms) VALUES ('d_old', 1, ?, 200, NULL, 5)").run(old);
  db.query("INSERT INTO deliveries (id, webhook_id, job_id, tenant, url, event_type, body, state, attempts, created_at, finished_at) VALUES ('d_new', 'w_x', NULL, 't', 'http://x', 'job.completed', '{}', 'delivered', 1, ?, ?)").run(Date.now(), Date.now());
  db.query("INSERT INTO audit (at, actor, action, target) VALUES (?, 'old-actor', 'token.create', 't_old')").run(old);
  db.close();
  t = await startTestNode({ MEDIANODE_IMPORT_DIRS: inside, MEDIANODE_MAX_UPLOADS_PER_TOKEN: "2" }, { dataDir, retentionFirstMs: 100 });
}, 60_000);
afterAll(async () => {
  await t?.stop();
  work.remove();
});

const post = (body: unknown, token = t.token) => fetch(`${t.url}/v1/jobs`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
const errorOf = async (r: Response) => ((await r.json()) as { error: { code: string; message: string } }).error;

test("a path outside MEDIANODE_IMPORT_DIRS answers the same whether the file exists or not", async () => {
  const a = await post({ type: "probe", source: { path: join(outside, "secret.txt") } });
  const b = await post({ type: "probe", source: { path: join(outside, "nonexistent.txt") } });
  const c = await post({ type: "probe", source: { path: join(outside, "no", "such", "dir.txt") } });
  expect([a.status, b.status, c.status]).toEqual([403, 403, 403]);
  const [ea, eb, ec] = [await errorOf(a), await errorOf(b), await errorOf(c)];
  expect(eb).toEqual(ea);
  expect(ec).toEqual(ea);
  // Inside the folders a missing file may say so.
  expect((await post({ type: "probe", source: { path: join(inside, "missing.mp4") } })).status).toBe(404);
});

test("an unreadable upload's error names the source, not the node's data path", async () => {
  const fake = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from("ftypmp42\0\0\0\0mp42isom"), Buffer.alloc(2000, 7)]);
  const r = await t.api("/v1/jobs?type=video", { method: "POST", headers: { "content-type": "video/mp4" }, body: fake });
  expect(r.status).toBe(415);
  const e = await errorOf(r);
  expect(e.message).not.toContain(work.path);
  expect(e.message).not.toContain("/media/");
});

test("?token= works on the WebSocket and output downloads only", async () => {
  const q = `token=${encodeURIComponent(t.token)}`;
  const list = await fetch(`${t.url}/v1/jobs?${q}`);
  expect(list.status).toBe(401);
  expect((await errorOf(list)).message).toContain("Authorization: Bearer");
  expect((await fetch(`${t.url}/v1/audit?${q}`)).status).toBe(401);
  expect((await fetch(`${t.url}/v1/jobs?type=image&${q}`, { method: "POST", body: Bun.file(corpus("image-jpeg-1x1.jpg").path) })).status).toBe(401);
  const r = await t.api("/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-jpeg-1x1.jpg").path) });
  const { id } = (await r.json()) as { id: string };
  expect((await waitForJob(t, id)).status).toBe("completed");
  expect((await fetch(`${t.url}/v1/jobs/${id}/outputs/thumb.webp?${q}`)).status).toBe(200);
  const ws = await wsConnect(`${t.url.replace("http", "ws")}/v1/events?${q}&jobId=${id}`);
  expect((await ws.next(() => true)).jobId).toBe(id);
  ws.close();
});

test("deliveries, their attempts and audit entries older than MEDIANODE_LOG_RETENTION_DAYS (30) are pruned", async () => {
  const db = openDb(dbPath(dataDir));
  try {
    const count = (sql: string) => (db.query(sql).get() as { n: number }).n;
    for (let i = 0; i < 100 && count("SELECT COUNT(*) AS n FROM deliveries WHERE id = 'd_old'") > 0; i++) await Bun.sleep(50);
    expect(count("SELECT COUNT(*) AS n FROM deliveries WHERE id = 'd_old'")).toBe(0);
    expect(count("SELECT COUNT(*) AS n FROM delivery_attempts WHERE delivery_id = 'd_old'")).toBe(0);
    expect(count("SELECT COUNT(*) AS n FROM audit WHERE actor = 'old-actor'")).toBe(0);
    expect(count("SELECT COUNT(*) AS n FROM deliveries WHERE id = 'd_new'")).toBe(1);
  } finally {
    db.close();
  }
});

test("uploads past MEDIANODE_MAX_UPLOADS_PER_TOKEN in flight are 429 with Retry-After", async () => {
  const held: { end(): void; res: Promise<Response> }[] = [];
  for (let i = 0; i < 2; i++) {
    let ctl!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (ctl = c) });
    ctl.enqueue(new Uint8Array(1024));
    const res = t.api("/v1/jobs?type=image", { method: "POST", headers: { "content-type": "image/jpeg" }, body, duplex: "half" } as RequestInit);
    held.push({ end: () => ctl.close(), res });
  }
  await Bun.sleep(300);
  const third = await t.api("/v1/jobs?type=image", { method: "POST", headers: { "content-type": "image/jpeg" }, body: Bun.file(corpus("image-jpeg-1x1.jpg").path) });
  expect(third.status).toBe(429);
  expect(third.headers.get("retry-after")).toBe("1");
  for (const h of held) h.end();
  for (const h of held) await (await h.res).body?.cancel();
  // Slots come back when the uploads end.
  const again = await t.api("/v1/jobs?type=image", { method: "POST", headers: { "content-type": "image/jpeg" }, body: Bun.file(corpus("image-jpeg-1x1.jpg").path) });
  expect(again.status).toBe(202);
});

test("URL sources on [::127.0.0.1] (IPv4-compatible) and fec0::/10 (site-local) are refused", async () => {
  for (const url of ["http://[::127.0.0.1]:9/x.mp4", "http://[::7f00:1]/x.mp4", "http://[::a00:1]/x.mp4", "http://[fec0::1]/x.mp4", "http://[feff::1]/x.mp4"]) {
    const r = await post({ type: "probe", source: { url } });
    expect({ url, status: r.status }).toEqual({ url, status: 403 });
  }
  expect(isBlockedAddress("::7f00:1")).toBe(true);
  expect(isBlockedAddress("fec0::1")).toBe(true);
  expect(isBlockedAddress("2606:4700:4700::1111")).toBe(false);
});

describe("with the disk below MEDIANODE_MIN_FREE_BYTES", () => {
  let full: TestNode;
  beforeAll(async () => {
    full = await startTestNode({ MEDIANODE_ROLES: "api", MEDIANODE_MIN_FREE_BYTES: "1000TiB" });
  }, 60_000);
  afterAll(async () => {
    await full?.stop();
  });
  test("an upload is refused with 507 STORAGE before it is read; JSON jobs still go through", async () => {
    const r = await full.api("/v1/jobs?type=image", { method: "POST", headers: { "content-type": "image/jpeg" }, body: Bun.file(corpus("image-jpeg-1x1.jpg").path) });
    expect(r.status).toBe(507);
    expect((await errorOf(r)).code).toBe("STORAGE");
    const m = await full.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "probe", source: { url: "http://[::1]:9/x" } }) });
    expect(m.status).toBe(403); // refused for its URL, not for the disk
  });
});

test("job error text names files relative to the job (pure)", async () => {
  const { jobRelativeText } = await import("../../src/storage/paths");
  const root = "/srv/medianode/data/media";
  expect(jobRelativeText(`${root}/j_abc/source: Invalid data found`, root)).toBe("source: Invalid data found");
  expect(jobRelativeText(`open '${root}/j_abc/attempts/1-1-0badc0de/720p/seg_001.ts' failed`, root)).toBe("open 'out/720p/seg_001.ts' failed");
  expect(jobRelativeText(`statfs ${root}`, root)).toBe("statfs <media>");
});
