// Issue 7 benchmark "throughput": end-to-end throughput of trivial jobs through the node
// (POST /v1/jobs/batch → completed row in SQLite) vs raw BullMQ (queue.addBulk + a Worker)
// on the same private Redis, in the same run, passes alternating.
// The raw Worker runs the very pipeline the node's media thread runs (probe: one ffprobe of
// the file; image: sharp's decode + variants + thumbhash), so the ratio is the node's
// overhead (HTTP, intake check, SQLite, progress and result recording, the thread hop);
// a second raw side with a no-op processor gives BullMQ's own ceiling.
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { Queue, Worker, type Job } from "bullmq";
import IORedis from "ioredis";
import { loadConfig } from "../src/config/load";
import type { JobType } from "../src/jobs/schema";
import { newJobId } from "../src/ids";
import { pipelineFor, resolveOptions } from "../src/jobs/registry";
import { QUEUE_PREFIX, queueName } from "../src/queue/names";
import { bullJobId, jobOptions } from "../src/queue/queues";
import { mediaSettings } from "../src/roles/serve";
import { startTestRedis } from "../tests/helpers/redis";
import { benchDir } from "./lib/media";
import { spawnNode, type NodeProcess } from "./lib/node-process";
import { cpuWithChildrenSec, round } from "./lib/pool";
import type { Result } from "./lib/result";

// Per pass and side. Probe jobs cost ~55 ms of ffprobe CPU each, image jobs of a 1×1 JPEG ~5 ms:
// passes of similar length, and more of them, so the machine's drifting load evens out.
const JOBS: Record<"probe" | "image", number> = { probe: Number(process.env.BENCH_THROUGHPUT_PROBES ?? 300), image: Number(process.env.BENCH_THROUGHPUT_IMAGES ?? 1000) };
const PASSES = Number(process.env.BENCH_THROUGHPUT_PASSES ?? 4);
/** Set to a folder to write a CPU profile of the node's main thread there (bun --cpu-prof-md). */
const PROFILE_DIR = process.env.BENCH_THROUGHPUT_PROFILE_DIR;
const WARMUP = 100;
const BATCH = 250;
const TYPES = (process.env.BENCH_THROUGHPUT_TYPES ?? "probe,image").split(",") as ("probe" | "image")[];
const CORPUS_DIR = new URL("../tests/corpus/", import.meta.url).pathname;
const SOURCE = CORPUS_DIR + "image-jpeg-1x1.jpg";
// Node defaults (src/config/schema.ts): probe 4, image = cores. The raw Workers use the same.
const CONCURRENCY: Record<"probe" | "image", number> = { probe: 4, image: 2 };
const KEEP = { age: 24 * 3600, count: 20_000 };

/** Redis's own CPU seconds and the commands it has processed (INFO cpu, INFO stats). */
async function redisCounters(r: IORedis): Promise<{ cpuSec: number; commands: number }> {
  const info = (await r.info("cpu")) + (await r.info("stats"));
  const g = (k: string) => Number(new RegExp(`${k}:([0-9.]+)`).exec(info)?.[1] ?? NaN);
  return { cpuSec: g("used_cpu_user") + g("used_cpu_sys"), commands: g("total_commands_processed") };
}

interface Pass {
  side: "node" | "raw" | "noop";
  type: "probe" | "image";
  jobs: number;
  wallSec: number;
  jobsPerSec: number;
  /** Of the side's own process: the node (with its ffprobe children) or this process for raw. */
  cpuSec: number;
  redisCpuSec: number;
  /** Commands Redis processed during the pass (every client: node or raw side, and this bench's INFO calls). */
  redisCommands: number;
  /** Node only: time until every batch had its 202. */
  submitSec?: number;
  /** Medians per job, ms (see breakdown()). */
  breakdown: Breakdown;
}

interface Breakdown {
  /** Node only: SQLite created_at → BullMQ timestamp (intake check, insert, addBulk). */
  intake?: number;
  /** BullMQ timestamp → processedOn. */
  wait: number;
  /** processedOn → finishedOn: the Worker's processor, BullMQ's own bookkeeping excluded. */
  process: number;
  /** Node only: finishedOn → SQLite finished_at (the recorder). */
  record?: number;
  /** Node only: SQLite created_at → started_at as recorded (the worker's first progress report lands). */
  toActive?: number;
}

const median = (xs: number[]) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
};

/** Per-job timestamps from the BullMQ job hashes (kept by removeOnComplete's age/count). */
async function bullTimes(redis: IORedis, prefix: string, queue: string, bullIds: string[]) {
  const pipe = redis.pipeline();
  for (const id of bullIds) pipe.hmget(`${prefix}:${queue}:${id}`, "timestamp", "processedOn", "finishedOn");
  const res = (await pipe.exec()) ?? [];
  return res.map(([, v]) => (v as (string | null)[]).map(Number) as [number, number, number]);
}

/** Raw side: a Queue + Worker in this process on the same Redis, same job options. */
function rawSide(redisUrl: string, type: "probe" | "image", mode: "work" | "noop", outRoot: string) {
  const conn = new IORedis(redisUrl, { maxRetriesPerRequest: null });
  const wconn = new IORedis(redisUrl, { maxRetriesPerRequest: null });
  const name = `raw-${type}-${mode}`;
  const queue = new Queue(name, { connection: conn, prefix: "benchraw", defaultJobOptions: { removeOnComplete: KEEP, removeOnFail: KEEP } });
  const config = loadConfig({ env: {}, file: "/nonexistent" });
  const media = mediaSettings(config);
  const pipeline = pipelineFor(type);
  const options = resolveOptions(type, {});
  let done = 0;
  let failed = 0;
  const bullIds: string[] = [];
  let lastAt = 0;
  let waiter: (() => void) | null = null;
  let target = Infinity;
  const processor = async (job: Job) => {
    if (mode === "noop") return { ok: true };
    const outDir = join(outRoot, name, job.id!);
    mkdirSync(outDir, { recursive: true });
    const r = await pipeline.run({ jobId: job.id!, input: SOURCE, inputProtocols: "file", outDir, options, media, signal: new AbortController().signal, progress: () => {} });
    return { run: 1, node: "raw", outputs: r.outputs, result: r.result };
  };
  const worker = new Worker(name, processor, { connection: wconn, prefix: "benchraw", concurrency: CONCURRENCY[type], lockDuration: 20_000, stalledInterval: 10_000, maxStalledCount: 3 });
  const settle = () => {
    lastAt = performance.now();
    if (done + failed >= target && waiter) waiter();
  };
  worker.on("completed", () => {
    done++;
    settle();
  });
  worker.on("failed", () => {
    failed++;
    settle();
  });
  return {
    async pass(n: number, redis: IORedis): Promise<Omit<Pass, "side" | "type">> {
      const base = done + failed;
      bullIds.length = 0;
      target = base + n;
      const finished = new Promise<void>((r) => (waiter = r));
      const c0 = cpuWithChildrenSec();
      const r0 = await redisCounters(redis);
      const t0 = performance.now();
      for (let i = 0; i < n; i += BATCH) {
        const items = Array.from({ length: Math.min(BATCH, n - i) }, () => {
          const id = newJobId();
          bullIds.push(bullJobId(id, 1));
          // The same payload shape and options the node's submitter hands BullMQ.
          return { name: type, data: { id, run: 1, type, tenant: "admin", source: { kind: "path", path: SOURCE }, options }, opts: jobOptions(bullJobId(id, 1), 0, 3) };
        });
        await queue.addBulk(items);
      }
      await finished;
      waiter = null;
      if (failed) throw new Error(`${failed} raw ${type} jobs failed`);
      const wallSec = (lastAt - t0) / 1000;
      const cpu = cpuWithChildrenSec() - c0;
      const r1 = await redisCounters(redis);
      const times = await bullTimes(redis, "benchraw", name, bullIds);
      const breakdown = { wait: median(times.map(([ts, p]) => p - ts)), process: median(times.map(([, p, f]) => f - p)) };
      return { jobs: n, wallSec, jobsPerSec: n / wallSec, cpuSec: cpu, redisCpuSec: r1.cpuSec - r0.cpuSec, redisCommands: r1.commands - r0.commands, breakdown };
    },
    async close() {
      await worker.close();
      await queue.close();
      conn.disconnect();
      wconn.disconnect();
    },
  };
}

/** Node side: POST /v1/jobs/batch of {path} jobs, then the completed rows in SQLite (read-only). */
async function nodePass(n: NodeProcess, db: Database, type: JobType, count: number, redis: IORedis): Promise<Omit<Pass, "side" | "type">> {
  const body = (k: number) => JSON.stringify(Array.from({ length: k }, () => ({ type, source: { path: SOURCE } })));
  const startMs = Date.now();
  const c0 = cpuWithChildrenSec(n.pid);
  const r0 = await redisCounters(redis);
  const t0 = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < count; i += BATCH) {
    const r = await fetch(`${n.url}/v1/jobs/batch`, { method: "POST", headers: { authorization: `Bearer ${n.token}`, "content-type": "application/json" }, body: body(Math.min(BATCH, count - i)) });
    const text = await r.text();
    if (r.status !== 202) throw new Error(`batch refused ${r.status}: ${text.slice(0, 300)}`);
    for (const j of (JSON.parse(text) as { items: { id: string }[] }).items) ids.push(j.id);
  }
  const submitSec = (performance.now() - t0) / 1000;
  const q = db.query("SELECT count(*) AS n, max(finished_at) AS last, sum(status = 'failed') AS failed FROM jobs WHERE type = ? AND created_at >= ? AND status IN ('completed', 'failed')");
  const until = Date.now() + 10 * 60_000;
  let got = { n: 0, last: 0, failed: 0 };
  for (;;) {
    got = q.get(type, startMs) as typeof got;
    if (got.n >= count) break;
    if (Date.now() > until) throw new Error(`node ${type}: ${got.n} of ${count} terminal after 10 min`);
    await Bun.sleep(20);
  }
  if (got.failed) throw new Error(`${got.failed} node ${type} jobs failed`);
  // The end is when the api wrote the last completed row (finished_at, ms): no polling granularity.
  const wallSec = (got.last - startMs) / 1000;
  const cpu = cpuWithChildrenSec(n.pid) - c0;
  const r1 = await redisCounters(redis);
  const times = await bullTimes(redis, QUEUE_PREFIX, queueName(type), ids.map((id) => bullJobId(id, 1)));
  const rows = new Map((db.query(`SELECT id, created_at, started_at, finished_at FROM jobs WHERE type = ? AND created_at >= ?`).all(type, startMs) as { id: string; created_at: number; started_at: number; finished_at: number }[]).map((r) => [r.id, r]));
  const per = ids.map((id, i) => ({ row: rows.get(id)!, bull: times[i]! }));
  const breakdown: Breakdown = {
    intake: median(per.map((p) => p.bull[0] - p.row.created_at)),
    wait: median(per.map((p) => p.bull[1] - p.bull[0])),
    process: median(per.map((p) => p.bull[2] - p.bull[1])),
    record: median(per.map((p) => p.row.finished_at - p.bull[2])),
    toActive: median(per.map((p) => p.row.started_at - p.row.created_at)),
  };
  return { jobs: count, wallSec, jobsPerSec: count / wallSec, cpuSec: cpu, redisCpuSec: r1.cpuSec - r0.cpuSec, redisCommands: r1.commands - r0.commands, submitSec, breakdown };
}

export async function run(): Promise<Result> {
  const load0 = loadavg()[0]!;
  const dir = benchDir("throughput");
  const redis = await startTestRedis();
  const rc = new IORedis(redis.url, { maxRetriesPerRequest: null });
  let node: NodeProcess | null = null;
  const raws: ReturnType<typeof rawSide>[] = [];
  try {
    const dataDir = join(dir.path, "data");
    node = await spawnNode({
      REDIS_URL: redis.url,
      MEDIANODE_DATA_DIR: dataDir,
      MEDIANODE_ROLES: "api,worker",
      MEDIANODE_IMPORT_DIRS: CORPUS_DIR,
      MEDIANODE_CONCURRENCY: `probe=${CONCURRENCY.probe},image=${CONCURRENCY.image}`,
      // One client submits thousands of jobs in a few requests: the limits are for the internet.
      MEDIANODE_RATE_LIMIT_PER_TOKEN: "0",
      MEDIANODE_RATE_LIMIT_PER_IP: "0",
    }, PROFILE_DIR ? ["--cpu-prof-md", `--cpu-prof-dir=${PROFILE_DIR}`] : []);
    const n = node;
    const db = new Database(join(dataDir, "medianode.db"), { readonly: true });
    const passes: Pass[] = [];
    for (const type of TYPES) {
      const raw = rawSide(redis.url, type, "work", join(dir.path, "raw"));
      const noop = rawSide(redis.url, type, "noop", join(dir.path, "raw"));
      raws.push(raw, noop);
      // Warm-up: JIT, SQLite pages, sharp, Redis scripts, the media threads.
      await nodePass(n, db, type, WARMUP, rc);
      await raw.pass(WARMUP, rc);
      await noop.pass(WARMUP, rc);
      for (let i = 0; i < PASSES; i++) {
        const sides: ["node" | "raw" | "noop", () => Promise<Omit<Pass, "side" | "type">>][] = [
          ["node", () => nodePass(n, db, type, JOBS[type], rc)],
          ["raw", () => raw.pass(JOBS[type], rc)],
          ["noop", () => noop.pass(JOBS[type], rc)],
        ];
        // Alternate the order, so drift on the shared machine biases neither side.
        if (i % 2 === 1) sides.reverse();
        for (const [side, f] of sides) {
          const p = { side, type, ...(await f()) };
          passes.push(p);
          console.error(`   ${type} ${side}: ${p.jobs} jobs in ${p.wallSec.toFixed(2)} s (${p.jobsPerSec.toFixed(0)}/s), CPU ${p.cpuSec.toFixed(2)} s, Redis CPU ${p.redisCpuSec.toFixed(2)} s, ${(p.redisCommands / p.jobs).toFixed(1)} Redis commands/job, medians ${JSON.stringify(p.breakdown)}`);
        }
      }
    }
    db.close();

    const agg = (side: Pass["side"], type: string) => {
      const xs = passes.filter((p) => p.side === side && p.type === type);
      const jobs = xs.reduce((a, p) => a + p.jobs, 0);
      const wall = xs.reduce((a, p) => a + p.wallSec, 0);
      const med = (k: keyof Breakdown) => median(xs.map((p) => p.breakdown[k] ?? NaN));
      return {
        jobsPerSec: jobs / wall,
        cpuMsPerJob: (xs.reduce((a, p) => a + p.cpuSec, 0) / jobs) * 1000,
        redisCpuMsPerJob: (xs.reduce((a, p) => a + p.redisCpuSec, 0) / jobs) * 1000,
        redisCommandsPerJob: xs.reduce((a, p) => a + p.redisCommands, 0) / jobs,
        process: med("process"),
        intake: med("intake"),
        record: med("record"),
      };
    };
    const metrics: Result["metrics"] = [];
    const ratios: Result["ratios"] = [];
    const notes: string[] = [];
    for (const type of TYPES) {
      const nd = agg("node", type);
      const rw = agg("raw", type);
      const np = agg("noop", type);
      metrics.push(
        { label: `${type}: node jobs/s`, value: nd.jobsPerSec, unit: "jobs/s" },
        { label: `${type}: raw BullMQ + same work jobs/s`, value: rw.jobsPerSec, unit: "jobs/s" },
        { label: `${type}: raw BullMQ no-op jobs/s`, value: np.jobsPerSec, unit: "jobs/s" },
        { label: `${type}: node CPU per job`, value: nd.cpuMsPerJob, unit: "ms" },
        { label: `${type}: raw CPU per job`, value: rw.cpuMsPerJob, unit: "ms" },
      );
      ratios.push(
        { label: `${type}: node/raw jobs/s`, value: nd.jobsPerSec / rw.jobsPerSec, target: { op: ">=", value: 0.5 } },
        { label: `${type}: node/raw no-op jobs/s`, value: nd.jobsPerSec / np.jobsPerSec },
        // Capacity on a machine of our own: less sensitive than wall time to other sessions' load.
        { label: `${type}: raw/node CPU per job (process + Redis)`, value: (rw.cpuMsPerJob + rw.redisCpuMsPerJob) / (nd.cpuMsPerJob + nd.redisCpuMsPerJob) },
      );
      notes.push(
        `${type}: ${passes.filter((p) => p.type === type).map((p) => `${p.side} ${p.jobsPerSec.toFixed(0)}/s`).join(", ")} (in run order). ` +
          `CPU per job: node ${round(nd.cpuMsPerJob, 2)} ms (its process and ffprobe children), raw ${round(rw.cpuMsPerJob, 2)} ms, no-op ${round(np.cpuMsPerJob, 2)} ms (this process); Redis CPU per job: node ${round(nd.redisCpuMsPerJob, 3)}, raw ${round(rw.redisCpuMsPerJob, 3)}, no-op ${round(np.redisCpuMsPerJob, 3)} ms; Redis commands per job (INFO stats total_commands_processed over the pass, background calls such as heartbeats, stall checks and the 15 s reconcile included): node ${round(nd.redisCommandsPerJob, 1)}, raw ${round(rw.redisCommandsPerJob, 1)}, no-op ${round(np.redisCommandsPerJob, 1)}. ` +
          `Per-job medians (BullMQ processedOn→finishedOn): node processor ${round(nd.process, 1)} ms vs raw ${round(rw.process, 1)} ms; node intake (SQLite created_at → BullMQ timestamp) ${round(nd.intake, 1)} ms, recording (finishedOn → SQLite finished_at) ${round(nd.record, 1)} ms. ` +
          `Node batches answered 202 within ${passes.filter((p) => p.type === type && p.side === "node").map((p) => `${p.submitSec!.toFixed(2)} s`).join("/")} of the pass start.`,
      );
    }
    notes.push(`Load average at start ${load0.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)} (2 cores shared with other sessions; compare within a run).`);
    return {
      name: "throughput",
      description:
        `${PASSES} passes per side and type of ${TYPES.map((t) => `${JOBS[t]} ${t}`).join(" / ")} trivial jobs (after ${WARMUP} warm-up each), ${TYPES.join(" and ")} of a 1×1 JPEG (${SOURCE.split("/").pop()}, a {path} source). ` +
        `Node: its own process (bench/node-child.ts, MEDIANODE_ROLES=api,worker, concurrency probe=${CONCURRENCY.probe} image=${CONCURRENCY.image}); POST /v1/jobs/batch of ${BATCH} at a time, one after another; the pass ends at the last completed row's finished_at in SQLite (read-only connection, polled). ` +
        `Raw: in this process, BullMQ queue.addBulk of ${BATCH} with the node's payload shape and job options + a Worker at the same concurrency whose processor runs the same pipeline (src/jobs/registry.ts pipelineFor(type).run: probe = one ffprobe, image = sharp variants + thumbhash) on the main thread; ` +
        `no-op: the same with a processor that returns at once. Same private redis-server, passes alternate order.`,
      metrics,
      ratios,
      notes,
      details: { passes, jobs: JOBS, batch: BATCH, concurrency: CONCURRENCY, ...(PROFILE_DIR ? { profileDir: PROFILE_DIR } : {}) },
    };
  } finally {
    for (const r of raws) await r.close().catch(() => {});
    await node?.stop();
    rc.disconnect();
    await redis.stop();
    dir.remove();
  }
}
