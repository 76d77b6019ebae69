// options.require across real processes: an api-only node and `medianode worker` processes
// sharing its Redis and data dir. One worker claims the label "gpu" (MEDIANODE_CAPABILITIES)
// and runs Debian's ffmpeg (it has libsvtav1); the other runs the bundled @ffmpeg-installer
// build (it has not) and no labels. Image jobs need no ffmpeg to run, so both can take them.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRequire } from "node:module";
import { corpus } from "../helpers/corpus";
import { startTestRedis, type TestRedis } from "../helpers/redis";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";
import { tempDir } from "../helpers/tmp";
import { wsConnect } from "../helpers/ws";
import { expectExit, runCli } from "../cli/run";
import { startWorkerProcess } from "../helpers/worker-process";
import { MAX_REQUIREMENT_QUEUES } from "../../src/queue/queues";
import { REQUIREMENT_QUEUES_KEY } from "../../src/queue/names";

const BUNDLED_FFMPEG = (createRequire(import.meta.url)("@ffmpeg-installer/ffmpeg") as { path: string }).path;
const IMAGE = corpus("image-jpeg-progressive-320x213.jpg").path;

interface JobJson {
  id: string;
  status: string;
  node: string | null;
  options: Record<string, unknown>;
  error: { code: string; message: string } | null;
  live?: { waiting?: { reason: string; require: string[]; message: string; since: string } };
}
interface QueueLine {
  name: string;
  waiting: number;
  active: number;
  completed: number;
  paused: boolean;
}

let redis: TestRedis;
let api: TestNode;
const dir = tempDir();
const workers: ReturnType<typeof Bun.spawn>[] = [];

/** A `medianode worker` process; resolves with its node id once it consumes. */
async function startWorker(env: Record<string, string>): Promise<string> {
  return await startWorkerProcess({ redisUrl: redis.url, dataDir: dir.path, api, concurrency: "image=2,probe=0,video=0,audio=0,thumbnail=0", env, procs: workers });
}

const submit = async (require?: string[]): Promise<JobJson> => {
  const q = require ? `&options=${encodeURIComponent(JSON.stringify({ require }))}` : "";
  const r = await api.api(`/v1/jobs?type=image${q}`, { method: "POST", body: Bun.file(IMAGE), headers: { "content-type": "image/jpeg" } });
  const body = (await r.json()) as JobJson;
  if (r.status !== 202) throw new Error(`expected 202, got ${r.status}: ${JSON.stringify(body)}`);
  return body;
};
const imageLine = async () => ((await (await api.api("/v1/queues")).json()) as { items: QueueLine[] }).items.find((q) => q.name === "image")!;
const getJob = async (id: string) => (await (await api.api(`/v1/jobs/${id}`)).json()) as JobJson;

let gpu: string;
let plain: string;
beforeAll(async () => {
  redis = await startTestRedis();
  api = await startTestNode({ MEDIANODE_ROLES: "api,monitor" }, { redis, dataDir: dir.path });
  [gpu, plain] = await Promise.all([startWorker({ MEDIANODE_CAPABILITIES: "gpu,fast-disk" }), startWorker({ MEDIANODE_FFMPEG_PATH: BUNDLED_FFMPEG })]);
}, 120_000);
afterAll(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill("SIGKILL");
  await Promise.all(workers.map((w) => w.exited));
  await api?.stop();
  await redis?.stop();
  dir.remove();
});

describe("routing", () => {
  test("the advert carries labels; only one worker's ffmpeg has libsvtav1", async () => {
    const list = (await (await api.api("/v1/nodes")).json()) as { items: { id: string; labels?: string[]; encoders: string[] }[] };
    const g = list.items.find((n) => n.id === gpu)!;
    const p = list.items.find((n) => n.id === plain)!;
    expect(g.labels).toEqual(["fast-disk", "gpu"]);
    expect(p.labels).toEqual([]);
    expect(g.encoders).toContain("libsvtav1");
    expect(p.encoders).not.toContain("libsvtav1");
    const text = expectExit(await runCli(["nodes", "--url", api.url, "--token", api.token]), 0).stdout;
    expect(text.split("\n").find((l) => l.startsWith(gpu))).toMatch(/\sfast-disk,gpu\s*$/);
    expect(text.split("\n").find((l) => l.startsWith(plain))).toMatch(/\s-\s*$/);
  });

  test("jobs requiring a label or an encoder run only where it is; jobs without a requirement run on either", async () => {
    const needGpu = await Promise.all(Array.from({ length: 6 }, () => submit(["gpu"])));
    const needSvt = await Promise.all(Array.from({ length: 3 }, () => submit(["libsvtav1", "fast-disk"])));
    const free = await Promise.all(Array.from({ length: 12 }, () => submit()));
    // Somebody can run each: no marker.
    for (const j of [...needGpu, ...needSvt]) expect(j.live?.waiting).toBeUndefined();
    expect(needSvt[0]!.options.require).toEqual(["fast-disk", "libsvtav1"]);
    const done = async (js: JobJson[]) => (await Promise.all(js.map((j) => waitForJob(api, j.id, 60_000)))) as unknown as JobJson[];
    const [g, s, f] = await Promise.all([done(needGpu), done(needSvt), done(free)]);
    for (const j of [...g, ...s, ...f]) expect(j.status).toBe("completed");
    expect(new Set(g.map((j) => j.node))).toEqual(new Set([gpu]));
    expect(new Set(s.map((j) => j.node))).toEqual(new Set([gpu]));
    const freeNodes = new Set(f.map((j) => j.node));
    for (const n of freeNodes) expect([gpu, plain]).toContain(n!);
    // The plain worker had nothing else to do: it took part of the unrestricted work.
    expect(freeNodes.has(plain)).toBe(true);
    // One line per type, its requirement queues counted in it.
    const line = await imageLine();
    expect(line.completed).toBe(21);
    expect(line.waiting).toBe(0);
    expect(line.active).toBe(0);
  }, 120_000);
});

describe("no node has it", () => {
  test("the job says so (view, event, CLI), then completes once a node with it comes online", async () => {
    const events = await wsConnect(`${api.url.replace("http", "ws")}/v1/events?token=${api.token}`);
    const job = await submit(["tpu"]);
    expect(job.status).toBe("queued");
    expect(job.live?.waiting).toMatchObject({ reason: "NO_CAPABLE_NODE", require: ["tpu"] });
    expect(job.live!.waiting!.message).toContain("tpu");
    const queued = await events.next((m) => m.type === "job.queued" && m.jobId === job.id);
    expect((queued.data as { waiting?: { reason: string } }).waiting?.reason).toBe("NO_CAPABLE_NODE");
    events.close();

    const shown = expectExit(await runCli(["jobs", "show", job.id, "--url", api.url, "--token", api.token]), 0);
    expect(shown.stdout).toMatch(/waiting\s+NO_CAPABLE_NODE since \S+: no online node can run a image job requiring tpu/);
    // The type's line counts it as waiting.
    expect((await imageLine()).waiting).toBe(1);
    // Reconciles (every second here) leave it waiting while nobody has it.
    await Bun.sleep(2500);
    expect((await getJob(job.id)).live?.waiting?.since).toBe(job.live!.waiting!.since);

    // `submit --wait` of another such job prints the marker while it waits, and ends completed.
    const waiting = runCli(["submit", IMAGE, "--wait", "--options", '{"require":["tpu"]}', "--url", api.url, "--token", api.token], { timeoutMs: 90_000 });
    await Bun.sleep(1500);
    const tpu = await startWorker({ MEDIANODE_CAPABILITIES: "tpu" });
    const done = (await waitForJob(api, job.id, 60_000)) as unknown as JobJson;
    expect(done.status).toBe("completed");
    expect(done.node).toBe(tpu);
    expect(done.live).toBeUndefined();
    const w = expectExit(await waiting, 0);
    expect(w.stderr).toMatch(/job j_\S+ queued 0% \(waiting: no online node can run a image job requiring tpu/);
    expect(w.stdout).toMatch(/completed/);
    // Once a node has it, a new job carries no marker.
    const next = await submit(["tpu"]);
    expect(next.live).toBeUndefined();
    expect(((await waitForJob(api, next.id, 30_000)) as unknown as JobJson).node).toBe(tpu);
  }, 120_000);

  test("cancel of a job waiting for a capability nobody has removes it from its queue", async () => {
    const job = await submit(["quantum"]);
    expect(job.live?.waiting?.reason).toBe("NO_CAPABLE_NODE");
    expect((await imageLine()).waiting).toBe(1);
    const r = await api.api(`/v1/jobs/${job.id}`, { method: "DELETE" });
    expect(r.status).toBe(200);
    const c = (await r.json()) as JobJson;
    expect(c.status).toBe("cancelled");
    expect(c.live).toBeUndefined();
    expect((await imageLine()).waiting).toBe(0);
    // A node with it coming online later runs nothing for it.
    const q = await startWorker({ MEDIANODE_CAPABILITIES: "quantum" });
    await Bun.sleep(1500);
    const after = await getJob(job.id);
    expect(after.status).toBe("cancelled");
    expect(after.node).not.toBe(q);
  }, 60_000);

  test("pause of a type holds its requirement queues too; resume releases them", async () => {
    expect((await api.api("/v1/queues/image/pause", { method: "POST" })).status).toBe(200);
    try {
      const job = await submit(["gpu"]);
      await Bun.sleep(1500);
      expect((await getJob(job.id)).status).toBe("queued");
      const line = await imageLine();
      expect(line.paused).toBe(true);
      expect(line.waiting).toBe(1);
      expect((await api.api("/v1/queues/image/resume", { method: "POST" })).status).toBe(200);
      const done = (await waitForJob(api, job.id, 30_000)) as unknown as JobJson;
      expect(done.status).toBe("completed");
      expect(done.node).toBe(gpu);
    } finally {
      await api.api("/v1/queues/image/resume", { method: "POST" });
    }
  }, 60_000);
});

describe("bad requirements", () => {
  test.each([
    ["upper case", { require: ["GPU"] }],
    ["empty", { require: [] }],
    ["not a list", { require: "gpu" }],
    ["a stray key beside it", { require: ["gpu"], bogus: true }],
  ])("%s → 422, and no job is left", async (_, options) => {
    const before = ((await (await api.api("/v1/jobs?limit=500")).json()) as { items: unknown[] }).items.length;
    const r = await api.api(`/v1/jobs?type=image&options=${encodeURIComponent(JSON.stringify(options))}`, { method: "POST", body: Bun.file(IMAGE), headers: { "content-type": "image/jpeg" } });
    expect(r.status).toBe(422);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe("INVALID_OPTIONS");
    const after = ((await (await api.api("/v1/jobs?limit=500")).json()) as { items: unknown[] }).items.length;
    expect(after).toBe(before);
  });

  test(`more than ${MAX_REQUIREMENT_QUEUES} distinct requirement sets → 422 for a new set; known sets still work`, async () => {
    const c = redis.client();
    const have = await c.scard(REQUIREMENT_QUEUES_KEY);
    const fill = Array.from({ length: MAX_REQUIREMENT_QUEUES - have }, (_, i) => `jobs-probe@filler${i}`);
    await c.sadd(REQUIREMENT_QUEUES_KEY, ...fill);
    try {
      const r = await api.api(`/v1/jobs?type=image&options=${encodeURIComponent(JSON.stringify({ require: ["one-too-many"] }))}`, { method: "POST", body: Bun.file(IMAGE), headers: { "content-type": "image/jpeg" } });
      expect(r.status).toBe(422);
      expect(((await r.json()) as { error: { message: string } }).error.message).toContain("too many distinct options.require sets");
      const ok = await submit(["gpu"]);
      expect(((await waitForJob(api, ok.id, 30_000)) as unknown as JobJson).node).toBe(gpu);
    } finally {
      await c.srem(REQUIREMENT_QUEUES_KEY, ...fill);
    }
  }, 60_000);
});

describe("a requirement nobody ever meets", () => {
  test("fails with TIMEOUT once it has waited MEDIANODE_JOB_TIMEOUT_SEC", async () => {
    const own = await startTestNode({ MEDIANODE_ROLES: "api", MEDIANODE_JOB_TIMEOUT_SEC: "2" });
    try {
      const r = await own.api(`/v1/jobs?type=image&options=${encodeURIComponent(JSON.stringify({ require: ["nobody"] }))}`, { method: "POST", body: Bun.file(IMAGE), headers: { "content-type": "image/jpeg" } });
      expect(r.status).toBe(202);
      const job = (await r.json()) as JobJson;
      expect(job.live?.waiting?.reason).toBe("NO_CAPABLE_NODE");
      const done = (await waitForJob(own, job.id, 30_000)) as unknown as JobJson;
      expect(done.status).toBe("failed");
      expect(done.error?.code).toBe("TIMEOUT");
      expect(done.error?.message).toContain("no online node had nobody");
      const line = ((await (await own.api("/v1/queues")).json()) as { items: QueueLine[] }).items.find((q) => q.name === "image")!;
      expect(line.waiting).toBe(0);
    } finally {
      await own.stop();
    }
  }, 60_000);
});

describe("one node with every role", () => {
  test("a requirement set first used while it runs is consumed and recorded at once, without waiting for a reconcile", async () => {
    // Reconcile only at start: what lands in SQLite here comes from the queue's event stream.
    const own = await startTestNode({ MEDIANODE_CAPABILITIES: "gpu", MEDIANODE_CONCURRENCY: "image=2" }, { reconcileMs: 600_000 });
    try {
      const post = (require: string[]) =>
        own.api(`/v1/jobs?type=image&options=${encodeURIComponent(JSON.stringify({ require }))}`, { method: "POST", body: Bun.file(IMAGE), headers: { "content-type": "image/jpeg" } });
      const jobs = (await Promise.all([post(["gpu"]), post(["gpu", "libx264"])].map(async (r) => (await r).json()))) as JobJson[];
      for (const j of jobs) expect(j.live).toBeUndefined();
      for (const j of jobs) {
        const done = (await waitForJob(own, j.id, 20_000)) as unknown as JobJson;
        expect(done.status).toBe("completed");
        expect(done.node).toBe(own.node.nodeId);
      }
    } finally {
      await own.stop();
    }
  }, 60_000);
});
