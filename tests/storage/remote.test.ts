// The HTTP media store between a remote worker and the api node (SPEC §1), on a real api-only
// node (temp SQLite, private Redis, port 0). Cut connections and corrupted bodies come from a
// real HTTP proxy in front of the node, so the store's retry and resume paths run for real.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { createLogger } from "../../src/log";
import { createToken } from "../../src/services/tokens";
import { sha256File } from "../../src/storage/checksum";
import { createRemoteMediaStore } from "../../src/storage/remote";
import { LOCK_HEADER, SHA256_HEADER } from "../../src/storage/worker-protocol";
import { dbPath, openDb } from "../../src/store/db";
import { startTestNode, type TestNode } from "../helpers/server";
import { tempDir } from "../helpers/tmp";
import { holdNextJob, type HeldJob } from "../helpers/job-lock";

const MAX_UPLOAD = 4 * 1024 * 1024;
let t: TestNode;
const work = tempDir();
const image = join(work.path, "frame.jpg");
let tokens: { worker: string; reader: string };
let jobId: string;
// The test plays the worker that took each job: it holds the job's BullMQ lock (issue #12).
const held: HeldJob[] = [];
const locks = new Map<string, string>();
const log = createLogger({ level: "error", format: "pretty" });

beforeAll(async () => {
  // A 1080p frame of noise-like test pattern: big enough (~1 MiB) to cut in the middle.
  const r = Bun.spawnSync(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=1920x1080,noise=alls=60:allf=t", "-frames:v", "1", "-q:v", "2", "-y", image]);
  expect(r.exitCode).toBe(0);
  t = await startTestNode({ MEDIANODE_ROLES: "api", MEDIANODE_MAX_UPLOAD_BYTES: String(MAX_UPLOAD) });
  const db = openDb(dbPath(t.dataDir));
  tokens = {
    worker: createToken(db, { name: "w1", scopes: ["worker"] }, "test").token,
    reader: createToken(db, { name: "r1", scopes: ["jobs:read"] }, "test").token,
  };
  db.close();
  // No worker role anywhere: the job stays queued, its source in the api node's store.
  const res = await t.api("/v1/jobs?type=image", { method: "POST", headers: { "content-type": "image/jpeg" }, body: Bun.file(image) });
  expect(res.status).toBe(202);
  jobId = ((await res.json()) as { id: string }).id;
  const h = await holdNextJob(t.redis.url, "image");
  held.push(h);
  locks.set(jobId, h.token);
}, 60_000);
afterAll(async () => {
  for (const h of held) await h.release();
  await t?.stop();
  work.remove();
});

const lockFor = (path: string): Record<string, string> => {
  const id = /^\/v1\/worker\/jobs\/([^/]+)\/attempts\//.exec(path)?.[1];
  const lock = id ? locks.get(id) : undefined;
  return lock ? { [LOCK_HEADER]: lock } : {};
};
const as = (token: string, path: string, init: RequestInit = {}) =>
  fetch(t.url + path, { ...init, headers: { authorization: `Bearer ${token}`, ...lockFor(path), ...(init.headers as Record<string, string>) } });
const sha256 = (b: Uint8Array | string) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
const errorOf = async (r: Response) => ((await r.json()) as { error: { code: string; message: string; details?: { reason?: string } } }).error;

/** A proxy in front of the node; `tamper` may rewrite the n-th request or response. */
function proxy(tamper: (req: Request, n: number) => Promise<Response | null>) {
  let n = 0;
  const seen: { method: string; path: string; range: string | null }[] = [];
  const srv = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const u = new URL(req.url);
      seen.push({ method: req.method, path: u.pathname, range: req.headers.get("range") });
      const own = await tamper(req, n++);
      if (own) return own;
      return fetch(t.url + u.pathname + u.search, { method: req.method, headers: req.headers, body: req.body });
    },
  });
  return { url: `http://127.0.0.1:${srv.port}`, seen, stop: () => srv.stop(true) };
}

describe("routes", () => {
  test("every worker route needs the worker scope: 403 for a jobs:read token, 401 with none", async () => {
    for (const path of ["/v1/worker/hello", `/v1/worker/jobs/${jobId}/source`]) {
      const r = await as(tokens.reader, path);
      expect(r.status).toBe(403);
      expect((await errorOf(r)).code).toBe("FORBIDDEN");
      expect((await fetch(t.url + path)).status).toBe(401);
    }
    const put = await as(tokens.reader, `/v1/worker/jobs/${jobId}/attempts/1-1-0000abcd/outputs/a.webp`, { method: "PUT", headers: { [SHA256_HEADER]: sha256("x") }, body: "x" });
    expect(put.status).toBe(403);
    expect((await as(tokens.worker, "/v1/worker/hello")).status).toBe(200);
    expect((await t.api("/v1/worker/hello")).status).toBe(200); // admin implies worker
  });

  test("an unknown job is 404 on every route", async () => {
    const body = "x";
    const hdr = { [SHA256_HEADER]: sha256(body) };
    const rs = [
      await as(tokens.worker, "/v1/worker/jobs/j_nope/source"),
      await as(tokens.worker, "/v1/worker/jobs/j_nope/attempts/1-1-0000abcd/outputs/a.webp", { method: "PUT", headers: hdr, body }),
      await as(tokens.worker, "/v1/worker/jobs/j_nope/attempts/1-1-0000abcd/commit", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ files: [] }) }),
    ];
    for (const r of rs) {
      expect(r.status).toBe(404);
      expect((await errorOf(r)).code).toBe("NOT_FOUND");
    }
  });

  test.each([["..%2F..%2Fescape.txt"], ["%252e%252e/%252e%252e/escape.txt"], ["a/..%2F..%2F..%2Fescape.txt"], ["%2Fetc%2Fescape.txt"]])("output name %s is refused (400) and nothing is written outside", async (name) => {
    const body = "pwned";
    const r = await as(tokens.worker, `/v1/worker/jobs/${jobId}/attempts/1-1-0000abcd/outputs/${name}`, { method: "PUT", headers: { [SHA256_HEADER]: sha256(body) }, body });
    expect(r.status).toBe(400);
    expect((await errorOf(r)).code).toBe("INVALID_INPUT");
    expect(existsSync(join(t.dataDir, "media", jobId, "escape.txt"))).toBe(false);
    expect(existsSync(join(t.dataDir, "media", "escape.txt"))).toBe(false);
    expect(existsSync(join(t.dataDir, "escape.txt"))).toBe(false);
  });

  test("a checksum mismatch is 400 (reason checksum_mismatch) and leaves no file", async () => {
    const r = await as(tokens.worker, `/v1/worker/jobs/${jobId}/attempts/1-1-0000abcd/outputs/bad.webp`, { method: "PUT", headers: { [SHA256_HEADER]: sha256("other") }, body: "these bytes" });
    expect(r.status).toBe(400);
    expect((await errorOf(r)).details?.reason).toBe("checksum_mismatch");
    const dir = join(t.dataDir, "media", jobId, "attempts", "1-1-0000abcd");
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
    expect(readdirSync(join(t.dataDir, "media", jobId, "uploads"))).toEqual([]); // no part file left
    const missing = await as(tokens.worker, `/v1/worker/jobs/${jobId}/attempts/1-1-0000abcd/outputs/bad.webp`, { method: "PUT", body: "x" });
    expect(missing.status).toBe(400);
  });

  test("an upload over MEDIANODE_MAX_UPLOAD_BYTES is 413", async () => {
    const big = new Uint8Array(MAX_UPLOAD + 1);
    const r = await as(tokens.worker, `/v1/worker/jobs/${jobId}/attempts/1-1-0000abcd/outputs/big.bin`, { method: "PUT", headers: { [SHA256_HEADER]: sha256(big) }, body: big });
    expect(r.status).toBe(413);
  });

  test("a commit listing a file that never arrived is 409 and out/ is untouched", async () => {
    const r = await as(tokens.worker, `/v1/worker/jobs/${jobId}/attempts/1-2-0000abcd/outputs/thumb.webp`, { method: "PUT", headers: { [SHA256_HEADER]: sha256("t") }, body: "t" });
    expect(r.status).toBe(200);
    const c = await as(tokens.worker, `/v1/worker/jobs/${jobId}/attempts/1-2-0000abcd/commit`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ files: [{ name: "thumb.webp", bytes: 1 }, { name: "preview.webp", bytes: 10 }] }),
    });
    expect(c.status).toBe(409);
    expect(existsSync(join(t.dataDir, "media", jobId, "out"))).toBe(false);
    expect((await as(tokens.worker, `/v1/worker/jobs/${jobId}/attempts/bad/commit`, { method: "POST", body: "{}" })).status).toBe(400);
  });
  test("an upload or commit for a run the job has moved past is 409 (stale attempt)", async () => {
    // Cancel then retry: the job's run goes from 1 to 2, so attempt 1-n is an older run's.
    const res = await t.api("/v1/jobs?type=image", { method: "POST", headers: { "content-type": "image/jpeg" }, body: Bun.file(image) });
    const id = ((await res.json()) as { id: string }).id;
    expect((await t.api(`/v1/jobs/${id}`, { method: "DELETE" })).status).toBe(200);
    expect((await t.api(`/v1/jobs/${id}/retry`, { method: "POST" })).status).toBe(202);
    const h = await holdNextJob(t.redis.url, "image");
    held.push(h);
    locks.set(id, h.token);
    const r = await as(tokens.worker, `/v1/worker/jobs/${id}/attempts/1-1-0000abcd/outputs/x.webp`, { method: "PUT", headers: { [SHA256_HEADER]: sha256("x") }, body: "x" });
    expect(r.status).toBe(409);
    const c = await as(tokens.worker, `/v1/worker/jobs/${id}/attempts/1-1-0000abcd/commit`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ files: [] }) });
    expect(c.status).toBe(409);
    const ok = await as(tokens.worker, `/v1/worker/jobs/${id}/attempts/2-1-0000abcd/outputs/x.webp`, { method: "PUT", headers: { [SHA256_HEADER]: sha256("x") }, body: "x" });
    expect(ok.status).toBe(200);
  });
});

describe("remote store", () => {
  test("hello refuses a token without the worker scope and an unreachable server", async () => {
    const dir = tempDir();
    try {
      await expect(createRemoteMediaStore({ dataDir: dir.path, server: t.url, token: tokens.reader, log }).hello()).rejects.toThrow(/403/);
      await expect(createRemoteMediaStore({ dataDir: dir.path, server: "http://127.0.0.1:1", token: tokens.worker, log }).hello()).rejects.toThrow(/cannot reach the api node/);
      expect((await createRemoteMediaStore({ dataDir: dir.path, server: t.url, token: tokens.worker, log }).hello()).maxUploadBytes).toBe(MAX_UPLOAD);
    } finally {
      dir.remove();
    }
  });

  test("a download cut mid-way resumes with Range from where it stopped, and is verified", async () => {
    const size = Bun.file(image).size;
    const cutAt = Math.floor(size / 3);
    const p = proxy(async (req, n) => {
      if (n !== 0) return null;
      // First GET: send the headers of the whole file, a third of the body, then drop the connection
      // (Bun logs the stream error "cut" on the server side: that is this test, not a failure).
      const up = await fetch(t.url + new URL(req.url).pathname, { headers: req.headers });
      const bytes = new Uint8Array(await up.arrayBuffer());
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          c.enqueue(bytes.subarray(0, cutAt));
          await Bun.sleep(50);
          c.error(new Error("cut"));
        },
      });
      return new Response(body, { status: 200, headers: up.headers });
    });
    const dir = tempDir();
    try {
      const store = createRemoteMediaStore({ dataDir: dir.path, server: p.url, token: tokens.worker, log, backoffMs: 10 });
      const path = await store.fetchSource(jobId);
      expect(path.startsWith(dir.path)).toBe(true);
      expect(await sha256File(path)).toBe(await sha256File(image));
      const gets = p.seen.filter((s) => s.path.endsWith("/source"));
      expect(gets.length).toBe(2);
      expect(gets[0]!.range).toBeNull();
      expect(gets[1]!.range).toBe(`bytes=${cutAt}-`);
      await store.releaseJob(jobId);
      expect(existsSync(join(dir.path, "media", jobId))).toBe(false);
    } finally {
      p.stop();
      dir.remove();
    }
  });

  test("an upload corrupted on the way is refused by checksum, retried, then committed into out/", async () => {
    let corrupted = 0;
    const p = proxy(async (req) => {
      if (req.method !== "PUT" || corrupted > 0) return null;
      corrupted++;
      const bytes = new Uint8Array(await req.arrayBuffer());
      bytes[0] = bytes[0]! ^ 0xff;
      return fetch(t.url + new URL(req.url).pathname, { method: "PUT", headers: req.headers, body: bytes });
    });
    const dir = tempDir();
    try {
      const store = createRemoteMediaStore({ dataDir: dir.path, server: p.url, token: tokens.worker, log, backoffMs: 10, parallelUploads: 1 });
      const attempt = await store.prepareAttempt(jobId, 1, 3, locks.get(jobId));
      mkdirSync(join(attempt, "frames"));
      writeFileSync(join(attempt, "preview.webp"), "preview bytes");
      writeFileSync(join(attempt, "frames", "f1.webp"), "frame one");
      await store.commitAttempt(jobId, attempt);
      const puts = p.seen.filter((s) => s.method === "PUT");
      expect(puts.length).toBe(3); // two files, one of them twice
      // The api node's folder carries the same random tag as the worker's own attempt folder.
      expect(p.seen.at(-1)!.path).toEndWith(`/attempts/${basename(attempt)}/commit`);
      expect(basename(attempt)).toMatch(/^1-3-[0-9a-f]{8}$/);
      const out = join(t.dataDir, "media", jobId, "out");
      expect(await Bun.file(join(out, "preview.webp")).text()).toBe("preview bytes");
      expect(await Bun.file(join(out, "frames", "f1.webp")).text()).toBe("frame one");
      expect(existsSync(join(t.dataDir, "media", jobId, "attempts"))).toBe(false);
      expect(existsSync(join(t.dataDir, "media", jobId, "uploads"))).toBe(false);
      expect(existsSync(attempt)).toBe(false); // the worker's local copy is gone
    } finally {
      p.stop();
      dir.remove();
    }
  });
});
