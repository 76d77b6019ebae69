// Issue 14 benchmark "bucket" (media in S3, SPEC §11): a file of random bytes uploaded through a
// node (its own process, api role, MEDIANODE_MEDIA_URL on a local s3rver process) as a raw body
// by curl, against Bun's S3 client writing the same file to the same server as a multipart
// upload (same part size and queue) in the same run: throughput ratio node / raw. The node's
// VmRSS is sampled every 100 ms while it streams. The file is not media, so after it is whole
// in the bucket the sniff refuses it (415) and the object is deleted: the full body still
// passes through the node into the bucket.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestRedis } from "../tests/helpers/redis";
import { startTestS3 } from "../tests/helpers/s3";
import { PART_BYTES, PART_QUEUE } from "../src/storage/bucket";
import { run as sh } from "./lib/media";
import { spawnNode } from "./lib/node-process";
import { rssMiB } from "./lib/pool";
import { curl, sampled } from "./lib/sampled";
import type { Result } from "./lib/result";

const SIZE_MIB = Number(process.env.BENCH_BUCKET_MIB ?? 1024);
const LIMIT_MIB = 300;

export async function run(): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), "medianode-bench-bucket-"));
  const redis = await startTestRedis();
  const s3 = await startTestS3();
  let node: Awaited<ReturnType<typeof spawnNode>> | null = null;
  try {
    const file = join(dir, "big.bin");
    await sh(["dd", "if=/dev/urandom", `of=${file}`, "bs=1M", `count=${SIZE_MIB}`, "status=none"]);
    const bytes = statSync(file).size;
    const bucket = s3.bucket();
    node = await spawnNode({ REDIS_URL: redis.url, MEDIANODE_DATA_DIR: join(dir, "data"), MEDIANODE_ROLES: "api", MEDIANODE_MAX_UPLOAD_BYTES: String(bytes + 64 * 2 ** 20), ...s3.env(bucket) });
    const n = node;
    const idle = rssMiB(n.pid);
    const viaNode = await sampled(n.pid, () =>
      curl(["-H", `Authorization: Bearer ${n.token}`, "-H", "Content-Type: application/octet-stream", "-H", "Expect:", "-X", "POST", "-T", file, `${n.url}/v1/jobs?type=video`]),
    );
    const left = await s3.keys(bucket, "media/");
    // The same bytes, the same server, Bun's own multipart writer with the node's part settings.
    const t0 = performance.now();
    await s3.client(bucket).write("raw/big.bin", Bun.file(file), { partSize: PART_BYTES, queueSize: PART_QUEUE });
    const rawSec = (performance.now() - t0) / 1000;
    const mibps = (sec: number) => bytes / 2 ** 20 / sec;
    const nodeMiBps = mibps(viaNode.wallSec);
    const rawMiBps = mibps(rawSec);
    return {
      name: "bucket",
      description:
        `A ${(bytes / 2 ** 30).toFixed(2)} GiB file of random bytes: POSTed by curl (-T, raw body) to a node in its own process (MEDIANODE_ROLES=api, MEDIANODE_MEDIA_URL on a local s3rver process), ` +
        `which streams it into a multipart upload (${PART_BYTES / 2 ** 20} MiB parts, ${PART_QUEUE} in flight); then Bun's S3 client writes the same file to the same server with the same part settings. VmRSS of the node sampled every 100 ms.`,
      metrics: [
        { label: "node RSS idle", value: idle, unit: "MiB" },
        { label: "max RSS while uploading", value: viaNode.maxMiB, unit: "MiB" },
        { label: "upload through the node into the bucket", value: nodeMiBps, unit: "MiB/s" },
        { label: "raw Bun S3 multipart write", value: rawMiBps, unit: "MiB/s" },
      ],
      ratios: [
        { label: "upload throughput node / raw S3 write", value: nodeMiBps / rawMiBps },
        { label: "max RSS / 300 MiB limit", value: viaNode.maxMiB / LIMIT_MIB, target: { op: "<=", value: 1 } },
      ],
      notes: [
        `node: HTTP ${viaNode.value.status} after ${viaNode.wallSec.toFixed(1)} s (not media: refused after the whole upload was in the bucket), ${viaNode.samples} samples, RSS ${viaNode.startMiB.toFixed(0)} → max ${viaNode.maxMiB.toFixed(0)} MiB; objects left under media/: ${left.length}.`,
        `raw: ${rawSec.toFixed(1)} s. s3rver (a Node S3 server writing to the same disk) is the bottleneck of both; the ratio is what the node adds.`,
      ],
      details: { bytes, idle, nodeSec: viaNode.wallSec, rawSec, status: viaNode.value.status, objectsLeft: left.length },
    };
  } finally {
    await node?.stop();
    await s3.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
