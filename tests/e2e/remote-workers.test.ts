// Issue 6 / SPEC §1: an api-only node and two `medianode worker --server URL --token T`
// processes with their own data dirs and one private Redis. The workers never touch the api
// node's data dir: sources come over HTTP, outputs go back over HTTP, and the api node serves them.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { corpus, CORPUS_DIR } from "../helpers/corpus";
import { createTokenCli, startApiProcess, startWorkerProcess, type ApiProc, type WorkerProc } from "../helpers/cluster";
import { startTestRedis, type TestRedis } from "../helpers/redis";
import { waitForJob } from "../helpers/server";
import { tempDir } from "../helpers/tmp";

let redis: TestRedis;
let api: ApiProc;
const workers: WorkerProc[] = [];
const dirs = { api: tempDir("mn-api-"), w1: tempDir("mn-w1-"), w2: tempDir("mn-w2-") };

const call = (path: string, init: RequestInit = {}) => fetch(api.url + path, { ...init, headers: { authorization: `Bearer ${api.token}`, ...(init.headers as Record<string, string>) } });

/** Every file under dir, relative. */
const filesUnder = (dir: string): string[] => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));

beforeAll(async () => {
  redis = await startTestRedis();
  // The import folder exists on the api host only: the workers get {path} sources over HTTP too.
  api = await startApiProcess({ redisUrl: redis.url, dataDir: dirs.api.path, env: { MEDIANODE_IMPORT_DIRS: CORPUS_DIR } });
  const token = await createTokenCli(dirs.api.path, "workers", "worker");
  for (const d of [dirs.w1, dirs.w2]) workers.push(await startWorkerProcess({ redisUrl: redis.url, dataDir: d.path, server: api.url, token, concurrency: "video=1,image=2,probe=1,audio=1,thumbnail=1" }));
}, 90_000);
afterAll(async () => {
  for (const w of workers) await w.stop();
  await api?.stop();
  await redis?.stop();
  for (const d of Object.values(dirs)) d.remove();
});

test("video and image jobs complete on the remote workers; the api node serves their outputs; no worker has the SQLite", async () => {
  const video = corpus("video-h264-aac-faststart-960x540.mp4");
  const opts = encodeURIComponent(JSON.stringify({ renditions: [360, 240], preset: "veryfast" }));
  const v = await call(`/v1/jobs?type=video&options=${opts}`, { method: "POST", headers: { "content-type": "video/mp4" }, body: Bun.file(video.path) });
  expect(v.status).toBe(202);
  const images = ["image-jpeg-exif-orient6.jpg", "image-png-rgba-alpha.png", "image-jpeg-progressive-320x213.jpg", "image-webp-lossy.webp"].map(corpus);
  const ids: string[] = [];
  for (const img of images) {
    const r = await call("/v1/jobs?type=image", { method: "POST", headers: { "content-type": Bun.file(img.path).type }, body: Bun.file(img.path) });
    expect(r.status).toBe(202);
    ids.push(((await r.json()) as { id: string }).id);
  }
  const videoId = ((await v.json()) as { id: string }).id;
  const fromPath = corpus("image-png-palette.png");
  const pj = await call("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "image", source: { path: fromPath.path } }) });
  expect(pj.status).toBe(202);
  images.push(fromPath);
  ids.push(((await pj.json()) as { id: string }).id);
  const workerIds = workers.map((w) => w.nodeId);

  type Done = { status: string; node: string; outputs: { name: string; bytes: number; url: string }[]; result: { width?: number }; error?: unknown };
  for (const [i, id] of ids.entries()) {
    const done = (await waitForJob({ api: call }, id, 90_000)) as unknown as Done;
    expect(done.status, JSON.stringify(done.error)).toBe("completed");
    expect(workerIds).toContain(done.node);
    const e = images[i]!.entry.expect;
    expect(done.result.width).toBe(e.autoOrient?.width ?? e.width!);
    for (const o of done.outputs) {
      const r = await call(`/v1/jobs/${id}/outputs/${o.name}`);
      expect(r.status).toBe(200);
      expect((await r.arrayBuffer()).byteLength).toBe(o.bytes);
    }
  }
  const vdone = (await waitForJob({ api: call }, videoId, 150_000)) as unknown as Done;
  expect(vdone.status, JSON.stringify(vdone.error)).toBe("completed");
  expect(workerIds).toContain(vdone.node);
  expect(vdone.outputs.map((o) => o.name)).toEqual(expect.arrayContaining(["master.m3u8", "video.mp4", "poster.jpg", "storyboard.vtt"]));

  // ffprobe plays the HLS ladder straight from the api node, over HTTP (playlists and segments).
  const p = Bun.spawnSync([
    "ffprobe", "-v", "error", "-headers", `Authorization: Bearer ${api.token}\r\n`, "-show_entries", "stream=codec_type,width,height", "-of", "json",
    `${api.url}/v1/jobs/${videoId}/outputs/master.m3u8`,
  ]);
  expect(p.exitCode, p.stderr.toString()).toBe(0);
  const streams = (JSON.parse(p.stdout.toString()) as { streams: { codec_type: string; height?: number }[] }).streams;
  expect(streams.filter((s) => s.codec_type === "video").map((s) => s.height).sort()).toEqual([240, 360]);

  // The workers kept no SQLite and no media (their copies go once an attempt ends).
  for (const d of [dirs.w1, dirs.w2]) {
    const files = filesUnder(d.path);
    expect(files.filter((f) => f.includes("medianode.db"))).toEqual([]);
    expect(files.filter((f) => f.startsWith("media/"))).toEqual([]);
  }
  expect(filesUnder(dirs.api.path)).toContain("medianode.db");

  // The api node accounted the traffic with the workers.
  const metrics = await (await fetch(api.url + "/metrics")).text();
  const bytes = (dir: string) => Number(new RegExp(`medianode_bytes_total\\{direction="${dir}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
  const sourceBytes = video.entry.bytes + images.reduce((n, i) => n + i.entry.bytes, 0); // uploads and the {path} file
  expect(bytes("worker_out")).toBeGreaterThanOrEqual(sourceBytes);
  const outputBytes = [vdone, ...(await Promise.all(ids.map(async (id) => (await (await call(`/v1/jobs/${id}`)).json()) as Done)))].flatMap((j) => j.outputs).reduce((n, o) => n + o.bytes, 0);
  expect(bytes("worker_in")).toBeGreaterThanOrEqual(outputBytes);
}, 240_000);

test("/v1/nodes lists both workers with their capabilities", async () => {
  const r = (await (await call("/v1/nodes")).json()) as { items: { id: string; roles: string[]; concurrency: Record<string, number>; encoders: string[]; ffmpegVersion: string | null }[] };
  for (const w of workers) {
    const n = r.items.find((x) => x.id === w.nodeId);
    expect(n, JSON.stringify(r.items)).toBeDefined();
    expect(n!.roles).toEqual(["worker"]);
    expect(n!.concurrency.image).toBe(2);
    expect(n!.encoders).toContain("libx264");
    expect(n!.ffmpegVersion).toBeTruthy();
  }
});

test("SIGTERM stops each worker with exit 0", async () => {
  for (const w of workers) expect(await w.stop()).toBe(0);
});
