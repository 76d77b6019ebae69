// Issue 15 benchmark "playback": serving outputs through /p/<token>/ against a bare Bun.serve
// that returns Bun.file for the same files, in the same run, each server in its own process
// and the load generator in a third (bench/lib/loadgen.ts).
// - a 50 MiB MP4, fetched whole, N times: throughput (MiB/s) node/bare (target >= 0.8);
// - 1,000 segment requests cycling through every segment of the 480p rung (default 6 s
//   segments): req/s node/bare (>= 0.8);
// - the 304 path: If-None-Match with the segment's ETag, req/s through /p/.
// The node runs api+worker (the worker makes the outputs, from one lavfi clip), with the per-IP
// rate limit off: this measures serving, not the limiter. Passes alternate bare/node.
import { mkdirSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { startTestRedis } from "../tests/helpers/redis";
import { benchDir, run as runCommand } from "./lib/media";
import { runLoad, type LoadResult, type LoadSpec } from "./lib/loadgen";
import { spawnNode } from "./lib/node-process";
import { round } from "./lib/pool";
import type { Result } from "./lib/result";

const MP4_TARGET_BYTES = 50 * 2 ** 20;
const MP4_REQUESTS = Number(process.env.BENCH_PLAYBACK_MP4_REQUESTS ?? 24);
const SEGMENT_REQUESTS = Number(process.env.BENCH_PLAYBACK_SEGMENTS ?? 1000);
const NOT_MODIFIED_REQUESTS = Number(process.env.BENCH_PLAYBACK_304 ?? 3000);
const PASSES = Number(process.env.BENCH_PLAYBACK_PASSES ?? 3);
/** 720p's rung cap is 2800 kbit/s (jobs/video/ladder.ts): at 2.6 Mbit/s CBR + 128k audio, 50 MiB takes ~154 s. */
const VIDEO_KBPS = 2600;
const CLIP_SEC = Math.ceil((MP4_TARGET_BYTES * 8) / ((VIDEO_KBPS + 128) * 1000));
const CONCURRENCY = 8;
const MP4_CONCURRENCY = 2;

// ---------------------------------------------------------------------------------------
// Bare server process: `bun bench/playback.ts --bare <root>` serves <root>/<path> as Bun.file
// (no checks, no headers of ours) and prints {"url": …} when listening.
async function bare(root: string) {
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      const path = new URL(req.url).pathname;
      return new Response(Bun.file(join(root, decodeURIComponent(path))));
    },
  });
  console.log(JSON.stringify({ url: `http://127.0.0.1:${server.port}` }));
  process.on("SIGTERM", () => {
    server.stop(true);
    process.exit(0);
  });
}

async function spawnBare(root: string): Promise<{ url: string; stop(): Promise<void> }> {
  const proc = Bun.spawn([process.execPath, import.meta.path, "--bare", root], { stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  let buf = "";
  while (!buf.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error("bare server exited before listening");
    buf += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return {
    url: (JSON.parse(buf.split("\n")[0]!) as { url: string }).url,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

const spec = (urls: string[], requests: number, concurrency: number, headers: Record<string, string> = {}, binary = true): LoadSpec => ({
  url: urls[0]!,
  urls,
  method: "GET",
  headers,
  body: "",
  requests,
  concurrency,
  maxSec: 300,
  binary,
});

function check(r: LoadResult, status: string, what: string): LoadResult {
  if ((r.statuses[status] ?? 0) !== r.requests) throw new Error(`${what}: not every request got ${status}: ${JSON.stringify(r.statuses)} ${r.firstError ?? ""}`);
  return r;
}

const sum = (rs: LoadResult[], f: (r: LoadResult) => number) => rs.reduce((n, r) => n + f(r), 0);

export async function run(): Promise<Result> {
  const load0 = loadavg()[0]!;
  const dir = benchDir("playback");
  const redis = await startTestRedis();
  const stops: (() => Promise<void>)[] = [];
  try {
    // One clip: 720p CBR within the 720p rung's cap, so the top rung is remuxed (not re-encoded)
    // into a ~50 MiB video.mp4; a 480p rung with the default 6 s segments (~1 MiB each) is
    // what the segment requests cycle through.
    const clip = join(dir.path, "clip.mp4");
    const k = `${VIDEO_KBPS}k`;
    await runCommand(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", `testsrc2=size=1280x720:rate=30:duration=${CLIP_SEC},noise=alls=12:allf=t`, "-f", "lavfi", "-i", `sine=frequency=440:sample_rate=48000:duration=${CLIP_SEC}`,
      "-c:v", "libx264", "-preset", "ultrafast", "-b:v", k, "-minrate", k, "-maxrate", k, "-bufsize", k, "-x264-params", "nal-hrd=cbr", "-g", "60", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", clip]);
    const dataDir = join(dir.path, "data");
    mkdirSync(dataDir, { recursive: true });
    const node = await spawnNode({ REDIS_URL: redis.url, MEDIANODE_DATA_DIR: dataDir, MEDIANODE_RATE_LIMIT_PER_IP: "0", MEDIANODE_RATE_LIMIT_PER_TOKEN: "0" });
    stops.push(() => node.stop());
    const api = (path: string, init: RequestInit = {}) => fetch(node.url + path, { ...init, headers: { authorization: `Bearer ${node.token}`, ...(init.headers as Record<string, string>) } });
    const options = { renditions: [720, 480], remux: true, preset: "ultrafast", storyboard: false };
    const sub = await api(`/v1/jobs?type=video&options=${encodeURIComponent(JSON.stringify(options))}`, { method: "POST", body: Bun.file(clip), headers: { "content-type": "video/mp4" } });
    if (sub.status !== 202) throw new Error(`submit: ${sub.status} ${await sub.text()}`);
    const id = ((await sub.json()) as { id: string }).id;
    for (let until = Date.now() + 600_000; ; ) {
      const j = (await (await api(`/v1/jobs/${id}`)).json()) as { status: string; error?: unknown };
      if (j.status === "completed") break;
      if (j.status === "failed" || j.status === "cancelled" || Date.now() > until) throw new Error(`video job ${j.status}: ${JSON.stringify(j.error)}`);
      await Bun.sleep(500);
    }
    const job = (await (await api(`/v1/jobs/${id}`)).json()) as { outputs: { name: string; bytes: number }[] };
    const mp4 = job.outputs.find((o) => o.name === "video.mp4")!;
    const segments = job.outputs.filter((o) => /^480p\/seg_\d+\.ts$/.test(o.name));
    if (!segments.length) throw new Error(`no 480p segments in ${job.outputs.map((o) => o.name).join(", ")}`);
    const pb = (await (await api(`/v1/jobs/${id}/playback`)).json()) as { base: string; mp4: string };

    const bareServer = await spawnBare(join(dataDir, "media", id, "out"));
    stops.push(() => bareServer.stop());
    const nodeMp4 = [pb.mp4];
    const bareMp4 = [`${bareServer.url}/video.mp4`];
    const nodeSegs = segments.map((s) => pb.base + s.name);
    const bareSegs = segments.map((s) => `${bareServer.url}/${s.name}`);
    const etag = (await fetch(nodeSegs[0]!, { method: "HEAD" })).headers.get("etag")!;

    // Warm both (page cache, JIT), then alternate.
    await runLoad(spec(bareMp4, 2, 1));
    await runLoad(spec(nodeMp4, 2, 1));
    await runLoad(spec(bareSegs, 200, CONCURRENCY));
    await runLoad(spec(nodeSegs, 200, CONCURRENCY));
    await runLoad(spec(nodeSegs.slice(0, 1), 200, CONCURRENCY, { "if-none-match": etag }));
    const runs = { bareMp4: [] as LoadResult[], nodeMp4: [] as LoadResult[], bareSeg: [] as LoadResult[], nodeSeg: [] as LoadResult[], node304: [] as LoadResult[] };
    for (let p = 0; p < PASSES; p++) {
      const pairs: [LoadResult[], () => Promise<LoadResult>][] = [
        [runs.bareMp4, async () => check(await runLoad(spec(bareMp4, MP4_REQUESTS, MP4_CONCURRENCY)), "200", "bare mp4")],
        [runs.nodeMp4, async () => check(await runLoad(spec(nodeMp4, MP4_REQUESTS, MP4_CONCURRENCY)), "200", "node mp4")],
        [runs.bareSeg, async () => check(await runLoad(spec(bareSegs, SEGMENT_REQUESTS, CONCURRENCY)), "200", "bare segments")],
        [runs.nodeSeg, async () => check(await runLoad(spec(nodeSegs, SEGMENT_REQUESTS, CONCURRENCY)), "200", "node segments")],
      ];
      // Odd passes run the node first, so drift in the machine's load hits both sides alike.
      const order = p % 2 ? [1, 0, 3, 2] : [0, 1, 2, 3];
      for (const i of order) pairs[i]![0].push(await pairs[i]![1]());
      runs.node304.push(check(await runLoad(spec(nodeSegs.slice(0, 1), NOT_MODIFIED_REQUESTS, CONCURRENCY, { "if-none-match": etag })), "304", "node 304"));
    }
    const mibps = (rs: LoadResult[]) => sum(rs, (r) => r.bytes) / 2 ** 20 / sum(rs, (r) => r.wallSec);
    const rps = (rs: LoadResult[]) => sum(rs, (r) => r.requests) / sum(rs, (r) => r.wallSec);
    const segBytes = segments.reduce((n, s) => n + s.bytes, 0) / segments.length;
    const m = {
      bareMp4: mibps(runs.bareMp4),
      nodeMp4: mibps(runs.nodeMp4),
      bareSeg: rps(runs.bareSeg),
      nodeSeg: rps(runs.nodeSeg),
      node304: rps(runs.node304),
    };
    const p99 = (rs: LoadResult[]) => Math.max(...rs.map((r) => r.latencyMs.p99));
    return {
      name: "playback",
      description: `GET through /p/<token>/ (token check, job lookup, contained path, ETag/Range plan, Bun.file) vs a bare Bun.serve returning Bun.file, same files, same run, ${PASSES} alternating passes`,
      metrics: [
        { label: `MP4 ${(mp4.bytes / 2 ** 20).toFixed(1)} MiB ×${MP4_REQUESTS}, bare`, value: round(m.bareMp4, 1), unit: "MiB/s" },
        { label: "MP4 through /p/", value: round(m.nodeMp4, 1), unit: "MiB/s" },
        { label: `${SEGMENT_REQUESTS} segment requests (${segments.length} segments, ~${Math.round(segBytes / 1024)} KiB), bare`, value: round(m.bareSeg, 0), unit: "req/s" },
        { label: "segments through /p/", value: round(m.nodeSeg, 0), unit: "req/s" },
        { label: "segments through /p/, p99", value: round(p99(runs.nodeSeg), 2), unit: "ms" },
        { label: "segments bare, p99", value: round(p99(runs.bareSeg), 2), unit: "ms" },
        { label: "304 (If-None-Match) through /p/", value: round(m.node304, 0), unit: "req/s" },
      ],
      ratios: [
        { label: "MP4 throughput node/bare", value: round(m.nodeMp4 / m.bareMp4, 3), target: { op: ">=", value: 0.8 } },
        { label: "segment req/s node/bare", value: round(m.nodeSeg / m.bareSeg, 3), target: { op: ">=", value: 0.8 } },
        { label: "304 req/s / bare segment req/s", value: round(m.node304 / m.bareSeg, 3) },
      ],
      notes: [
        `Concurrency ${CONCURRENCY} (MP4: ${MP4_CONCURRENCY}), the load generator in its own process; the node runs api+worker with MEDIANODE_RATE_LIMIT_PER_IP=0 (serving, not the limiter, is measured).`,
        `Load average at start ${load0.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)} (2 cores shared with the load generator and other sessions).`,
      ],
      details: {
        // Per pass: req/s, MiB/s and p99 of each side, to see the spread behind the sums.
        passes: Object.fromEntries(Object.entries(runs).map(([k, rs]) => [k, rs.map((r) => ({ rps: round(r.rps, 1), mibps: round(r.bytes / 2 ** 20 / r.wallSec, 1), p99Ms: round(r.latencyMs.p99, 2) }))])),
        segments: segments.length,
        segmentBytesMean: Math.round(segBytes),
        mp4Bytes: mp4.bytes,
      },
    };
  } finally {
    for (const s of stops.reverse()) await s().catch(() => {});
    await redis.stop();
    dir.remove();
  }
}

if (import.meta.main && process.argv[2] === "--bare") await bare(process.argv[3]!);
