// Issue 14 benchmark "bucket-workers": image jobs/s with N = 1, 2, 3 `medianode worker`
// processes against one bucket (SPEC §11). One api node process (`serve --roles
// api,monitor,metrics`, records in SQLite in its data dir, media in a local s3rver bucket) and
// N workers that have only Redis and the bucket: each reads its job's source from the bucket
// and writes the outputs there. A batch of distinct lavfi 1080p JPEGs is uploaded (one POST
// each) and timed from the first POST to the last job.completed on the api node's event stream.
// The raw tool in the same run: the same sharp pipeline in this process, 2 at a time.
import { join } from "node:path";
import { cpus, loadavg } from "node:os";
import sharp from "sharp";
import { startApiProcess, startWorkerProcess, type ApiProc, type WorkerProc } from "../tests/helpers/cluster";
import { startTestRedis } from "../tests/helpers/redis";
import { startTestS3 } from "../tests/helpers/s3";
import { directImage } from "./lib/direct-image";
import { benchDir, makeFrames } from "./lib/media";
import { jobEvents } from "./lib/node-jobs";
import { mapPool, round } from "./lib/pool";
import type { Result } from "./lib/result";

const JOBS = Number(process.env.BENCH_BUCKET_WORKERS_JOBS ?? 150);
const ROUNDS = Number(process.env.BENCH_BUCKET_WORKERS_ROUNDS ?? 2);
const WORKER_COUNTS = [1, 2, 3];
/** Jobs at once per worker process: its pool of media threads (the default on 2 cores). */
const PER_WORKER = 2;
/** The direct side's lanes: one per core, as one worker's pool. */
const DIRECT_LANES = 2;
const CLIENT_CONCURRENCY = 4;
const WARMUP = 8;

interface Pass {
  workers: number;
  jobsPerSec: number;
  wallSec: number;
  uploadSec: number;
}

/**
 * Uploads refused as empty though the file is not (seen once in ~750 uploads of a full run, not
 * reproduced since): each is retried once and listed in the notes, so the run says so.
 */
const refusedEmpty: string[] = [];

async function upload(api: ApiProc, f: string, retried = false): Promise<string> {
  const r = await fetch(`${api.url}/v1/jobs?type=image`, { method: "POST", headers: { authorization: `Bearer ${api.token}`, "content-type": "image/jpeg" }, body: Bun.file(f) });
  const body = (await r.json()) as { id: string; error?: { code: string; message: string } };
  if (r.status === 415 && !retried && /empty/.test(body.error?.message ?? "") && Bun.file(f).size > 0) {
    refusedEmpty.push(`${new Date().toISOString()} ${f.split("/").pop()} (${Bun.file(f).size} B): ${body.error!.message}`);
    return await upload(api, f, true);
  }
  if (r.status !== 202) throw new Error(`upload of ${f.split("/").pop()} (${Bun.file(f).size} B) refused ${r.status}: ${JSON.stringify(body)}`);
  return body.id;
}

async function batch(api: ApiProc, files: string[]): Promise<{ wallSec: number; uploadSec: number; ids: string[] }> {
  const events = await jobEvents(api);
  try {
    const t0 = performance.now();
    const ids = await mapPool(files, CLIENT_CONCURRENCY, (f) => upload(api, f));
    const uploadSec = (performance.now() - t0) / 1000;
    const done = await events.wait(ids, 600_000);
    const wallSec = (performance.now() - t0) / 1000;
    const failed = [...done.entries()].filter(([, e]) => e.status !== "completed");
    if (failed.length) throw new Error(`${failed.length} jobs did not complete: ${failed[0]![0]} ${failed[0]![1].status}`);
    return { wallSec, uploadSec, ids };
  } finally {
    events.close();
  }
}

export async function run(): Promise<Result> {
  const tmp = benchDir("bucket-workers");
  const load0 = loadavg()[0]!;
  const redis = await startTestRedis();
  const s3 = await startTestS3();
  let api: ApiProc | null = null;
  let workers: WorkerProc[] = [];
  try {
    const frameDir = join(tmp.path, "frames");
    await Bun.write(join(frameDir, ".keep"), "");
    const all = await makeFrames(frameDir, JOBS + WARMUP);
    const warm = all.slice(0, WARMUP);
    const files = all.slice(WARMUP);
    const sourceBytes = files.reduce((n, f) => n + Bun.file(f).size, 0);
    const bucket = s3.bucket();
    const quiet = { MEDIANODE_LOG_LEVEL: "error" };
    api = await startApiProcess({ redisUrl: redis.url, dataDir: join(tmp.path, "api"), env: { ...quiet, ...s3.env(bucket) } });
    const a = api;
    let seq = 0;
    const startWorkers = async (n: number) => {
      for (let i = 0; i < n; i++) {
        workers.push(await startWorkerProcess({ redisUrl: redis.url, dataDir: join(tmp.path, `w-${seq++}`), concurrency: `image=${PER_WORKER},video=0,audio=0,thumbnail=0,probe=0`, env: { ...quiet, ...s3.env(bucket) } }));
      }
    };
    const stopWorkers = async () => {
      for (const w of workers) await w.stop();
      workers = [];
    };

    sharp.cache(false);
    const directDir = join(tmp.path, "direct");
    let dseq = 0;
    const direct = async (list: string[]) => {
      const t0 = performance.now();
      await mapPool(list, DIRECT_LANES, (f) => directImage(f, join(directDir, String(dseq++))));
      return (performance.now() - t0) / 1000;
    };

    // Warm-up, not timed: both sides' first files pay for cold caches and lazy loading.
    await direct(warm);
    await startWorkers(1);
    await batch(a, warm);
    await stopWorkers();

    const passes: Pass[] = [];
    const directSec: number[] = [];
    // Each round: the direct baseline, then N = 1, 2, 3 (reversed on odd rounds), so load
    // drifting in from other work lands on every size alike.
    for (let r = 0; r < ROUNDS; r++) {
      directSec.push(await direct(files));
      for (const n of r % 2 ? [...WORKER_COUNTS].reverse() : WORKER_COUNTS) {
        await startWorkers(n);
        const b = await batch(a, files);
        await stopWorkers();
        const p = { workers: n, jobsPerSec: JOBS / b.wallSec, wallSec: b.wallSec, uploadSec: b.uploadSec };
        passes.push(p);
        console.error(`   ${n} worker${n > 1 ? "s" : ""}: ${round(p.jobsPerSec, 2)} jobs/s (${round(b.wallSec, 1)} s, uploads done at ${round(b.uploadSec, 1)} s)`);
      }
    }
    const best = (n: number) => passes.filter((p) => p.workers === n).reduce((x, y) => (y.jobsPerSec > x.jobsPerSec ? y : x));
    const directRate = JOBS / Math.min(...directSec);
    const one = best(1).jobsPerSec;
    return {
      name: "bucket-workers",
      description:
        `${JOBS} distinct 1920×1080 lavfi JPEGs (mean ${round(sourceBytes / JOBS / 1024, 0)} KiB) as image jobs (default variants), each uploaded once (raw body, ${CLIENT_CONCURRENCY} client loops) to an api node process ` +
        `(serve --roles api,monitor,metrics; records in SQLite in its data dir; MEDIANODE_MEDIA_URL on a local s3rver process) with N = ${WORKER_COUNTS.join(", ")} \`medianode worker\` processes (image=${PER_WORKER} each) ` +
        `that have only Redis and the bucket, all on this ${cpus().length}-core machine. Timed from the first POST to the last job.completed on the api node's /v1/events; ` +
        `best of ${ROUNDS} rounds (sizes in order, then reversed). Direct: the same sharp pipeline in this process over the same files, ${DIRECT_LANES} at a time, best of one run per round.`,
      metrics: [
        ...WORKER_COUNTS.map((n) => ({ label: `${n} worker${n > 1 ? "s" : ""}, one bucket`, value: best(n).jobsPerSec, unit: "jobs/s" })),
        { label: "direct sharp", value: directRate, unit: "images/s" },
      ],
      ratios: [
        ...WORKER_COUNTS.slice(1).map((n) => ({ label: `${n} workers / 1 worker jobs/s`, value: best(n).jobsPerSec / one })),
        ...WORKER_COUNTS.map((n) => ({ label: `${n} worker${n > 1 ? "s" : ""} jobs/s / direct sharp images/s`, value: best(n).jobsPerSec / directRate })),
      ],
      notes: [
        ...passes.map((p) => `${p.workers} worker${p.workers > 1 ? "s" : ""}: ${round(p.jobsPerSec, 2)} jobs/s over ${round(p.wallSec, 2)} s (uploads done at ${round(p.uploadSec, 2)} s)`),
        `direct sharp: ${directSec.map((s) => `${round(JOBS / s, 2)} images/s (${round(s, 2)} s)`).join("; ")}.`,
        `Every process (api node streaming uploads into the bucket, workers and their media threads, Redis, s3rver, this client) shares the same ${cpus().length} cores with other work on the machine: more worker processes add no cores here, so N > 1 gains only from more jobs in flight overlapping bucket transfers and queue hops with the media work. On separate hosts each worker brings its own cores.`,
        `Load average at start ${round(load0, 2)}, at end ${round(loadavg()[0]!, 2)}.`,
        refusedEmpty.length ? `Uploads refused as "the file is empty (0 bytes)" and retried once: ${refusedEmpty.join("; ")}.` : `No upload was refused (none needed the retry of one refused as empty).`,
      ],
      details: { refusedEmpty, passes, directSec, jobs: JOBS, perWorker: PER_WORKER, sourceBytes, records: "sqlite" },
    };
  } finally {
    for (const w of workers) await w.stop().catch(() => 0);
    await api?.stop();
    await s3.stop();
    await redis.stop();
    tmp.remove();
  }
}
