// Issue 14 benchmark "bucket-video": a video job's wall time with media in a bucket vs on local
// disk, same run. Two nodes in their own processes (api + worker + monitor, each its own
// Redis), one with MEDIANODE_MEDIA_URL on a local s3rver process; the same 1080p lavfi clip is
// uploaded to each (raw body) and timed from the POST to its job.completed event, passes
// alternating local/bucket. With the bucket the worker downloads the source from it and uploads
// every output (HLS ladder, MP4, poster, storyboard) before the commit: that is the extra cost.
// Then the bytes that cross an api node per job after the upload's response (SPEC §11: none
// with the bucket), counted on the wire by TCP proxies (bench/lib/byte-proxy.ts) in front of
// the api node: one for the benchmark client (its requests and events socket), one for the
// worker; and, with the bucket, one between the api node and the bucket. (a) bucket: an api
// node process and a `medianode worker` process with only Redis and the bucket (it has no
// address of the api node); (b) no bucket: `medianode worker --server <proxy>` (SPEC §1),
// which fetches the source from the api node and uploads every output to it.
import { join } from "node:path";
import { createTokenCli, startApiProcess, startWorkerProcess, type ApiProc, type WorkerProc } from "../tests/helpers/cluster";
import { startTestRedis } from "../tests/helpers/redis";
import { startTestS3 } from "../tests/helpers/s3";
import { startByteProxy, type ByteCounts, type ByteProxy } from "./lib/byte-proxy";
import { benchDir, makeClip } from "./lib/media";
import { jobEvents } from "./lib/node-jobs";
import { spawnNode, type NodeProcess } from "./lib/node-process";
import type { Result } from "./lib/result";

const PASSES = Number(process.env.BENCH_BUCKET_VIDEO_PASSES ?? 4);
const BYTE_PASSES = Number(process.env.BENCH_BUCKET_VIDEO_BYTE_PASSES ?? 2);
const CLIP_SEC = 8;
const OPTIONS = { renditions: [720, 360] };

/** The clip POSTed (raw body) to `url` as a video job; the answer, not yet checked. */
async function postClip(url: string, token: string, clip: string): Promise<{ status: number; body: { id: string } }> {
  const r = await fetch(`${url}/v1/jobs?type=video&options=${encodeURIComponent(JSON.stringify(OPTIONS))}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "video/mp4" },
    body: Bun.file(clip),
  });
  return { status: r.status, body: (await r.json()) as { id: string } };
}

/** The created job, or the refusal as an error. */
function refusedOr(a: { status: number; body: { id: string } }): { id: string } {
  if (a.status !== 202) throw new Error(`upload refused ${a.status}: ${JSON.stringify(a.body)}`);
  return a.body;
}

async function timeUpload(node: NodeProcess, clip: string): Promise<{ wallSec: number; runSec: number; outputsBytes: number }> {
  const events = await jobEvents(node);
  try {
    const t0 = performance.now();
    const created = refusedOr(await postClip(node.url, node.token, clip));
    await events.wait([created.id], 300_000);
    const wallSec = (performance.now() - t0) / 1000;
    const j = (await (await fetch(`${node.url}/v1/jobs/${created.id}`, { headers: { authorization: `Bearer ${node.token}` } })).json()) as {
      status: string;
      startedAt: string;
      finishedAt: string;
      outputs: { bytes: number }[];
      error?: unknown;
    };
    if (j.status !== "completed") throw new Error(`job ${created.id} ${j.status}: ${JSON.stringify(j.error)}`);
    return { wallSec, runSec: (Date.parse(j.finishedAt) - Date.parse(j.startedAt)) / 1000, outputsBytes: j.outputs.reduce((a, o) => a + o.bytes, 0) };
  } finally {
    events.close();
  }
}

interface Crossing {
  /** Benchmark client ↔ api node (events socket, requests) after the upload's response. */
  client: ByteCounts;
  /** Worker ↔ api node from the POST on (before the response the job does not exist, so nothing of it moves). */
  worker: ByteCounts;
  /** Api node ↔ bucket after the upload's response (bucket mode only). */
  bucket: ByteCounts;
  /** The upload itself, client → api node and api node → bucket: the proxies are in the path. */
  upload: { client: ByteCounts; bucket: ByteCounts };
  wallSec: number;
  sourceBytes: number;
  outputsBytes: number;
}

const ZERO: ByteCounts = { up: 0, down: 0, connections: 0 };
const since = (p: ByteProxy | null, c0: ByteCounts): ByteCounts => {
  if (!p) return ZERO;
  const c = p.counts();
  return { up: c.up - c0.up, down: c.down - c0.down, connections: c.connections - c0.connections };
};
const both = (c: ByteCounts) => c.up + c.down;

/** One upload through `client` (the proxy in front of `api`), its job's bytes on each proxy. */
async function countJob(api: ApiProc, client: ByteProxy, worker: ByteProxy | null, bucket: ByteProxy | null, clip: string): Promise<Crossing> {
  const events = await jobEvents({ url: client.url, token: api.token });
  try {
    const w0 = worker?.counts() ?? ZERO;
    const u0 = { client: client.counts(), bucket: bucket?.counts() ?? ZERO };
    const t0 = performance.now();
    const answer = await postClip(client.url, api.token, clip);
    const c0 = client.counts();
    const b0 = bucket?.counts() ?? ZERO;
    const upload = { client: since(client, u0.client), bucket: since(bucket, u0.bucket) };
    const created = refusedOr(answer);
    await events.wait([created.id], 300_000);
    const wallSec = (performance.now() - t0) / 1000;
    const crossing = { client: since(client, c0), worker: since(worker, w0), bucket: since(bucket, b0), upload };
    // Read straight from the api node, after the window: not counted.
    const j = (await (await fetch(`${api.url}/v1/jobs/${created.id}`, { headers: { authorization: `Bearer ${api.token}` } })).json()) as { status: string; outputs: { bytes: number }[]; error?: unknown };
    if (j.status !== "completed") throw new Error(`job ${created.id} ${j.status}: ${JSON.stringify(j.error)}`);
    return { ...crossing, wallSec, sourceBytes: Bun.file(clip).size, outputsBytes: j.outputs.reduce((a, o) => a + o.bytes, 0) };
  } finally {
    events.close();
  }
}

/** The middle value; of an even count, the mean of the middle two. */
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export async function run(): Promise<Result> {
  const dir = benchDir("medianode-bench-bucket-video-");
  const [r1, r2, r3, r4] = await Promise.all([startTestRedis(), startTestRedis(), startTestRedis(), startTestRedis()]);
  const s3 = await startTestS3();
  const nodes: NodeProcess[] = [];
  const procs: (ApiProc | WorkerProc)[] = [];
  const proxies: ByteProxy[] = [];
  const proxy = (target: string) => {
    const p = startByteProxy(target);
    proxies.push(p);
    return p;
  };
  try {
    const clip = join(dir.path, "clip.mp4");
    await makeClip(clip, CLIP_SEC);
    const local = await spawnNode({ REDIS_URL: r1.url, MEDIANODE_DATA_DIR: join(dir.path, "local") });
    nodes.push(local);
    const bucket = await spawnNode({ REDIS_URL: r2.url, MEDIANODE_DATA_DIR: join(dir.path, "bucket"), ...s3.env(s3.bucket()) });
    nodes.push(bucket);
    const times = { local: [] as number[], bucket: [] as number[], localRun: [] as number[], bucketRun: [] as number[] };
    let outputsBytes = 0;
    // One untimed job on each first: the first job of a fresh node (ffmpeg and its libraries
    // read from disk, the statement caches cold) took 6.1 s against 3.6 s for the next.
    for (const node of [local, bucket]) await timeUpload(node, clip);
    for (let p = 0; p < PASSES; p++) {
      // Alternating which goes first, so neither always runs on the warmer machine.
      const order: ["local" | "bucket", NodeProcess][] = p % 2 === 0 ? [["local", local], ["bucket", bucket]] : [["bucket", bucket], ["local", local]];
      for (const [name, node] of order) {
        const t = await timeUpload(node, clip);
        times[name].push(t.wallSec);
        times[name === "local" ? "localRun" : "bucketRun"].push(t.runSec);
        outputsBytes = t.outputsBytes;
      }
    }
    // The wall-time nodes go before the byte count starts: they would only share the cores.
    for (const n of nodes.splice(0)) await n.stop();

    // (a) bucket: api node ↔ bucket through a proxy too (its S3 endpoint), the worker straight to the bucket.
    const bk = s3.bucket();
    const s3Proxy = proxy(s3.endpoint);
    const quiet = { MEDIANODE_LOG_LEVEL: "error" };
    const apiA = await startApiProcess({ redisUrl: r3.url, dataDir: join(dir.path, "a-api"), env: { ...quiet, ...s3.env(bk), MEDIANODE_S3_ENDPOINT: s3Proxy.url } });
    procs.push(apiA);
    procs.push(await startWorkerProcess({ redisUrl: r3.url, dataDir: join(dir.path, "a-worker"), env: { ...quiet, ...s3.env(bk) } }));
    const clientA = proxy(apiA.url);
    // (b) no bucket: the worker reaches the api node only through its own proxy.
    const apiB = await startApiProcess({ redisUrl: r4.url, dataDir: join(dir.path, "b-api"), env: quiet });
    procs.push(apiB);
    const workerB = proxy(apiB.url);
    const token = await createTokenCli(join(dir.path, "b-api"), "bench-remote-worker", "worker");
    procs.push(await startWorkerProcess({ redisUrl: r4.url, dataDir: join(dir.path, "b-worker"), server: workerB.url, token, env: quiet }));
    const clientB = proxy(apiB.url);
    const crossings = { bucket: [] as Crossing[], server: [] as Crossing[] };
    for (let p = 0; p < BYTE_PASSES; p++) {
      const order = p % 2 === 0 ? (["bucket", "server"] as const) : (["server", "bucket"] as const);
      for (const mode of order) crossings[mode].push(mode === "bucket" ? await countJob(apiA, clientA, null, s3Proxy, clip) : await countJob(apiB, clientB, workerB, null, clip));
    }
    // Per-job figures: the median pass by total bytes (they barely move between passes).
    const pick = (xs: Crossing[]) => [...xs].sort((x, y) => total(x) - total(y))[Math.floor(xs.length / 2)]!;
    const total = (c: Crossing) => both(c.client) + both(c.worker) + both(c.bucket);
    const a = pick(crossings.bucket);
    const b = pick(crossings.server);
    const media = (c: Crossing) => c.sourceBytes + c.outputsBytes;
    const KiB = (n: number) => n / 1024;
    const l = median(times.local);
    const bt = median(times.bucket);
    const line = (c: Crossing) =>
      `client ${c.client.down} B down / ${c.client.up} B up (${c.client.connections} new connections); worker ${c.worker.down} B down / ${c.worker.up} B up (${c.worker.connections}); ` +
      `api↔bucket ${c.bucket.up} B up / ${c.bucket.down} B down (${c.bucket.connections}); ` +
      `during the upload (not in the window): client → api ${c.upload.client.up} B, api → bucket ${c.upload.bucket.up} B; wall ${c.wallSec.toFixed(2)} s; source ${c.sourceBytes} B + outputs ${c.outputsBytes} B`;
    return {
      name: "bucket-video",
      description:
        `A ${CLIP_SEC} s 1080p30 lavfi clip uploaded (raw body) to two nodes in their own processes, each api+worker+monitor on its own Redis: one keeps media on local disk, one in a bucket (MEDIANODE_MEDIA_URL, a local s3rver process). ` +
        `Video job with renditions [720, 360] (HLS + MP4 + poster + storyboard), timed from the POST to job.completed; one untimed job on each first, then ${PASSES} passes, order alternating; medians. ` +
        `Then bytes across an api node per job, counted by TCP proxies (bench/lib/byte-proxy.ts) in front of it, the same clip and options, ${BYTE_PASSES} passes alternating: ` +
        `(a) bucket: \`serve --roles api,monitor,metrics\` with the bucket (its S3 endpoint also behind a proxy) and a \`medianode worker\` process with only Redis and the bucket; ` +
        `(b) no bucket: the same api node on local disk and \`medianode worker --server <proxy> --token\` (HTTP media store). ` +
        `Client traffic (the benchmark's events socket; its upload is before the window) counted from the upload's response to job.completed; worker traffic from the POST (the job does not exist before it) to job.completed.`,
      metrics: [
        { label: "video job wall time, local disk", value: l, unit: "s" },
        { label: "video job wall time, bucket", value: bt, unit: "s" },
        { label: "outputs per job", value: outputsBytes / 2 ** 20, unit: "MiB" },
        { label: "source + outputs per job", value: KiB(media(a)), unit: "KiB" },
        { label: "bucket: all bytes across the api node per job after the upload", value: total(a), unit: "B" },
        { label: "bucket: worker ↔ api node per job", value: KiB(both(a.worker)), unit: "KiB" },
        { label: "bucket: api node ↔ bucket per job after the upload", value: KiB(both(a.bucket)), unit: "KiB" },
        { label: "bucket: client ↔ api node per job (events)", value: KiB(both(a.client)), unit: "KiB" },
        { label: "no bucket: worker ↔ api node per job", value: KiB(both(b.worker)), unit: "KiB" },
        { label: "no bucket: client ↔ api node per job (events)", value: KiB(both(b.client)), unit: "KiB" },
      ],
      ratios: [
        { label: "video job wall time bucket / local disk", value: bt / l, target: { op: "<=", value: 1.1 } },
        { label: "bucket: bytes across the api node after the upload / (source + outputs)", value: total(a) / media(a) },
        { label: "bucket: worker ↔ api node bytes / (source + outputs)", value: both(a.worker) / media(a), target: { op: "<=", value: 0 } },
        { label: "no bucket: bytes across the api node after the upload / (source + outputs)", value: total(b) / media(b) },
        { label: "no bucket: worker ↔ api node bytes / (source + outputs)", value: both(b.worker) / media(b) },
      ],
      notes: [
        `wall times (s): local ${times.local.map((x) => x.toFixed(2)).join(", ")}; bucket ${times.bucket.map((x) => x.toFixed(2)).join(", ")}.`,
        `startedAt → finishedAt (s): local ${times.localRun.map((x) => x.toFixed(2)).join(", ")}; bucket ${times.bucketRun.map((x) => x.toFixed(2)).join(", ")}.`,
        `bytes across the api node after the upload / (source + outputs): bucket ${(total(a) / media(a)).toExponential(2)} (its events socket only), no bucket ${(total(b) / media(b)).toFixed(4)}.`,
        ...crossings.bucket.map((c, i) => `bytes, bucket pass ${i + 1}: ${line(c)}.`),
        ...crossings.server.map((c, i) => `bytes, no bucket pass ${i + 1}: ${line(c)}.`),
        `Bytes are on the wire (HTTP headers, chunking, WebSocket frames included), "down" is api node → that side. With the bucket the worker is given no address of the api node, so its proxy is not in its path: the zero is by construction, and the check is that the job completes without it. The api node's Redis traffic (queue, events) is not counted: no media goes through Redis.`,
      ],
      details: { times, outputsBytes, crossings },
    };
  } finally {
    for (const n of nodes) await n.stop();
    for (const p of procs.reverse()) await p.stop();
    for (const p of proxies) p.stop();
    await s3.stop();
    await Promise.all([r1.stop(), r2.stop(), r3.stop(), r4.stop()]);
    dir.remove();
  }
}
