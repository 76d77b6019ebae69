// SPEC §1/§8 with the HTTP media store: a remote worker SIGKILLed after uploading part of an
// attempt's outputs (one upload hanging half-sent) leaves nothing served; another remote worker
// takes the job over, and the api node serves exactly its complete, committed outputs.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { corpus } from "../helpers/corpus";
import { createTokenCli, startApiProcess, startWorkerProcess, type ApiProc, type WorkerProc } from "../helpers/cluster";
import { startTestRedis, type TestRedis } from "../helpers/redis";
import { waitForJob } from "../helpers/server";
import { tempDir } from "../helpers/tmp";

let redis: TestRedis;
let api: ApiProc;
let token: string;
const workers: WorkerProc[] = [];
const dirs = { api: tempDir("mn-api-"), w1: tempDir("mn-w1-"), w2: tempDir("mn-w2-") };
let proxy: ReturnType<typeof Bun.serve> | null = null;
const hung: (() => void)[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  api = await startApiProcess({ redisUrl: redis.url, dataDir: dirs.api.path });
  token = await createTokenCli(dirs.api.path, "workers", "worker");
}, 60_000);
afterAll(async () => {
  for (const h of hung) h();
  for (const w of workers) await w.stop();
  proxy?.stop(true);
  await api?.stop();
  await redis?.stop();
  for (const d of Object.values(dirs)) d.remove();
});

test("a remote worker killed mid-upload: out/ never holds its partial attempt; another worker completes the job", async () => {
  // The first worker talks through a proxy: its first output upload passes, the second sends
  // half its body to the api node and then hangs.
  let puts = 0;
  proxy = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const u = new URL(req.url);
      const target = api.url + u.pathname + u.search;
      if (req.method !== "PUT" || ++puts === 1) return fetch(target, { method: req.method, headers: req.headers, body: req.body });
      const bytes = new Uint8Array(await req.arrayBuffer());
      const half = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(bytes.subarray(0, bytes.length >> 1));
          hung.push(() => c.error(new Error("test over")));
        },
      });
      const headers = new Headers(req.headers);
      headers.delete("content-length");
      void fetch(target, { method: "PUT", headers, body: half }).catch(() => {});
      return await new Promise<Response>(() => {});
    },
  });
  workers.push(await startWorkerProcess({ redisUrl: redis.url, dataDir: dirs.w1.path, server: `http://127.0.0.1:${proxy.port}`, token, concurrency: "image=1" }));
  const img = corpus("image-jpeg-exif-orient6.jpg");
  const call = (path: string, init: RequestInit = {}) => fetch(api.url + path, { ...init, headers: { authorization: `Bearer ${api.token}`, ...(init.headers as Record<string, string>) } });
  const res = await call("/v1/jobs?type=image", { method: "POST", headers: { "content-type": "image/jpeg" }, body: Bun.file(img.path) });
  const id = ((await res.json()) as { id: string }).id;
  const jobDir = join(dirs.api.path, "media", id);

  // Wait until the first output is in the api node's attempt folder and the second is half-sent.
  const until = Date.now() + 30_000;
  while (!(puts >= 2 && existsSync(join(jobDir, "attempts")) && readdirSync(join(jobDir, "attempts"), { recursive: true }).some((f) => String(f).endsWith(".webp")))) {
    if (Date.now() > until) throw new Error(`uploads did not start: puts=${puts}`);
    await Bun.sleep(50);
  }
  await Bun.sleep(200);
  workers[0]!.proc.kill("SIGKILL");
  await workers[0]!.proc.exited;
  expect(existsSync(join(jobDir, "out"))).toBe(false);
  expect((await call(`/v1/jobs/${id}/outputs/thumb.webp`)).status).toBe(404);

  // A second worker, straight to the api node, takes the job once the dead one's lock expires.
  workers.push(await startWorkerProcess({ redisUrl: redis.url, dataDir: dirs.w2.path, server: api.url, token, concurrency: "image=1" }));
  const done = (await waitForJob({ api: call }, id, 90_000)) as unknown as { status: string; node: string; outputs: { name: string; bytes: number }[] };
  expect(done.status).toBe("completed");
  expect(done.node).toBe(workers[1]!.nodeId);
  const served = readdirSync(join(jobDir, "out"), { recursive: true }).map(String).sort();
  expect(served).toEqual(done.outputs.map((o) => o.name).sort());
  for (const o of done.outputs) {
    const r = await call(`/v1/jobs/${id}/outputs/${o.name}`);
    expect(r.status).toBe(200);
    expect((await r.arrayBuffer()).byteLength).toBe(o.bytes);
  }
  expect(existsSync(join(jobDir, "attempts"))).toBe(false);
}, 150_000);
