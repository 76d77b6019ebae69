// Playback URLs and static-file serving over real HTTP (SPEC §10): a real node (api + worker),
// a real video job from a lavfi clip, plain fetch with no Authorization header under /p/, and
// ffmpeg given only the playback URL.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { statSync } from "node:fs";
import { startTestNode, waitForJob, type TestNode } from "../../helpers/server";
import { lavfiClip } from "../../helpers/media";
import { corpus } from "../../helpers/corpus";
import { tempDir } from "../../helpers/tmp";
import { openDb, dbPath } from "../../../src/store/db";
import { createToken } from "../../../src/services/tokens";
import { sqliteRecords } from "../../../src/store/sqlite/index";
import { sweepRetention } from "../../../src/services/retention";
import { createLocalStore } from "../../../src/storage/local";
import { createLogger } from "../../../src/log";

interface Playback {
  hls: string | null;
  mp4: string | null;
  poster: string | null;
  base: string;
  expiresAt: string;
}

let t: TestNode;
let dir: ReturnType<typeof tempDir>;
let videoId: string;
let imageId: string;
let pb: Playback;

async function submit(path: string, type: string, options: object = {}): Promise<string> {
  const r = await t.api(`/v1/jobs?type=${type}&options=${encodeURIComponent(JSON.stringify(options))}`, { method: "POST", body: Bun.file(path) });
  expect(r.status).toBe(202);
  const id = ((await r.json()) as { id: string }).id;
  expect((await waitForJob(t, id, 120_000)).status).toBe("completed");
  return id;
}

async function playback(id: string, query = ""): Promise<Response> {
  return t.api(`/v1/jobs/${id}/playback${query}`);
}

beforeAll(async () => {
  dir = tempDir("mn-playback-");
  t = await startTestNode();
  const clip = lavfiClip(join(dir.path, "clip.mp4"), { width: 640, height: 360, durationSec: 4 });
  [videoId, imageId] = await Promise.all([submit(clip, "video", { renditions: [360, 240], segmentSec: 2 }), submit(corpus("image-jpeg-progressive-320x213.jpg").path, "image")]);
  const r = await playback(videoId);
  expect(r.status).toBe(200);
  pb = (await r.json()) as Playback;
});

afterAll(async () => {
  await t?.stop();
  dir?.remove();
});

/** The URIs a playlist names, resolved against its own URL (as every player does). */
async function playlistUris(url: string): Promise<string[]> {
  const r = await fetch(url);
  expect(r.status).toBe(200);
  const text = await r.text();
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((u) => new URL(u, url).href);
}

describe("GET /v1/jobs/:id/playback", () => {
  test("answers hls, mp4, poster and base under /p/<token>/, expiring in 24 h by default", async () => {
    expect(pb.base).toMatch(new RegExp(`^${t.url}/p/[A-Za-z0-9._-]+/$`));
    expect(pb.hls).toBe(pb.base + "master.m3u8");
    expect(pb.mp4).toBe(pb.base + "video.mp4");
    expect(pb.poster).toBe(pb.base + "poster.jpg");
    const left = Date.parse(pb.expiresAt) - Date.now();
    expect(left).toBeGreaterThan(86_400_000 - 120_000);
    expect(left).toBeLessThanOrEqual(86_400_000);
  });

  test("an image job has no hls/mp4/poster (null), but base reaches its files", async () => {
    const r = (await (await playback(imageId)).json()) as Playback;
    expect([r.hls, r.mp4, r.poster]).toEqual([null, null, null]);
    const job = (await (await t.api(`/v1/jobs/${imageId}`)).json()) as { outputs: { name: string }[] };
    const f = await fetch(r.base + job.outputs[0]!.name);
    expect(f.status).toBe(200);
    expect(f.headers.get("content-type")).toBe("image/webp");
    expect(f.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
  });

  test.each([
    ["?ttl=0", 400],
    ["?ttl=abc", 400],
    ["?ttl=-5", 400],
    [`?ttl=${7 * 86400 + 1}`, 400],
    [`?ttl=${7 * 86400}`, 200],
    ["?ttl=60", 200],
  ])("ttl %s → %d", async (q, status) => {
    const r = await playback(videoId, q);
    const body = await r.text();
    expect(r.status, body).toBe(status);
    if (status === 400) expect(JSON.parse(body).error.code).toBe("BAD_REQUEST");
    if (q === "?ttl=60") expect(Math.abs(Date.parse(JSON.parse(body).expiresAt) - Date.now() - 60_000)).toBeLessThan(5_000);
  });

  test("needs a token that may read the job: 401 without, 404 for another tenant, 403 without jobs:read", async () => {
    expect((await fetch(`${t.url}/v1/jobs/${videoId}/playback`)).status).toBe(401);
    const db = openDb(dbPath(t.dataDir));
    try {
      const other = createToken(db, { name: "other-tenant", scopes: ["jobs:read"], tenant: "someone-else" }, "test");
      const writeOnly = createToken(db, { name: "writer", scopes: ["jobs:write"] }, "test");
      const as = (tok: string) => fetch(`${t.url}/v1/jobs/${videoId}/playback`, { headers: { authorization: `Bearer ${tok}` } });
      const r = await as(other.token);
      expect(r.status).toBe(404);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
      expect((await as(writeOnly.token)).status).toBe(403);
    } finally {
      db.close();
    }
  });

  test("a job that is not completed gets 409, an unknown one 404", async () => {
    await t.api("/v1/queues/image/pause", { method: "POST" });
    try {
      const r = await t.api("/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-jpeg-1x1.jpg").path) });
      const id = ((await r.json()) as { id: string }).id;
      const p = await playback(id);
      expect(p.status).toBe(409);
      expect(((await p.json()) as { error: { code: string } }).error.code).toBe("CONFLICT");
      await t.api(`/v1/jobs/${id}`, { method: "DELETE" });
    } finally {
      await t.api("/v1/queues/image/resume", { method: "POST" });
    }
    expect((await playback("j_00000000000000000000000000")).status).toBe(404);
  });

  test("the playback route is in the OpenAPI document with its schemas", async () => {
    const doc = (await (await fetch(`${t.url}/docs/json`)).json()) as { paths: Record<string, Record<string, { parameters?: { name: string }[] }>> };
    const op = doc.paths["/v1/jobs/{id}/playback"]?.get;
    expect(op).toBeDefined();
    expect(op!.parameters!.map((p) => p.name)).toEqual(expect.arrayContaining(["id", "ttl"]));
    expect(doc.paths["/p/{token}/{*}"] ?? doc.paths["/p/{token}/*"]).toBeDefined();
  });
});

describe("GET /p/<token>/<name> (no header)", () => {
  test("the ladder plays by relative URIs: master → every child playlist → every segment, CORS open", async () => {
    const master = await fetch(pb.hls!, { headers: { origin: "https://some-site.example" } });
    expect(master.status).toBe(200);
    expect(master.headers.get("content-type")).toBe("application/vnd.apple.mpegurl");
    expect(master.headers.get("access-control-allow-origin")).toBe("*");
    expect(master.headers.get("cache-control")).toBe("public, max-age=60");
    const children = await playlistUris(pb.hls!);
    expect(children).toHaveLength(2);
    for (const child of children) {
      expect(child.startsWith(pb.base)).toBe(true);
      const segments = await playlistUris(child);
      expect(segments.length).toBeGreaterThanOrEqual(2);
      for (const s of segments) {
        const r = await fetch(s);
        expect(r.status).toBe(200);
        expect(r.headers.get("content-type")).toBe("video/mp2t");
        expect(r.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
        expect((await r.arrayBuffer()).byteLength).toBeGreaterThan(1000);
      }
    }
  });

  test("content types and cache policy of the other outputs", async () => {
    for (const [name, type, cache] of [
      ["video.mp4", "video/mp4", "public, max-age=31536000, immutable"],
      ["poster.jpg", "image/jpeg", "public, max-age=31536000, immutable"],
      ["storyboard.vtt", "text/vtt; charset=utf-8", "public, max-age=60"],
    ]) {
      const r = await fetch(pb.base + name!);
      expect(r.status, name).toBe(200);
      expect(r.headers.get("content-type")).toBe(type!);
      expect(r.headers.get("cache-control")).toBe(cache!);
      await r.arrayBuffer();
    }
  });

  test("ffmpeg given only the playback URL reads the master, both children and their segments", async () => {
    // Async: the node answering it runs in this process.
    const p = Bun.spawn(["ffmpeg", "-hide_banner", "-nostdin", "-v", "verbose", "-i", pb.hls!, "-map", "0:v", "-map", "0:a?", "-c", "copy", "-f", "null", "-"], { stdout: "ignore", stderr: "pipe" });
    const log = await new Response(p.stderr).text();
    expect(await p.exited, log.slice(-2000)).toBe(0);
    const opened = [...log.matchAll(/Opening '([^']+)' for reading/g)].map((m) => m[1]!);
    expect(log).toContain(`Input #0, hls, from '${pb.hls}'`);
    const playlists = opened.filter((u) => u.endsWith(".m3u8") && u !== pb.hls);
    const segments = opened.filter((u) => u.endsWith(".ts"));
    expect(new Set(playlists).size).toBe(2);
    expect(segments.length).toBeGreaterThanOrEqual(4);
    for (const u of opened) expect(u.startsWith(pb.base)).toBe(true);
  });

  test("a tampered or malformed token is 403; no auth header needed and none looked at", async () => {
    const token = pb.base.split("/p/")[1]!.slice(0, -1);
    const parts = token.split(".");
    const laterExpiry = [parts[0], parts[1], (parseInt(parts[2]!, 36) + 86400 * 365).toString(36), parts[3]].join(".");
    const otherJob = [imageId, parts[1], parts[2], parts[3]].join(".");
    for (const bad of [laterExpiry, otherJob, token.slice(0, -2) + (token.endsWith("A") ? "BB" : "AA"), "nonsense", "x".repeat(300)]) {
      const r = await fetch(`${t.url}/p/${bad}/master.m3u8`);
      expect(r.status, bad).toBe(403);
      expect(r.headers.get("access-control-allow-origin")).toBe("*");
      expect(r.headers.get("cache-control")).toBe("no-store");
    }
    // A bearer token does not replace the playback token, and a bad one does not spoil a good URL.
    expect((await fetch(`${t.url}/p/nonsense/master.m3u8`, { headers: { authorization: `Bearer ${t.token}` } })).status).toBe(403);
    expect((await fetch(pb.hls!, { headers: { authorization: "Bearer wrong" } })).status).toBe(200);
  });

  test("another job's file through the same token is 404, however it is spelled", async () => {
    const job = (await (await t.api(`/v1/jobs/${imageId}`)).json()) as { outputs: { name: string }[] };
    const theirs = job.outputs[0]!.name;
    for (const path of [theirs, `..%2F..%2F${imageId}%2Fout%2F${theirs}`, `%2e%2e/%2e%2e/${imageId}/out/${theirs}`, `..%252F..%252F${imageId}%252Fout%252F${theirs}`, `%2Fetc%2Fpasswd`, "nope.ts"]) {
      const r = await fetch(pb.base + path);
      expect(r.status, path).toBe(404);
    }
    // The image's own playback URL does reach it.
    const own = (await (await playback(imageId)).json()) as Playback;
    expect((await fetch(own.base + theirs)).status).toBe(200);
  });

  test("ETag and Last-Modified; If-None-Match and If-Modified-Since → 304 with no body", async () => {
    const url = pb.mp4!;
    const r = await fetch(url);
    const etag = r.headers.get("etag")!;
    const lm = r.headers.get("last-modified")!;
    expect(etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(Date.parse(lm)).toBeGreaterThan(0);
    await r.arrayBuffer();
    for (const h of [{ "if-none-match": etag }, { "if-modified-since": lm }, { "if-none-match": `"x", ${etag}` }] as Record<string, string>[]) {
      const c = await fetch(url, { headers: h });
      expect(c.status).toBe(304);
      expect(c.headers.get("etag")).toBe(etag);
      expect(c.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect((await c.arrayBuffer()).byteLength).toBe(0);
    }
    expect((await fetch(url, { headers: { "if-none-match": '"stale"' } })).status).toBe(200);
  });

  test("HEAD: same headers as GET, no body", async () => {
    const size = statSync(join(t.dataDir, "media", videoId, "out", "video.mp4")).size;
    const h = await fetch(pb.mp4!, { method: "HEAD" });
    expect(h.status).toBe(200);
    expect(h.headers.get("content-length")).toBe(String(size));
    expect(h.headers.get("content-type")).toBe("video/mp4");
    expect(h.headers.get("accept-ranges")).toBe("bytes");
    expect(h.headers.get("access-control-allow-origin")).toBe("*");
    expect(h.headers.get("etag")).toBe((await fetch(pb.mp4!, { method: "HEAD" })).headers.get("etag"));
    expect((await h.arrayBuffer()).byteLength).toBe(0);
  });

  test("Range: one part 206, multi-range 206 multipart/byteranges with the right bytes, unknown unit 200, If-Range", async () => {
    const whole = new Uint8Array(await (await fetch(pb.mp4!)).arrayBuffer());
    const size = whole.length;
    const one = await fetch(pb.mp4!, { headers: { range: "bytes=100-199" } });
    expect(one.status).toBe(206);
    expect(one.headers.get("content-range")).toBe(`bytes 100-199/${size}`);
    expect(new Uint8Array(await one.arrayBuffer())).toEqual(whole.slice(100, 200));

    const multi = await fetch(pb.mp4!, { headers: { range: "bytes=0-9,1000-1099,-16" } });
    expect(multi.status).toBe(206);
    const type = multi.headers.get("content-type")!;
    const boundary = /^multipart\/byteranges; boundary=(\S+)$/.exec(type)![1]!;
    const body = Buffer.from(await multi.arrayBuffer());
    expect(body.length).toBe(Number(multi.headers.get("content-length")));
    // Parse the parts back: each names its range, and its bytes are the file's.
    const parts = body.toString("latin1").split(`--${boundary}`).slice(1, -1);
    expect(parts).toHaveLength(3);
    const want = [
      [0, 9],
      [1000, 1099],
      [size - 16, size - 1],
    ];
    parts.forEach((p, i) => {
      const [head, data] = p.split("\r\n\r\n", 2) as [string, string];
      expect(head).toContain("content-type: video/mp4");
      expect(head).toContain(`content-range: bytes ${want[i]![0]}-${want[i]![1]}/${size}`);
      const bytes = Buffer.from(data.replace(/\r\n$/, ""), "latin1");
      expect(new Uint8Array(bytes)).toEqual(whole.slice(want[i]![0], want[i]![1]! + 1));
    });

    const unknown = await fetch(pb.mp4!, { headers: { range: "items=0-5" } });
    expect(unknown.status).toBe(200);
    expect((await unknown.arrayBuffer()).byteLength).toBe(size);
    const etag = one.headers.get("etag")!;
    expect((await fetch(pb.mp4!, { headers: { range: "bytes=0-9", "if-range": etag } })).status).toBe(206);
    const stale = await fetch(pb.mp4!, { headers: { range: "bytes=0-9", "if-range": '"older"' } });
    expect(stale.status).toBe(200);
    expect((await stale.arrayBuffer()).byteLength).toBe(size);
    const past = await fetch(pb.mp4!, { headers: { range: `bytes=${size}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe(`bytes */${size}`);
  });

  test("CORS preflight from any origin is answered for GET/HEAD with Range", async () => {
    const r = await fetch(pb.hls!, { method: "OPTIONS", headers: { origin: "https://another.example", "access-control-request-method": "GET", "access-control-request-headers": "range" } });
    expect(r.status).toBe(204);
    expect(r.headers.get("access-control-allow-origin")).toBe("*");
    expect(r.headers.get("access-control-allow-methods")).toContain("GET");
    expect(r.headers.get("access-control-allow-headers")).toContain("range");
    // /v1 stays closed to that origin.
    const v1 = await fetch(`${t.url}/v1/jobs`, { method: "OPTIONS", headers: { origin: "https://another.example", "access-control-request-method": "GET" } });
    expect(v1.status).toBe(403);
  });

  test("the URL stops working after its ttl: 410", async () => {
    const short = (await (await playback(videoId, "?ttl=1")).json()) as Playback;
    expect((await fetch(short.hls!)).status).toBe(200);
    while (Date.now() <= Date.parse(short.expiresAt)) await Bun.sleep(100);
    const r = await fetch(short.hls!);
    expect(r.status).toBe(410);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe("GONE");
    // The long-lived one still plays.
    expect((await fetch(pb.hls!)).status).toBe(200);
  });
});

describe("the authenticated output route serves the same way", () => {
  test("ETag/304, HEAD, multi-range, private caching", async () => {
    const url = `/v1/jobs/${videoId}/outputs/video.mp4`;
    const r = await t.api(url);
    expect(r.status).toBe(200);
    expect(r.headers.get("cache-control")).toBe("private, no-cache");
    expect(r.headers.get("access-control-allow-origin")).toBeNull();
    const etag = r.headers.get("etag")!;
    await r.arrayBuffer();
    expect((await t.api(url, { headers: { "if-none-match": etag } })).status).toBe(304);
    const h = await t.api(url, { method: "HEAD" });
    expect(h.status).toBe(200);
    expect(h.headers.get("etag")).toBe(etag);
    expect((await h.arrayBuffer()).byteLength).toBe(0);
    const m = await t.api(url, { headers: { range: "bytes=0-0,-1" } });
    expect(m.status).toBe(206);
    expect(m.headers.get("content-type")).toStartWith("multipart/byteranges; boundary=");
    expect((await t.api(url, { method: "HEAD", headers: { authorization: "" } })).status).toBe(401);
  });
});

describe("revocation: a URL names one generation of the job's outputs", () => {
  test("replaced outputs (a retry, a new completion) and deleted ones (retention) revoke it: 410", async () => {
    const db = openDb(dbPath(t.dataDir));
    try {
      const records = sqliteRecords(db);
      const before = (await records.jobs.get(imageId))!;
      const old = (await (await playback(imageId)).json()) as Playback;
      const job = (await (await t.api(`/v1/jobs/${imageId}`)).json()) as { outputs: { name: string }[] };
      const name = job.outputs[0]!.name;
      expect((await fetch(old.base + name)).status).toBe(200);

      // Outputs replaced: a later run's completion commits new files and a new finish time (done
      // here on the row itself, since a completed job is never retried through the API).
      db.run("UPDATE jobs SET finished_at = finished_at + 1000 WHERE id = ?", [imageId]);
      const revoked = await fetch(old.base + name);
      expect(revoked.status).toBe(410);
      expect(((await revoked.json()) as { error: { message: string } }).error.message).toContain("revoked");
      // Back in a queue (what a retry does): revoked too.
      db.run("UPDATE jobs SET status = 'queued', finished_at = NULL WHERE id = ?", [imageId]);
      expect((await fetch(old.base + name)).status).toBe(410);
      db.run("UPDATE jobs SET status = 'completed', finished_at = ? WHERE id = ?", [before.finishedAt! + 2000, imageId]);
      const fresh = (await (await playback(imageId)).json()) as Playback;
      expect((await fetch(fresh.base + name)).status).toBe(200);

      // Retention removes the job and its files: the URL that worked a moment ago is gone.
      const log = createLogger({ level: "error", format: "json" });
      const removed = await sweepRetention({ records, mediaStore: createLocalStore(t.dataDir), log, now: () => Date.now() + 2 * 86_400_000 }, 1);
      expect(removed).toBeGreaterThanOrEqual(1);
      expect((await fetch(fresh.base + name)).status).toBe(410);
    } finally {
      db.close();
    }
  });
});
