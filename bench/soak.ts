// Issue 7 benchmark "soak": a steady, open-loop stream of mixed JSON submissions (probe,
// image, short video, each a {path} source) to a node in its own process for
// BENCH_SOAK_SEC (900 by default). Samples the node's RSS, Redis used_memory and the SQLite
// files over time, times every submit, then drains and checks every 202 against SQLite
// (read-only): each one must end completed, exactly one row each.
import { Database } from "bun:sqlite";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import IORedis from "ioredis";
import { startTestRedis } from "../tests/helpers/redis";
import { benchDir, run as runCmd } from "./lib/media";
import { spawnNode, type NodeProcess } from "./lib/node-process";
import { cpuWithChildrenSec, round, rssMiB, summarize } from "./lib/pool";
import type { Result } from "./lib/result";

const DURATION_SEC = Number(process.env.BENCH_SOAK_SEC ?? 900);
const SAMPLE_MS = 5000;
const DRAIN_MAX_MS = 5 * 60_000;
// One "tick" a second. Per tick: PROBES probe jobs and IMAGES image jobs; a video job every
// VIDEO_EVERY ticks. See the notes for why this rate (it is about a third of the 2 cores).
const PROBES = Number(process.env.BENCH_SOAK_PROBES ?? 2);
const IMAGES = Number(process.env.BENCH_SOAK_IMAGES ?? 1);
const VIDEO_EVERY = Number(process.env.BENCH_SOAK_VIDEO_EVERY ?? 5);

interface Sample {
  t: number;
  rssMiB: number;
  redisMiB: number;
  dbMiB: number;
  walMiB: number;
  /** utime+stime of the node and its reaped children (ffmpeg, ffprobe), seconds. */
  cpuSec: number;
  /** The node's JS heap (process.memoryUsage().heapUsed, via BENCH_HEAP_FILE), MiB. */
  heapMiB: number;
  fds: number;
  threads: number;
}

function heapMiB(file: string): number {
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as { heapUsed: number }).heapUsed / 2 ** 20;
  } catch {
    return NaN;
  }
}

const procThreads = (pid: number) => Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN);

const fileMiB = (p: string) => (existsSync(p) ? statSync(p).size / 2 ** 20 : 0);

async function redisUsedMiB(r: IORedis): Promise<number> {
  const m = /used_memory:(\d+)/.exec(await r.info("memory"));
  return m ? Number(m[1]) / 2 ** 20 : NaN;
}

/** Least-squares slope of y over t (seconds), per minute. */
function slopePerMin(xs: Sample[], k: keyof Sample): number {
  if (xs.length < 2) return NaN;
  const n = xs.length;
  const mt = xs.reduce((a, s) => a + s.t, 0) / n;
  const my = xs.reduce((a, s) => a + s[k], 0) / n;
  let num = 0;
  let den = 0;
  for (const s of xs) {
    num += (s.t - mt) * (s[k] - my);
    den += (s.t - mt) ** 2;
  }
  return (num / den) * 60;
}

function stats(xs: Sample[], k: keyof Sample) {
  const v = xs.map((s) => s[k]);
  const half = xs.filter((s) => s.t >= xs[xs.length - 1]!.t / 2);
  return { first: v[0]!, min: Math.min(...v), max: Math.max(...v), last: v[v.length - 1]!, slopePerMin: slopePerMin(xs, k), slopePerMinSecondHalf: slopePerMin(half, k) };
}

async function makeMedia(dir: string) {
  const clip = join(dir, "clip-2s.mp4");
  const photo = join(dir, "photo-1280x720.jpg");
  // The short video: 2 s 640x360 H.264/AAC, so the ladder is one 360p rung plus poster, storyboard and MP4.
  await runCmd(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30:duration=2", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-shortest", clip]);
  await runCmd(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=1", "-frames:v", "1", "-q:v", "3", photo]);
  return { clip, photo };
}

interface Submitted {
  id: string;
  type: string;
  ms: number;
}

export async function run(): Promise<Result> {
  const load0 = loadavg()[0]!;
  const dir = benchDir("soak");
  const redis = await startTestRedis();
  const rc = new IORedis(redis.url, { maxRetriesPerRequest: null });
  let node: NodeProcess | null = null;
  try {
    const media = await makeMedia(dir.path);
    const dataDir = join(dir.path, "data");
    const heapFile = join(dir.path, "heap.json");
    node = await spawnNode({
      BENCH_HEAP_FILE: heapFile,
      REDIS_URL: redis.url,
      MEDIANODE_DATA_DIR: dataDir,
      MEDIANODE_ROLES: "api,worker",
      MEDIANODE_IMPORT_DIRS: dir.path,
      // One client address submits steadily for 15 minutes: the per-IP/token limits are for the internet.
      MEDIANODE_RATE_LIMIT_PER_TOKEN: "0",
      MEDIANODE_RATE_LIMIT_PER_IP: "0",
    });
    const n = node;
    const dbPath = join(dataDir, "medianode.db");
    const bodies = {
      probe: JSON.stringify({ type: "probe", source: { path: media.clip } }),
      image: JSON.stringify({ type: "image", source: { path: media.photo } }),
      video: JSON.stringify({ type: "video", source: { path: media.clip } }),
    };
    const accepted: Submitted[] = [];
    const refused: { type: string; status: number; body: string }[] = [];
    const submit = async (type: keyof typeof bodies) => {
      const t0 = performance.now();
      try {
        const r = await fetch(`${n.url}/v1/jobs`, { method: "POST", headers: { authorization: `Bearer ${n.token}`, "content-type": "application/json" }, body: bodies[type] });
        const text = await r.text();
        const ms = performance.now() - t0;
        if (r.status === 202) accepted.push({ id: (JSON.parse(text) as { id: string }).id, type, ms });
        else refused.push({ type, status: r.status, body: text.slice(0, 300) });
      } catch (e) {
        refused.push({ type, status: 0, body: (e as Error).message });
      }
    };

    const samples: Sample[] = [];
    const t0 = performance.now();
    const sample = async () => {
      samples.push({
        t: (performance.now() - t0) / 1000,
        rssMiB: rssMiB(n.pid),
        redisMiB: await redisUsedMiB(rc),
        dbMiB: fileMiB(dbPath),
        walMiB: fileMiB(dbPath + "-wal"),
        cpuSec: cpuWithChildrenSec(n.pid),
        heapMiB: heapMiB(heapFile),
        fds: readdirSync(`/proc/${n.pid}/fd`).length,
        threads: procThreads(n.pid),
      });
    };
    await sample();
    const before = samples[0]!;
    let sampling = Promise.resolve();
    const sampler = setInterval(() => (sampling = sampling.then(sample).catch(() => {})), SAMPLE_MS);

    // Open loop: each tick fires at its scheduled time whether or not earlier requests have answered.
    const inflight = new Set<Promise<void>>();
    const fire = (type: keyof typeof bodies) => {
      const p = submit(type).finally(() => inflight.delete(p));
      inflight.add(p);
    };
    let lastMinute = 0;
    for (let tick = 0; tick < DURATION_SEC; tick++) {
      const due = t0 + tick * 1000;
      const wait = due - performance.now();
      if (wait > 0) await Bun.sleep(wait);
      for (let i = 0; i < PROBES; i++) fire("probe");
      for (let i = 0; i < IMAGES; i++) fire("image");
      if (tick % VIDEO_EVERY === 0) fire("video");
      const minute = Math.floor(tick / 60);
      if (minute !== lastMinute) {
        lastMinute = minute;
        const s = samples[samples.length - 1]!;
        console.error(`   ${minute} min: ${accepted.length} accepted, ${refused.length} refused, node RSS ${s.rssMiB.toFixed(0)} MiB, Redis ${s.redisMiB.toFixed(1)} MiB, db+wal ${(s.dbMiB + s.walMiB).toFixed(1)} MiB`);
      }
    }
    await Promise.all(inflight);
    const submitEnd = (performance.now() - t0) / 1000;

    // Drain: every accepted id terminal in SQLite (read-only, beside the node's own connection).
    const db = new Database(dbPath, { readonly: true });
    const ids = accepted.map((a) => a.id);
    const countBy = () => {
      const out: Record<string, number> = {};
      let rows = 0;
      for (let i = 0; i < ids.length; i += 500) {
        const part = ids.slice(i, i + 500);
        const got = db.query(`SELECT status, count(*) AS n FROM jobs WHERE id IN (${part.map(() => "?").join(",")}) GROUP BY status`).all(...part) as { status: string; n: number }[];
        for (const g of got) {
          out[g.status] = (out[g.status] ?? 0) + g.n;
          rows += g.n;
        }
      }
      return { byStatus: out, rows };
    };
    const drainUntil = Date.now() + DRAIN_MAX_MS;
    let final = countBy();
    while ((final.byStatus.queued ?? 0) + (final.byStatus.active ?? 0) > 0 && Date.now() < drainUntil) {
      await Bun.sleep(1000);
      final = countBy();
    }
    const drainSec = (performance.now() - t0) / 1000 - submitEnd;
    clearInterval(sampler);
    await sampling;
    await sample();
    const after = samples[samples.length - 1]!;
    const failed = db.query("SELECT type, error FROM jobs WHERE status = 'failed' LIMIT 5").all() as { type: string; error: string }[];
    const dupes = (db.query("SELECT count(*) AS n FROM (SELECT id FROM jobs GROUP BY id HAVING count(*) > 1)").get() as { n: number }).n;
    const totalRows = (db.query("SELECT count(*) AS n FROM jobs").get() as { n: number }).n;
    const types: Record<string, number> = {};
    for (const a of accepted) types[a.type] = (types[a.type] ?? 0) + 1;
    const done = db.query("SELECT type, finished_at - started_at AS run, started_at - created_at AS wait FROM jobs WHERE status = 'completed'").all() as { type: string; run: number; wait: number }[];
    const perType = Object.keys(bodies).map((type) => {
      const xs = done.filter((d) => d.type === type);
      return { type, run: summarize(xs.map((x) => x.run)), wait: summarize(xs.map((x) => x.wait)), submit: summarize(accepted.filter((a) => a.type === type).map((a) => a.ms)) };
    });
    const allWait = summarize(done.map((d) => d.wait));
    db.close();

    const completed = final.byStatus.completed ?? 0;
    const lost = accepted.length - completed;
    const lat = summarize(accepted.map((a) => a.ms));
    const rss = stats(samples, "rssMiB");
    const red = stats(samples, "redisMiB");
    const dbs = samples.map((s) => ({ ...s, dbMiB: s.dbMiB + s.walMiB }));
    const sql = stats(dbs, "dbMiB");
    const wal = stats(samples, "walMiB");
    const cpuSec = after.cpuSec - before.cpuSec;
    const wallSec = after.t - before.t;
    const rate = PROBES + IMAGES + 1 / VIDEO_EVERY;
    const redisPerJob = ((red.last - red.first) * 2 ** 20) / accepted.length;
    const fmtS = (x: ReturnType<typeof stats>, d = 1) => `first ${round(x.first, d)}, min ${round(x.min, d)}, max ${round(x.max, d)}, last ${round(x.last, d)}; slope ${round(x.slopePerMin, 3)}/min over the run, ${round(x.slopePerMinSecondHalf, 3)}/min over the second half`;

    return {
      name: "soak",
      description:
        `${DURATION_SEC} s of open-loop JSON submissions (POST /v1/jobs, one request each, fired on schedule whether or not earlier ones answered) to a node in its own process (bench/node-child.ts, MEDIANODE_ROLES=api,worker, default concurrency, private redis-server): ` +
        `every second ${PROBES} probe + ${IMAGES} image, and a video every ${VIDEO_EVERY} s (${round(rate, 2)} jobs/s), all {path} sources inside MEDIANODE_IMPORT_DIRS: ` +
        `probe and video of a 2 s 640×360 H.264/AAC lavfi clip, image of a 1280×720 JPEG (default variants). ` +
        `Every ${SAMPLE_MS / 1000} s: node VmRSS, Redis INFO used_memory, medianode.db and -wal sizes. After the last submit, drain until every 202 is terminal in SQLite (read-only connection), then count.`,
      metrics: [
        { label: "jobs accepted (202)", value: accepted.length, unit: "jobs" },
        { label: "jobs completed", value: completed, unit: "jobs" },
        { label: "lost (202 not completed)", value: lost, unit: "jobs" },
        { label: "submit latency p50", value: lat.p50, unit: "ms" },
        { label: "submit latency p99", value: lat.p99, unit: "ms" },
        { label: "node RSS before", value: before.rssMiB, unit: "MiB" },
        { label: "node RSS after", value: after.rssMiB, unit: "MiB" },
        { label: "node RSS max", value: rss.max, unit: "MiB" },
        { label: "node RSS slope, second half", value: rss.slopePerMinSecondHalf, unit: "MiB/min" },
        { label: "node JS heap slope, second half", value: stats(samples.filter((x) => Number.isFinite(x.heapMiB)), "heapMiB").slopePerMinSecondHalf, unit: "MiB/min" },
        { label: "Redis used_memory before", value: before.redisMiB, unit: "MiB" },
        { label: "Redis used_memory after", value: after.redisMiB, unit: "MiB" },
        { label: "Redis used_memory slope", value: red.slopePerMin, unit: "MiB/min" },
        { label: "SQLite db+wal before", value: before.dbMiB + before.walMiB, unit: "MiB" },
        { label: "SQLite db+wal after", value: after.dbMiB + after.walMiB, unit: "MiB" },
        { label: "SQLite db+wal slope", value: sql.slopePerMin, unit: "MiB/min" },
        { label: "node CPU (with ffmpeg/ffprobe children)", value: (cpuSec / wallSec) * 100, unit: "% of one core" },
      ],
      ratios: [{ label: "completed / accepted", value: accepted.length ? completed / accepted.length : NaN, target: { op: ">=", value: 1 } }],
      notes: [
        `Accepted ${accepted.length} (${JSON.stringify(types)}), refused ${refused.length}${refused.length ? ` (first: ${JSON.stringify(refused[0])})` : ""}; after a ${round(drainSec, 1)} s drain SQLite holds them as ${JSON.stringify(final.byStatus)} (${final.rows} rows for ${accepted.length} ids, ${dupes} duplicate ids, ${totalRows} rows in all). ${failed.length ? `Failed: ${JSON.stringify(failed)}` : "None failed."}`,
        `Submit latency (request → 202, the intake's sniff + ffprobe/sharp header read of the source, SQLite insert, queue.add) over ${lat.n}: p50 ${round(lat.p50, 1)}, p90 ${round(lat.p90, 1)}, p99 ${round(lat.p99, 1)}, max ${round(lat.max, 1)}, mean ${round(lat.mean, 1)} ms.`,
        `Node RSS (MiB): ${fmtS(rss)}.`,
        `Redis used_memory (MiB): ${fmtS(red, 2)}. ≈${round(redisPerJob / 1024, 2)} KiB per accepted job: finished jobs are kept in Redis (removeOnComplete/removeOnFail {age: 24 h, count: 20,000} per queue, src/queue/queues.ts) and the event streams hold up to BullMQ's 10,000 entries each, so Redis grows linearly during a 15-minute soak by design and is bounded by those caps, not by time.`,
        `SQLite db+wal (MiB): ${fmtS(sql, 2)}; the -wal alone: ${fmtS(wal, 2)}.`,
        `Per type, ms (from SQLite: run = started_at→finished_at, wait = created_at→started_at; submit = request→202 here): ${perType.map((p) => `${p.type} run p50 ${round(p.run.p50, 0)}/p99 ${round(p.run.p99, 0)}, wait p50 ${round(p.wait.p50, 0)}/p99 ${round(p.wait.p99, 0)}/max ${round(p.wait.max, 0)}, submit p50 ${round(p.submit.p50, 0)}/p99 ${round(p.submit.p99, 0)}`).join("; ")}. Probe and video submits run an ffprobe of the source at intake, image submits a sharp header read.`,
        `Rate: ${round(rate, 2)} jobs/s was chosen to use well under one of the 2 cores, so the node keeps up while other sessions run their tests on the same machine: it used ${round((cpuSec / wallSec) * 100, 0)}% of one core here (utime+stime of the node and its reaped ffmpeg/ffprobe children over ${round(wallSec, 0)} s). ` +
          `Queue wait over all jobs p50 ${round(allWait.p50, 0)} ms, p99 ${round(allWait.p99, 0)} ms, max ${round(allWait.max, 0)} ms: ${allWait.p99 < 1000 ? "no backlog built up" : "waits of seconds mean the node fell behind at times (the CPU it needs was taken by other work on the machine, see the load average), and caught up again (all drained)"}.`,
        `Node JS heap (process.memoryUsage().heapUsed, MiB): ${fmtS(stats(samples.filter((x) => Number.isFinite(x.heapMiB)), "heapMiB"))}. Open fds: ${fmtS(stats(samples, "fds"), 0)}. Threads: ${fmtS(stats(samples, "threads"), 0)}.`,
        `${samples.length} samples. Load average at start ${load0.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)} (2 cores shared with other sessions' tests and benchmarks).`,
      ],
      details: { samples, submitLatency: lat, byStatus: final.byStatus, accepted: accepted.length, refused, types, perType, durationSec: DURATION_SEC, rate: { probesPerSec: PROBES, imagesPerSec: IMAGES, videoEverySec: VIDEO_EVERY } },
    };
  } finally {
    await node?.stop();
    rc.disconnect();
    await redis.stop();
    dir.remove();
  }
}
