// HEIC photos and capability routing across real processes: an api-only node and two
// `medianode worker` processes on its Redis and data dir. One worker's PATH has ffmpeg and
// ffprobe but no heif-convert (libheif), so it does not advertise "heic"; a HEIC upload then
// requires heic, waits while only that worker is up (it still runs JPEG jobs), and completes
// on the worker that has libheif once it comes online. A HEIC given as a URL (served here with
// a generic content type and no extension) is routed the same way: the api node reads its
// head with a Range request at submit.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { corpus } from "../helpers/corpus";
import { startTestRedis, type TestRedis } from "../helpers/redis";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";
import { tempDir } from "../helpers/tmp";
import { startWorkerProcess } from "../helpers/worker-process";

interface JobJson {
  id: string;
  status: string;
  node: string | null;
  options: Record<string, unknown>;
  result?: { thumbhash?: string; width?: number; height?: number };
  live?: { waiting?: { reason: string; require: string[] } };
}

let redis: TestRedis;
let api: TestNode;
const dir = tempDir();
const workers: ReturnType<typeof Bun.spawn>[] = [];

async function startWorker(env: Record<string, string>): Promise<string> {
  return await startWorkerProcess({ redisUrl: redis.url, dataDir: dir.path, api, concurrency: "image=1,probe=0,video=0,audio=0,thumbnail=0", env: { MEDIANODE_URL_ALLOWLIST: "127.0.0.1", ...env }, procs: workers });
}

const upload = async (file: string, mime: string): Promise<JobJson> => {
  const r = await api.api("/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus(file).path), headers: { "content-type": mime } });
  const body = (await r.json()) as JobJson;
  if (r.status !== 202) throw new Error(`expected 202, got ${r.status}: ${JSON.stringify(body)}`);
  return body;
};

const submitUrl = async (url: string): Promise<JobJson> => {
  const r = await api.api("/v1/jobs", { method: "POST", body: JSON.stringify({ type: "image", source: { url } }), headers: { "content-type": "application/json" } });
  const body = (await r.json()) as JobJson;
  if (r.status !== 202) throw new Error(`expected 202, got ${r.status}: ${JSON.stringify(body)}`);
  return body;
};

// The photos by URL: no extension, a generic content type; Range honoured as a file server does.
const files = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req) {
    const name = new URL(req.url).pathname === "/photo-a" ? "image-heic-hevc-1080x1920.heic" : "image-jpeg-progressive-320x213.jpg";
    return new Response(Bun.file(corpus(name).path), { headers: { "content-type": "application/octet-stream" } });
  },
});

let noHeic: string;
beforeAll(async () => {
  redis = await startTestRedis();
  api = await startTestNode({ MEDIANODE_ROLES: "api", MEDIANODE_URL_ALLOWLIST: "127.0.0.1" }, { redis, dataDir: dir.path });
  // A PATH with ffmpeg and ffprobe only: no heif-convert on this worker.
  const bin = join(dir.path, "bin-without-libheif");
  mkdirSync(bin);
  for (const b of ["ffmpeg", "ffprobe"]) symlinkSync(Bun.which(b)!, join(bin, b));
  noHeic = await startWorker({ PATH: bin });
}, 120_000);
afterAll(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill("SIGKILL");
  await Promise.all(workers.map((w) => w.exited));
  await api?.stop();
  await redis?.stop();
  files.stop(true);
  dir.remove();
});

test("a HEIC job never runs on a node without libheif; it waits, then completes on one that has it", async () => {
  const nodes = (await (await api.api("/v1/nodes")).json()) as { items: { id: string; decoders?: string[] }[] };
  expect(nodes.items.find((n) => n.id === noHeic)!.decoders).toEqual([]);

  const heic = await upload("image-heic-hevc-1080x1920.heic", "image/heic");
  expect(heic.options.require).toEqual(["heic"]);
  expect(heic.live?.waiting).toMatchObject({ reason: "NO_CAPABLE_NODE", require: ["heic"] });
  // The worker without libheif is not idle for lack of work: a JPEG runs on it meanwhile.
  const jpeg = await upload("image-jpeg-progressive-320x213.jpg", "image/jpeg");
  expect(jpeg.options.require).toBeUndefined();
  const jpegDone = (await waitForJob(api, jpeg.id, 60_000)) as unknown as JobJson;
  expect([jpegDone.status, jpegDone.node]).toEqual(["completed", noHeic]);
  expect(((await (await api.api(`/v1/jobs/${heic.id}`)).json()) as JobJson).status).toBe("queued");
  // By URL: the same routing, from the head the api node read at submit.
  const heicUrl = await submitUrl(`${files.url}photo-a`);
  expect(heicUrl.options.require).toEqual(["heic"]);
  const jpegUrl = await submitUrl(`${files.url}photo-b`);
  expect(jpegUrl.options.require).toBeUndefined();
  const jpegUrlDone = (await waitForJob(api, jpegUrl.id, 60_000)) as unknown as JobJson;
  expect([jpegUrlDone.status, jpegUrlDone.node]).toEqual(["completed", noHeic]);
  expect(((await (await api.api(`/v1/jobs/${heicUrl.id}`)).json()) as JobJson).status).toBe("queued");

  const withHeic = await startWorker({});
  const list = (await (await api.api("/v1/nodes")).json()) as { items: { id: string; decoders?: string[] }[] };
  expect(list.items.find((n) => n.id === withHeic)!.decoders).toEqual(["heic"]);
  const done = (await waitForJob(api, heic.id, 90_000)) as unknown as JobJson;
  expect([done.status, done.node]).toEqual(["completed", withHeic]);
  expect(done.result).toMatchObject({ width: 1080, height: 1920 });
  expect(typeof done.result!.thumbhash).toBe("string");
  const urlDone = (await waitForJob(api, heicUrl.id, 90_000)) as unknown as JobJson;
  expect([urlDone.status, urlDone.node]).toEqual(["completed", withHeic]);
  expect(urlDone.result).toMatchObject({ width: 1080, height: 1920 });
}, 180_000);
