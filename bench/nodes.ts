// Issue 6 benchmark "nodes": image-job throughput of an api-only node with 1, 2 and 3
// `medianode worker` processes on this machine (one private Redis), in HTTP-store mode
// (--server/--token: sources downloaded, outputs uploaded) and shared-mount mode (the workers
// use the api node's data dir in place), and the bytes each job moves over HTTP between the
// api node and its workers (from the api node's medianode_bytes_total{direction="worker_*"}).
import { join } from "node:path";
import { cpus, loadavg } from "node:os";
import { createTokenCli, startApiProcess, startWorkerProcess, type ApiProc, type WorkerProc } from "../tests/helpers/cluster";
import { startTestRedis } from "../tests/helpers/redis";
import { benchDir, makeFrames } from "./lib/media";
import { mapPool, round } from "./lib/pool";
import type { Result } from "./lib/result";

const JOBS = Number(process.env.BENCH_NODES_JOBS ?? 200);
const WORKER_COUNTS = [1, 2, 3];
/** Jobs at once per worker process (each has a pool of 2 media threads). */
const PER_WORKER = 2;
const CLIENT_CONCURRENCY = 4;
const ROUNDS = Number(process.env.BENCH_NODES_ROUNDS ?? 2);

interface JobView {
  id: string;
  status: string;
  finishedAt: string | null;
  error: unknown;
  outputs: { bytes: number }[];
}

function client(api: ApiProc) {
  const call = (path: string, init: RequestInit = {}) => fetch(api.url + path, { ...init, headers: { authorization: `Bearer ${api.token}`, ...(init.headers as Record<string, string>) } });
  const must = async (r: Response, what: string) => {
    if (!r.ok) throw new Error(`${what}: HTTP ${r.status} ${await r.text()}`);
    return r;
  };
  const bytes = async () => {
    const text = await (await fetch(api.url + "/metrics")).text();
    const get = (d: string) => Number(new RegExp(`medianode_bytes_total\\{direction="${d}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    return { toWorkers: get("worker_out"), fromWorkers: get("worker_in") };
  };
  /** All `ids` terminal (polls the job list, newest first, a page at a time). */
  const waitAll = async (ids: Set<string>, timeoutMs: number) => {
    const until = Date.now() + timeoutMs;
    const done = new Map<string, JobView>();
    while (done.size < ids.size) {
      if (Date.now() > until) throw new Error(`only ${done.size}/${ids.size} jobs finished in ${timeoutMs} ms`);
      for (const status of ["completed", "failed"]) {
        let cursor: string | null = null;
        for (let page = 0; page < 4; page++) {
          const r = await call(`/v1/jobs?type=image&status=${status}&limit=500${cursor ? `&cursor=${cursor}` : ""}`);
          const { items, nextCursor } = (await r.json()) as { items: JobView[]; nextCursor: string | null };
          for (const j of items) if (ids.has(j.id)) done.set(j.id, j);
          if (!nextCursor) break;
          cursor = nextCursor;
        }
      }
      if (done.size < ids.size) await Bun.sleep(300);
    }
    const failed = [...done.values()].filter((j) => j.status !== "completed");
    if (failed.length) throw new Error(`${failed.length} jobs failed: ${JSON.stringify(failed[0]!.error)}`);
    return [...done.values()];
  };
  return { call, must, bytes, waitAll };
}

interface Pass {
  mode: "http" | "shared";
  workers: number;
  jobsPerSec: number;
  processSec: number;
  bytesToWorkersPerJob: number;
  bytesFromWorkersPerJob: number;
  sourceBytesPerJob: number;
  outputBytesPerJob: number;
}

export async function run(): Promise<Result> {
  const tmp = benchDir("nodes");
  const load0 = loadavg()[0]!;
  const redis = await startTestRedis();
  let api: ApiProc | null = null;
  let workers: WorkerProc[] = [];
  try {
    const frameDir = join(tmp.path, "frames");
    await Bun.write(join(frameDir, ".keep"), "");
    const files = await makeFrames(frameDir, JOBS);
    const sourceBytes = files.reduce((n, f) => n + Bun.file(f).size, 0);
    const apiDir = join(tmp.path, "api");
    api = await startApiProcess({ redisUrl: redis.url, dataDir: apiDir, env: { MEDIANODE_LOG_LEVEL: "error" } });
    const token = await createTokenCli(apiDir, "bench-workers", "worker");
    const c = client(api);
    const passes: Pass[] = [];

    const pass = async (mode: Pass["mode"], n: number): Promise<Pass> => {
      workers = [];
      for (let i = 0; i < n; i++) {
        const common = { redisUrl: redis.url, concurrency: `image=${PER_WORKER},video=0,audio=0,thumbnail=0,probe=0` };
        workers.push(
          await startWorkerProcess(mode === "http" ? { ...common, dataDir: join(tmp.path, `w-${mode}-${n}-${i}`), server: api!.url, token } : { ...common, dataDir: apiDir }),
        );
      }
      // Intake with the queue paused, then the processing alone is timed: resume → last finishedAt.
      await c.must(await c.call("/v1/queues/image/pause", { method: "POST" }), "pause");
      const ids = await mapPool(files, CLIENT_CONCURRENCY, async (f) => {
        const r = await c.must(await c.call("/v1/jobs?type=image", { method: "POST", headers: { "content-type": "image/jpeg" }, body: Bun.file(f) }), "submit");
        return ((await r.json()) as { id: string }).id;
      });
      const b0 = await c.bytes();
      const t0 = Date.now();
      await c.must(await c.call("/v1/queues/image/resume", { method: "POST" }), "resume");
      const done = await c.waitAll(new Set(ids), 600_000);
      const lastMs = Math.max(...done.map((j) => Date.parse(j.finishedAt!)));
      const b1 = await c.bytes();
      for (const w of workers) await w.stop();
      workers = [];
      const processSec = (lastMs - t0) / 1000;
      const outputBytes = done.reduce((s, j) => s + j.outputs.reduce((x, o) => x + o.bytes, 0), 0);
      const p: Pass = {
        mode,
        workers: n,
        jobsPerSec: JOBS / processSec,
        processSec,
        bytesToWorkersPerJob: (b1.toWorkers - b0.toWorkers) / JOBS,
        bytesFromWorkersPerJob: (b1.fromWorkers - b0.fromWorkers) / JOBS,
        sourceBytesPerJob: sourceBytes / JOBS,
        outputBytesPerJob: outputBytes / JOBS,
      };
      console.error(`   ${mode} ×${n}: ${round(p.jobsPerSec, 2)} jobs/s (${round(processSec, 1)} s), HTTP ${Math.round(p.bytesToWorkersPerJob)} B down + ${Math.round(p.bytesFromWorkersPerJob)} B up per job`);
      return p;
    };

    // Warm-up: a short pass so the first timed one does not pay for cold caches.
    const warm = files.slice(0, 8);
    {
      const w = await startWorkerProcess({ redisUrl: redis.url, dataDir: join(tmp.path, "w-warm"), server: api.url, token, concurrency: `image=${PER_WORKER}` });
      const ids = await mapPool(warm, CLIENT_CONCURRENCY, async (f) => ((await (await c.call("/v1/jobs?type=image", { method: "POST", headers: { "content-type": "image/jpeg" }, body: Bun.file(f) })).json()) as { id: string }).id);
      await c.waitAll(new Set(ids), 120_000);
      await w.stop();
    }
    // Alternate modes at each size, and the whole sequence again in reverse, so load drifting
    // in from other work lands on both alike; each figure is the best of its ROUNDS passes.
    const plan = WORKER_COUNTS.flatMap((n) => (n % 2 ? (["http", "shared"] as const) : (["shared", "http"] as const)).map((m) => [m, n] as const));
    for (let r = 0; r < ROUNDS; r++) for (const [m, n] of r % 2 ? [...plan].reverse() : plan) passes.push(await pass(m, n));

    const get = (m: Pass["mode"], n: number) => passes.filter((p) => p.mode === m && p.workers === n).reduce((a, b) => (b.jobsPerSec > a.jobsPerSec ? b : a));
    const http1 = get("http", 1);
    const metrics = [
      ...WORKER_COUNTS.flatMap((n) => [
        { label: `HTTP store, ${n} worker${n > 1 ? "s" : ""}`, value: get("http", n).jobsPerSec, unit: "jobs/s" },
        { label: `shared mount, ${n} worker${n > 1 ? "s" : ""}`, value: get("shared", n).jobsPerSec, unit: "jobs/s" },
      ]),
      { label: "HTTP bytes per job, api → worker (source)", value: http1.bytesToWorkersPerJob, unit: "B" },
      { label: "HTTP bytes per job, worker → api (outputs)", value: http1.bytesFromWorkersPerJob, unit: "B" },
      { label: "HTTP bytes per job, shared mount (both ways)", value: get("shared", 1).bytesToWorkersPerJob + get("shared", 1).bytesFromWorkersPerJob, unit: "B" },
      { label: "source bytes per job", value: http1.sourceBytesPerJob, unit: "B" },
      { label: "output bytes per job", value: http1.outputBytesPerJob, unit: "B" },
    ];
    const ratios = [
      ...WORKER_COUNTS.slice(1).map((n) => ({ label: `HTTP store: ${n} workers / 1 worker jobs/s`, value: get("http", n).jobsPerSec / http1.jobsPerSec })),
      ...WORKER_COUNTS.map((n) => ({ label: `${n} worker${n > 1 ? "s" : ""}: HTTP store / shared mount jobs/s`, value: get("http", n).jobsPerSec / get("shared", n).jobsPerSec })),
      { label: "HTTP bytes per job / (source + outputs)", value: (http1.bytesToWorkersPerJob + http1.bytesFromWorkersPerJob) / (http1.sourceBytesPerJob + http1.outputBytesPerJob) },
    ];
    return {
      name: "nodes",
      description:
        `${JOBS} distinct 1920×1080 JPEGs (mean ${round(sourceBytes / JOBS / 1024, 0)} KiB) as image jobs (default variants), through an api-only node (serve --roles api,monitor,metrics, its own process) ` +
        `and N = ${WORKER_COUNTS.join(", ")} \`medianode worker\` processes (image=${PER_WORKER} each) on one private Redis, all on this ${cpus().length}-core machine. ` +
        `Per pass: the image queue is paused, the ${JOBS} jobs are uploaded (${CLIENT_CONCURRENCY} client loops), then resumed; jobs/s = ${JOBS} / (last finishedAt − resume), best of ${ROUNDS} passes (the sequence runs forward, then reversed). ` +
        `HTTP store: each worker has its own data dir and --server/--token; shared mount: the workers use the api node's data dir in place. Bytes come from the api node's medianode_bytes_total{direction="worker_out"|"worker_in"}.`,
      metrics,
      ratios,
      notes: [
        ...passes.map((p) => `${p.mode} ×${p.workers}: ${round(p.jobsPerSec, 2)} jobs/s over ${round(p.processSec, 1)} s; HTTP ${Math.round(p.bytesToWorkersPerJob)} B to workers + ${Math.round(p.bytesFromWorkersPerJob)} B from workers per job`),
        `Load average at start ${round(load0, 2)}, at end ${round(loadavg()[0]!, 2)} (a machine shared with other sessions: figures move with it).`,
        `Every process (api node, workers, their media threads, Redis) shares the same ${cpus().length} cores, and other work on the machine may run at the same time: more worker processes add no cores here. What 2 and 3 workers gain comes from more jobs in flight (2 per worker) overlapping transfers, queue hops and recording with the media work, not from more CPU; on separate hosts each worker brings its own cores.`,
      ],
      details: { passes, jobs: JOBS, perWorker: PER_WORKER },
    };
  } finally {
    for (const w of workers) await w.stop().catch(() => {});
    await api?.stop();
    await redis.stop();
    tmp.remove();
  }
}
