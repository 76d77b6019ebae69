// Issue 14 benchmark "bucket-video": a video job's wall time with media in a bucket vs on local
// disk, same run. Two nodes in their own processes (api + worker + monitor, each its own
// Redis), one with MEDIANODE_MEDIA_URL on a local s3rver process; the same 1080p lavfi clip is
// uploaded to each (raw body) and timed from the POST to its job.completed event, passes
// alternating local/bucket. With the bucket the worker downloads the source from it and uploads
// every output (HLS ladder, MP4, poster, storyboard) before the commit: that is the extra cost.
import { join } from "node:path";
import { startTestRedis } from "../tests/helpers/redis";
import { startTestS3 } from "../tests/helpers/s3";
import { benchDir, makeClip } from "./lib/media";
import { jobEvents } from "./lib/node-jobs";
import { spawnNode, type NodeProcess } from "./lib/node-process";
import type { Result } from "./lib/result";

const PASSES = Number(process.env.BENCH_BUCKET_VIDEO_PASSES ?? 2);
const CLIP_SEC = 8;
const OPTIONS = { renditions: [720, 360] };

async function timeUpload(node: NodeProcess, clip: string): Promise<{ wallSec: number; runSec: number; outputsBytes: number }> {
  const events = await jobEvents(node);
  try {
    const t0 = performance.now();
    const r = await fetch(`${node.url}/v1/jobs?type=video&options=${encodeURIComponent(JSON.stringify(OPTIONS))}`, {
      method: "POST",
      headers: { authorization: `Bearer ${node.token}`, "content-type": "video/mp4" },
      body: Bun.file(clip),
    });
    const created = (await r.json()) as { id: string };
    if (r.status !== 202) throw new Error(`upload refused ${r.status}: ${JSON.stringify(created)}`);
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

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(): Promise<Result> {
  const dir = benchDir("medianode-bench-bucket-video-");
  const [r1, r2] = await Promise.all([startTestRedis(), startTestRedis()]);
  const s3 = await startTestS3();
  const nodes: NodeProcess[] = [];
  try {
    const clip = join(dir.path, "clip.mp4");
    await makeClip(clip, CLIP_SEC);
    const local = await spawnNode({ REDIS_URL: r1.url, MEDIANODE_DATA_DIR: join(dir.path, "local") });
    nodes.push(local);
    const bucket = await spawnNode({ REDIS_URL: r2.url, MEDIANODE_DATA_DIR: join(dir.path, "bucket"), ...s3.env(s3.bucket()) });
    nodes.push(bucket);
    const times = { local: [] as number[], bucket: [] as number[], localRun: [] as number[], bucketRun: [] as number[] };
    let outputsBytes = 0;
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
    const l = median(times.local);
    const b = median(times.bucket);
    return {
      name: "bucket-video",
      description:
        `A ${CLIP_SEC} s 1080p30 lavfi clip uploaded (raw body) to two nodes in their own processes, each api+worker+monitor on its own Redis: one keeps media on local disk, one in a bucket (MEDIANODE_MEDIA_URL, a local s3rver process). ` +
        `Video job with renditions [720, 360] (HLS + MP4 + poster + storyboard), timed from the POST to job.completed; ${PASSES} passes, order alternating; medians.`,
      metrics: [
        { label: "video job wall time, local disk", value: l, unit: "s" },
        { label: "video job wall time, bucket", value: b, unit: "s" },
        { label: "outputs per job", value: outputsBytes / 2 ** 20, unit: "MiB" },
      ],
      ratios: [{ label: "video job wall time bucket / local disk", value: b / l, target: { op: "<=", value: 1.1 } }],
      notes: [
        `wall times (s): local ${times.local.map((x) => x.toFixed(2)).join(", ")}; bucket ${times.bucket.map((x) => x.toFixed(2)).join(", ")}.`,
        `startedAt → finishedAt (s): local ${times.localRun.map((x) => x.toFixed(2)).join(", ")}; bucket ${times.bucketRun.map((x) => x.toFixed(2)).join(", ")}.`,
      ],
      details: { times, outputsBytes },
    };
  } finally {
    for (const n of nodes) await n.stop();
    await s3.stop();
    await Promise.all([r1.stop(), r2.stop()]);
    dir.remove();
  }
}
