// Issue 6: the remote workers as separate hosts. Each worker runs in its own network namespace
// and reaches the api node and Redis only over a veth pair (10.200.x.y, made here and removed
// in afterAll); it cannot see the api node's loopback, nor (over the network) its data dir.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { corpus } from "../helpers/corpus";
import { createTokenCli, startApiProcess, startWorkerProcess, type ApiProc, type WorkerProc } from "../helpers/cluster";
import { createNetns, netnsUnsupportedReason, type Netns } from "../helpers/netns";
import { startTestRedis, type TestRedis } from "../helpers/redis";
import { waitForJob } from "../helpers/server";
import { tempDir } from "../helpers/tmp";

const reason = netnsUnsupportedReason();
let ns: Netns | null = null;
let redis: TestRedis;
let api: ApiProc;
let token: string;
const workers: WorkerProc[] = [];
const dirs = { api: tempDir("mn-api-"), w1: tempDir("mn-w1-"), w2: tempDir("mn-w2-") };

beforeAll(async () => {
  if (reason) return;
  ns = createNetns(2);
  // Redis and the api node listen on the bridge address only (and Redis on loopback for the harness).
  redis = await startTestRedis(["--bind", "127.0.0.1", ns.hostAddress, "--protected-mode", "no"]);
  api = await startApiProcess({ redisUrl: redis.url, dataDir: dirs.api.path, host: ns.hostAddress });
  token = await createTokenCli(dirs.api.path, "workers", "worker");
  const redisUrl = `redis://${ns.hostAddress}:${redis.port}`;
  for (const [i, d] of [dirs.w1, dirs.w2].entries()) {
    workers.push(await startWorkerProcess({ redisUrl, dataDir: d.path, server: api.url, token, concurrency: "image=2,video=1", wrap: ns.spaces[i]!.wrap }));
  }
}, 90_000);
afterAll(async () => {
  for (const w of workers) await w.stop();
  await api?.stop();
  await redis?.stop();
  ns?.remove();
  for (const d of Object.values(dirs)) d.remove();
});

test.skipIf(reason !== null)(`workers in their own network namespaces complete jobs over the veth network${reason ? ` (skipped: ${reason})` : ""}`, async () => {
  const call = (path: string, init: RequestInit = {}) => fetch(api.url + path, { ...init, headers: { authorization: `Bearer ${api.token}`, ...(init.headers as Record<string, string>) } });
  const files = ["image-jpeg-exif-orient6.jpg", "image-png-rgba-alpha.png", "image-webp-lossy.webp", "image-jpeg-progressive-320x213.jpg"].map(corpus);
  const ids: string[] = [];
  for (const f of files) {
    const r = await call("/v1/jobs?type=image", { method: "POST", headers: { "content-type": Bun.file(f.path).type }, body: Bun.file(f.path) });
    expect(r.status).toBe(202);
    ids.push(((await r.json()) as { id: string }).id);
  }
  for (const id of ids) {
    const done = (await waitForJob({ api: call }, id, 90_000)) as unknown as { status: string; node: string; outputs: { name: string; bytes: number }[] };
    expect(done.status).toBe("completed");
    expect(workers.map((w) => w.nodeId)).toContain(done.node);
    const o = done.outputs[0]!;
    expect((await (await call(`/v1/jobs/${id}/outputs/${o.name}`)).arrayBuffer()).byteLength).toBe(o.bytes);
  }
  const nodes = (await (await call("/v1/nodes")).json()) as { items: { id: string }[] };
  for (const w of workers) expect(nodes.items.map((n) => n.id)).toContain(w.nodeId);
  // Inside a namespace the api node's loopback is not there: only the veth address works.
  const port = new URL(api.url).port;
  const p = Bun.spawn([...ns!.spaces[0]!.wrap, process.execPath, "-e", `fetch("http://127.0.0.1:${port}/healthz").then(() => process.exit(0), () => process.exit(7))`], { stdout: "ignore", stderr: "ignore" });
  expect(await p.exited).toBe(7);
  const q = Bun.spawn([...ns!.spaces[0]!.wrap, process.execPath, "-e", `fetch("${api.url}/healthz").then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(7))`], { stdout: "ignore", stderr: "ignore" });
  expect(await q.exited).toBe(0);
}, 180_000);
