// Media in a bucket (SPEC §11) end to end: a real node (api + worker) with MEDIANODE_MEDIA_URL
// on a real S3 server process (s3rver), real ffmpeg. Uploads land in the bucket, workers read
// and write it, outputs and playback come from it (playlists through the node, everything else
// by presigned redirect), and the node's data dir keeps no media.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";
import { startTestS3, type TestS3 } from "../helpers/s3";
import { lavfiClip } from "../helpers/media";
import { corpus } from "../helpers/corpus";
import { tempDir } from "../helpers/tmp";
import { openDb, dbPath } from "../../src/store/sqlite/db";
import { sqliteRecords } from "../../src/store/sqlite/index";
import { sweepRetention } from "../../src/services/retention";
import { openBucket } from "../../src/storage/bucket";
import { createBucketFiles } from "../../src/storage/s3-files";
import { createLogger } from "../../src/log";

/** A streamed body of `mib` MiB (no Content-Length: the cap must hold while streaming). */
function streamed(mib: number, head = new Uint8Array()): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(ctl) {
      if (i === 0 && head.length) ctl.enqueue(head);
      if (i++ >= mib) return ctl.close();
      ctl.enqueue(new Uint8Array(1 << 20).fill(i));
    },
  });
}

/** Keys of the bucket that belong to no finished job of this file (what a refusal must not leave). */
async function strayKeys(): Promise<string[]> {
  return (await s3.keys(bucket, "media/")).filter((k) => ![videoId, imageId].some((id) => k.startsWith(`media/${id}/`)));
}

/** The node's upload cap: room for the test clip, below the oversized bodies (several parts). */
const CAP = 12 * 1024 * 1024;
let s3: TestS3;
let bucket: string;
let t: TestNode;
let dir: ReturnType<typeof tempDir>;
let videoId: string;
let imageId: string;

async function submit(path: string, type: string, options: object = {}): Promise<string> {
  const r = await t.api(`/v1/jobs?type=${type}&options=${encodeURIComponent(JSON.stringify(options))}`, { method: "POST", body: Bun.file(path) });
  const body = await r.text();
  expect(r.status, body).toBe(202);
  return (JSON.parse(body) as { id: string }).id;
}

/** The media files under a data dir (the api node's must have none once jobs end). */
function mediaFiles(dataDir: string): string[] {
  const root = join(dataDir, "media");
  if (!existsSync(root)) return [];
  return (readdirSync(root, { recursive: true, withFileTypes: true }) as import("node:fs").Dirent[]).filter((e) => e.isFile()).map((e) => e.name);
}

beforeAll(async () => {
  dir = tempDir("mn-s3-node-");
  s3 = await startTestS3();
  bucket = s3.bucket();
  t = await startTestNode({ ...s3.env(bucket), MEDIANODE_MAX_UPLOAD_BYTES: String(CAP) });
  const clip = lavfiClip(join(dir.path, "clip.mp4"), { width: 640, height: 360, durationSec: 4 });
  [videoId, imageId] = await Promise.all([submit(clip, "video", { renditions: [360, 240], segmentSec: 2 }), submit(corpus("image-jpeg-progressive-320x213.jpg").path, "image")]);
  for (const id of [videoId, imageId]) {
    const j = await waitForJob(t, id, 120_000);
    expect(j.status, JSON.stringify(j)).toBe("completed");
  }
});

afterAll(async () => {
  await t?.stop();
  await s3?.stop();
  dir?.remove();
});

describe("media in a bucket", () => {
  test("the upload, the committed attempt and out.json are in the bucket; the node's data dir keeps no media", async () => {
    const keys = await s3.keys(bucket, `media/${videoId}/`);
    expect(keys).toContain(`media/${videoId}/source`);
    expect(keys).toContain(`media/${videoId}/out.json`);
    const attempts = new Set(keys.filter((k) => k.includes("/attempts/")).map((k) => k.split("/")[3]));
    // One committed attempt; older or abandoned ones are gone.
    expect(attempts.size).toBe(1);
    expect(keys.some((k) => k.endsWith("/master.m3u8"))).toBe(true);
    expect(mediaFiles(t.dataDir)).toEqual([]);
  });

  test("the HTTP store of `worker --server` is refused (409): with a bucket, workers use it directly", async () => {
    const r = await t.api("/v1/worker/hello");
    const body = (await r.json()) as { error: { code: string; message: string } };
    expect(r.status).toBe(409);
    expect(body.error.message).toMatch(/MEDIANODE_MEDIA_URL/);
  });

  test("/readyz checks the bucket", async () => {
    const r = await fetch(`${t.url}/readyz`);
    const body = (await r.json()) as { status: string; checks: Record<string, { ok: boolean; detail: string }> };
    expect(r.status, JSON.stringify(body)).toBe(200);
    expect(body.checks.bucket?.ok).toBe(true);
  });

  test("an image output answers with a presigned redirect whose URL serves the file (Range too)", async () => {
    const job = (await (await t.api(`/v1/jobs/${imageId}`)).json()) as { outputs: { name: string; bytes: number; mime: string }[] };
    const o = job.outputs[0]!;
    const r = await t.api(`/v1/jobs/${imageId}/outputs/${o.name}`, { redirect: "manual" });
    expect(r.status).toBe(302);
    const loc = r.headers.get("location")!;
    expect(loc.startsWith(s3.endpoint + "/")).toBe(true);
    expect(loc).toContain("X-Amz-Signature=");
    expect(r.headers.get("cache-control")).toBe("no-store");
    const whole = await fetch(loc);
    expect(whole.status).toBe(200);
    expect((await whole.bytes()).byteLength).toBe(o.bytes);
    expect(whole.headers.get("content-type")).toBe(o.mime);
    const part = await fetch(loc, { headers: { range: "bytes=0-9" } });
    expect(part.status).toBe(206);
    expect((await part.bytes()).byteLength).toBe(10);
    // A name the job does not have: 404 from the node, no redirect.
    expect((await t.api(`/v1/jobs/${imageId}/outputs/nope.webp`, { redirect: "manual" })).status).toBe(404);
  });

  test("a playlist is served by the node with static-file semantics (ETag, 304, Range)", async () => {
    const r = await t.api(`/v1/jobs/${videoId}/outputs/master.m3u8`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/mpegurl/);
    const text = await r.text();
    expect(text).toContain("#EXTM3U");
    const etag = r.headers.get("etag")!;
    expect(etag).toMatch(/^"/);
    expect((await t.api(`/v1/jobs/${videoId}/outputs/master.m3u8`, { headers: { "if-none-match": etag } })).status).toBe(304);
    const part = await t.api(`/v1/jobs/${videoId}/outputs/master.m3u8`, { headers: { range: "bytes=0-6" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 0-6/${Buffer.byteLength(text)}`);
    expect(await part.text()).toBe("#EXTM3U");
  });

  test("playback from the bucket: every relative URI of the HLS playlists resolves, and ffmpeg plays the URL", async () => {
    const pb = (await (await t.api(`/v1/jobs/${videoId}/playback`)).json()) as { hls: string; mp4: string; base: string };
    const visit = async (url: string, depth: number): Promise<number> => {
      const r = await fetch(url);
      expect(r.status, url).toBe(200);
      expect(r.headers.get("access-control-allow-origin")).toBe("*");
      const uris = (await r.text()).split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#")).map((u) => new URL(u, url).href);
      expect(uris.length).toBeGreaterThan(0);
      let n = 0;
      for (const u of uris) {
        // Relative URIs keep the token's path: each one reaches the node's /p/ route.
        expect(u.startsWith(pb.base)).toBe(true);
        if (u.endsWith(".m3u8")) n += await visit(u, depth + 1);
        else {
          const seg = await fetch(u, { redirect: "manual" });
          expect(seg.status, u).toBe(302);
          const got = await fetch(seg.headers.get("location")!);
          expect(got.status).toBe(200);
          expect((await got.bytes()).byteLength).toBeGreaterThan(0);
          n++;
        }
      }
      return n;
    };
    expect(await visit(pb.hls, 0)).toBeGreaterThanOrEqual(4);
    // The MP4 through the playback URL, with Range, after the redirect (fetch follows it).
    const mp4 = await fetch(pb.mp4, { headers: { range: "bytes=0-99" } });
    expect(mp4.status).toBe(206);
    expect(mp4.headers.get("content-range")).toMatch(/^bytes 0-99\/\d+$/);
    const p = Bun.spawn(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-i", pb.hls, "-map", "0:v", "-c", "copy", "-f", "null", "-"], { stdout: "ignore", stderr: "pipe" });
    const code = await p.exited;
    expect(code, await new Response(p.stderr).text()).toBe(0);
  });

  test("an oversized upload is refused while streaming (413), raw or multipart, and leaves nothing in the bucket", async () => {
    const raw = await t.api("/v1/jobs?type=video", { method: "POST", body: streamed(30), headers: { "content-type": "video/mp4" } });
    const rb = (await raw.json()) as { error: { code: string } };
    expect(raw.status, JSON.stringify(rb)).toBe(413);
    const boundary = "----mnboundary";
    const pre = new TextEncoder().encode(`--${boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\nvideo\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\nContent-Type: video/mp4\r\n\r\n`);
    const mp = await t.api("/v1/jobs", { method: "POST", body: streamed(30, pre), headers: { "content-type": `multipart/form-data; boundary=${boundary}` } });
    expect(mp.status, await mp.text()).toBe(413);
    expect(await strayKeys()).toEqual([]);
  });

  test("an upload the client abandons halfway leaves nothing in the bucket", async () => {
    const ac = new AbortController();
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(ctl) {
        // Past one part (8 MiB), then the client goes away.
        if (sent >= 10 * 1024 * 1024) {
          ac.abort();
          return;
        }
        sent += 1 << 20;
        ctl.enqueue(new Uint8Array(1 << 20).fill(7));
        await Bun.sleep(5);
      },
    });
    await t.api("/v1/jobs?type=video", { method: "POST", body, headers: { "content-type": "video/mp4" }, signal: ac.signal }).catch(() => null);
    // The node notices the cut body, aborts the multipart upload and deletes nothing it had not stored.
    for (let i = 0; i < 50 && (await strayKeys()).length; i++) await Bun.sleep(100);
    await Bun.sleep(500);
    expect(await strayKeys()).toEqual([]);
  });

  test("an upload that is not media (415) leaves nothing in the bucket", async () => {
    const r = await t.api("/v1/jobs?type=video", { method: "POST", body: "this is not a video, just text", headers: { "content-type": "video/mp4" } });
    expect(r.status, await r.text()).toBe(415);
    expect(await strayKeys()).toEqual([]);
  });

  test("wrong credentials: a node's /readyz is not ready and names the bucket; uploads fail STORAGE", async () => {
    const bad = await startTestNode({ ...s3.env(bucket), AWS_ACCESS_KEY_ID: "NOT-A-KEY", MEDIANODE_ROLES: "api" }, { redis: t.redis });
    try {
      const r = await fetch(`${bad.url}/readyz`);
      const body = (await r.json()) as { checks: Record<string, { ok: boolean; detail: string }> };
      expect(r.status).toBe(503);
      expect(body.checks.bucket?.ok).toBe(false);
      expect(body.checks.bucket?.detail).toMatch(/InvalidAccessKeyId|403/);
      const up = await bad.api("/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-jpeg-progressive-320x213.jpg").path) });
      expect(((await up.json()) as { error: { code: string } }).error.code).toBe("STORAGE");
      expect(await strayKeys()).toEqual([]);
    } finally {
      await bad.stop();
    }
  });

  test("retention deletes a finished job's objects from the bucket", async () => {
    const db = openDb(dbPath(t.dataDir));
    try {
      const files = createBucketFiles(openBucket(t.config)!, join(t.dataDir, "media"));
      const log = createLogger({ level: "error", format: "json" });
      expect((await s3.keys(bucket, `media/${imageId}/`)).length).toBeGreaterThan(0);
      const removed = await sweepRetention({ records: sqliteRecords(db), mediaStore: files, log, now: () => Date.now() + 2 * 86_400_000 }, 1);
      expect(removed).toBeGreaterThanOrEqual(2);
      expect(await s3.keys(bucket, `media/${imageId}/`)).toEqual([]);
      expect(await s3.keys(bucket, `media/${videoId}/`)).toEqual([]);
      expect((await t.api(`/v1/jobs/${imageId}`)).status).toBe(404);
    } finally {
      db.close();
    }
  });
});
