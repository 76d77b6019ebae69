// Issue 2 benchmark "image": photos/s through the whole node (raw-body upload → sniff and
// header check → SQLite + BullMQ → media thread → sharp → outputs → recorded) vs the same
// sharp pipeline called directly in this process, same files, same run.
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { loadavg } from "node:os";
import { Queue } from "bullmq";
import sharp from "sharp";
import { QUEUE_PREFIX, queueName } from "../src/queue/names";
import { startTestNode, type TestNode } from "../tests/helpers/server";
import { directImage as direct } from "./lib/direct-image";
import { benchDir, makePhotos } from "./lib/media";
import { jobEvents, type JobEvents } from "./lib/node-jobs";
import { mapPool, round, summarize } from "./lib/pool";
import type { Result } from "./lib/result";

// 8 alternating rounds of 15: a round lasts ~1.5 s, so load from other work on a shared
// machine lands on both sides more evenly than in fewer, longer rounds.
const PHOTOS = Number(process.env.BENCH_IMAGE_PHOTOS ?? 120);
const ROUNDS = Math.max(1, Math.round(PHOTOS / 15));
const WARMUP = 2;
const PROFILE = 16;
const WORKER_CONCURRENCY = 2;
const CLIENT_CONCURRENCY = 4;

interface JobView {
  id: string;
  status: string;
  finishedAt: string | null;
  error: unknown;
}

/** Wall seconds and CPU seconds of this whole process (all threads, libvips included). */
async function measure<T>(fn: () => Promise<T>): Promise<{ value: T; wallSec: number; cpuSec: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const c = process.cpuUsage(c0);
  return { value, wallSec: (performance.now() - t0) / 1000, cpuSec: (c.user + c.system) / 1e6 };
}

function nodeClient(node: TestNode, events: JobEvents) {
  const submit = async (file: string) => {
    const t0 = performance.now();
    const r = await node.api(`/v1/jobs?type=image&filename=${encodeURIComponent(file.split("/").pop()!)}`, {
      method: "POST",
      headers: { "content-type": "image/jpeg" },
      body: Bun.file(file),
    });
    const body = (await r.json()) as JobView;
    if (r.status !== 202) throw new Error(`upload refused ${r.status}: ${JSON.stringify(body)}`);
    return { id: body.id, uploadMs: performance.now() - t0 };
  };
  /** Until the node has recorded every job (its job.completed events); a failed one fails the pass. */
  const waitAll = async (ids: Set<string>, timeoutMs: number) => {
    const seen = await events.wait(ids, timeoutMs);
    const done = new Map<string, JobView>([...seen].map(([id, e]) => [id, { id, status: e.status, finishedAt: e.at, error: null }]));
    const failed = [...done.values()].find((j) => j.status !== "completed");
    if (failed) throw new Error(`image job ${failed.id} ${failed.status}: ${JSON.stringify(((await (await node.api(`/v1/jobs/${failed.id}`)).json()) as JobView).error)}`);
    return done;
  };
  /** Upload `files` from CLIENT_CONCURRENCY loops and wait until all are completed. */
  const pass = async (files: string[]) => {
    const submitted = await mapPool(files, CLIENT_CONCURRENCY, submit);
    const done = await waitAll(new Set(submitted.map((s) => s.id)), 170_000);
    return { submitted, done };
  };
  return { submit, waitAll, pass };
}

export async function run(): Promise<Result> {
  const tmp = benchDir("image");
  const load0 = loadavg()[0]!;
  try {
    const photoDir = join(tmp.path, "photos");
    mkdirSync(photoDir);
    const genT0 = performance.now();
    const files = await makePhotos(photoDir, PHOTOS + WARMUP);
    const genMs = performance.now() - genT0;
    const sizes = files.map((f) => Bun.file(f).size);
    const meanMiB = sizes.reduce((a, b) => a + b, 0) / sizes.length / 2 ** 20;
    const warm = files.slice(0, WARMUP);
    const timed = files.slice(WARMUP);
    const per = Math.ceil(timed.length / ROUNDS);
    const rounds = Array.from({ length: ROUNDS }, (_, r) => timed.slice(r * per, (r + 1) * per)).filter((r) => r.length);

    sharp.cache(false);
    const outDirect = join(tmp.path, "direct");
    let seq = 0;
    const directPass = (list: string[]) => mapPool(list, WORKER_CONCURRENCY, (f) => direct(f, join(outDirect, String(seq++))));

    // Reconcile at serve's production interval (15 s), not the tests' 1 s: with a round queued it
    // would re-read every open job from Redis each second beside the work being measured.
    const node = await startTestNode({ MEDIANODE_ROLES: "api,worker,monitor", MEDIANODE_CONCURRENCY: `image=${WORKER_CONCURRENCY}` }, { reconcileMs: 15_000 });
    const queue = new Queue(queueName("image"), { connection: node.redis.client(), prefix: QUEUE_PREFIX });
    const events = await jobEvents(node);
    try {
      const client = nodeClient(node, events);
      await directPass(warm);
      await client.pass(warm);

      // Interleaved rounds (D N, N D, D N, …): load from anything else on this machine
      // drifting during the run lands on both sides alike.
      const d = { wallSec: 0, cpuSec: 0 };
      const n = { wallSec: 0, cpuSec: 0 };
      const submitted: { id: string; uploadMs: number }[] = [];
      const finished = new Map<string, JobView>();
      const perRound: string[] = [];
      const roundRatios: number[] = [];
      const nodeRounds: { startMs: number; endMs: number; ids: string[] }[] = [];
      for (const [i, list] of rounds.entries()) {
        const doDirect = async () => {
          const m = await measure(() => directPass(list));
          d.wallSec += m.wallSec;
          d.cpuSec += m.cpuSec;
          return m.wallSec;
        };
        const doNode = async () => {
          const startMs = Date.now();
          const m = await measure(() => client.pass(list));
          nodeRounds.push({ startMs, endMs: Date.now(), ids: m.value.submitted.map((x) => x.id) });
          n.wallSec += m.wallSec;
          n.cpuSec += m.cpuSec;
          submitted.push(...m.value.submitted);
          for (const [k, v] of m.value.done) finished.set(k, v);
          return m.wallSec;
        };
        const [a, b] = i % 2 === 0 ? [await doDirect(), await doNode()] : [await doNode(), await doDirect()].reverse();
        perRound.push(`round ${i + 1} (${list.length} photos): direct ${round(a!, 2)} s, node ${round(b!, 2)} s`);
        roundRatios.push(a! / b!);
      }

      // Where the node's time goes, from BullMQ's own timestamps: wait in queue, worker
      // time (thread hop, header read, decode/resize, two webp, thumbhash, commit), and the
      // lag until the api recorded the result.
      const bull = await Promise.all(submitted.map((s) => queue.getJob(`${s.id}-r1`)));
      const waitMs: number[] = [];
      const workMs: number[] = [];
      const recordLagMs: number[] = [];
      for (const [i, j] of bull.entries()) {
        if (!j?.processedOn || !j.finishedOn) continue;
        waitMs.push(j.processedOn - j.timestamp);
        workMs.push(j.finishedOn - j.processedOn);
        const row = finished.get(submitted[i]!.id);
        if (row?.finishedAt) recordLagMs.push(Date.parse(row.finishedAt) - j.finishedOn);
      }
      // Fill (round start → the first job on a lane) and drain (the last job done → the pass
      // ends): the two ends of a node round where a lane waits; the direct side has neither.
      const bullById = new Map(bull.filter((j) => j).map((j) => [j!.id!.replace(/-r1$/, ""), j!]));
      const fillMs: number[] = [];
      const drainMs: number[] = [];
      for (const r of nodeRounds) {
        const js = r.ids.map((id) => bullById.get(id)).filter((j) => j?.processedOn && j.finishedOn);
        if (!js.length) continue;
        fillMs.push(Math.min(...js.map((j) => j!.processedOn!)) - r.startMs);
        drainMs.push(r.endMs - Math.max(...js.map((j) => j!.finishedOn!)));
      }

      // Profile pass: intake alone (queue paused), then processing alone (resume).
      const prof = timed.slice(0, PROFILE);
      const paused = await node.api("/v1/queues/image/pause", { method: "POST" });
      if (!paused.ok) throw new Error(`pause failed: ${paused.status}`);
      const intake = await measure(() => mapPool(prof, CLIENT_CONCURRENCY, client.submit));
      const processing = await measure(async () => {
        await node.api("/v1/queues/image/resume", { method: "POST" });
        await client.waitAll(new Set(intake.value.map((s) => s.id)), 120_000);
      });
      const profDirect = await measure(() => directPass(prof));

      const directRate = timed.length / d.wallSec;
      const nodeRate = timed.length / n.wallSec;
      const upload = summarize(submitted.map((s) => s.uploadMs));
      const work = summarize(workMs);
      const directPerPhotoMs = (d.wallSec * 1000 * WORKER_CONCURRENCY) / timed.length;
      const cpuPer = (x: { cpuSec: number }, k: number) => (x.cpuSec * 1000) / k;
      return {
        name: "image",
        description:
          `${timed.length} distinct 4000×3000 JPEGs (mean ${meanMiB.toFixed(1)} MiB; ${WARMUP} more as warm-up for each side), default variants (webp 256 q80 + webp 1440 q82 + thumbhash). ` +
          `Node: api+worker+monitor roles in this process (startTestNode), MEDIANODE_CONCURRENCY image=${WORKER_CONCURRENCY}, raw-body uploads (POST /v1/jobs?type=image) from ${CLIENT_CONCURRENCY} client loops; a pass ends when the node's event stream (/v1/events) has sent job.completed for every job (the recorder emits it once the row is final in SQLite). ` +
          `Direct: the same sharp calls in this process, ${WORKER_CONCURRENCY} at a time. The two sides alternate in ${rounds.length} rounds over the same files.`,
        metrics: [
          { label: "node photos/s", value: nodeRate, unit: "photos/s" },
          { label: "direct sharp photos/s", value: directRate, unit: "photos/s" },
          { label: "node CPU per photo", value: cpuPer(n, timed.length), unit: "ms" },
          { label: "direct CPU per photo", value: cpuPer(d, timed.length), unit: "ms" },
          { label: "upload request p50", value: upload.p50, unit: "ms" },
          { label: "worker time per job p50", value: work.p50, unit: "ms" },
          { label: "direct time per photo per lane", value: directPerPhotoMs, unit: "ms" },
        ],
        ratios: [
          { label: "node/direct photos/s", value: nodeRate / directRate, target: { op: ">=", value: 0.9 } },
          { label: "node/direct photos/s, median of rounds", value: [...roundRatios].sort((x, y) => x - y)[Math.floor(roundRatios.length / 2)]! },
          { label: "direct/node CPU per photo", value: d.cpuSec / n.cpuSec },
        ],
        notes: [
          perRound.join("; "),
          `Load average at start ${load0.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)} (2 cores; other sessions' tests share the machine, so compare within a round).`,
          `Upload request (stream ~${meanMiB.toFixed(1)} MiB to disk + magic-byte sniff + sharp header read + SQLite + queue.add) p50 ${round(upload.p50)} ms, p99 ${round(upload.p99)} ms while jobs run beside it.`,
          `Worker time per job (BullMQ processedOn→finishedOn) p50 ${round(work.p50)} ms, mean ${round(work.mean)} ms vs direct ${round(directPerPhotoMs)} ms per photo per lane; BullMQ wait p50 ${round(summarize(waitMs).p50)} ms; the api recorded each result p50 ${round(summarize(recordLagMs).p50)} ms after the worker finished.`,
          `Per node round: fill (start → first job on a lane) ${fillMs.map((x) => round(x)).join(", ")} ms; drain (last job finished in the worker → pass over) ${drainMs.map((x) => round(x)).join(", ")} ms.`,
          `Profile (${PROFILE} photos, queue paused for the intake): intake ${round(intake.wallSec, 2)} s wall / ${round(cpuPer(intake, PROFILE))} ms CPU per photo; processing ${round(processing.wallSec, 2)} s wall / ${round(cpuPer(processing, PROFILE))} ms CPU per photo; direct ${round(profDirect.wallSec, 2)} s wall / ${round(cpuPer(profDirect, PROFILE))} ms CPU per photo.`,
          `Photos generated in ${round(genMs / 1000)} s (not timed).`,
        ],
        details: {
          photos: timed.length, meanMiB, direct: d, node: n, upload, work, wait: summarize(waitMs), recordLag: summarize(recordLagMs), fillMs, drainMs,
          profile: { photos: PROFILE, intake: { wallSec: intake.wallSec, cpuSec: intake.cpuSec }, processing: { wallSec: processing.wallSec, cpuSec: processing.cpuSec }, direct: { wallSec: profDirect.wallSec, cpuSec: profDirect.cpuSec } },
        },
      };
    } finally {
      events.close();
      await queue.close();
      await node.stop();
    }
  } finally {
    tmp.remove();
  }
}
