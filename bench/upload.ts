// Issue 2 benchmark "upload": RSS of a node process (api role, its own process) while a
// 2 GiB file is uploaded as a raw body and as multipart, both streamed; sampled every
// 100 ms from /proc/<pid>/status. The file is not media, so each upload streams to disk in
// full and is then refused 415 by the sniff: the whole body still passes through the node.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestRedis } from "../tests/helpers/redis";
import { run as sh } from "./lib/media";
import { spawnNode } from "./lib/node-process";
import { rssMiB } from "./lib/pool";
import { curl, sampled } from "./lib/sampled";
import type { Result } from "./lib/result";

const SIZE_MIB = Number(process.env.BENCH_UPLOAD_MIB ?? 2048);
const LIMIT_MIB = 300;

export async function run(): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), "medianode-bench-upload-"));
  const redis = await startTestRedis();
  let node: Awaited<ReturnType<typeof spawnNode>> | null = null;
  try {
    const file = join(dir, "big.bin");
    // Random-looking bytes (not sparse: the node must really read and write every byte).
    await sh(["dd", "if=/dev/urandom", `of=${file}`, "bs=1M", `count=${SIZE_MIB}`, "status=none"]);
    const bytes = statSync(file).size;
    node = await spawnNode({
      REDIS_URL: redis.url,
      MEDIANODE_DATA_DIR: join(dir, "data"),
      MEDIANODE_ROLES: "api",
      MEDIANODE_MAX_UPLOAD_BYTES: String(bytes + 64 * 2 ** 20),
    });
    const n = node;
    const auth = ["-H", `Authorization: Bearer ${n.token}`];
    const idle = rssMiB(n.pid);
    const raw = await sampled(n.pid, () => curl([...auth, "-H", "Content-Type: application/octet-stream", "-H", "Expect:", "-X", "POST", "-T", file, `${n.url}/v1/jobs?type=video`]));
    const multipart = await sampled(n.pid, () => curl([...auth, "-F", `file=@${file};type=application/octet-stream`, "-F", "type=video", `${n.url}/v1/jobs`]));
    const code = (b: string) => {
      try {
        return (JSON.parse(b) as { error?: { code?: string } }).error?.code ?? "";
      } catch {
        return b.slice(0, 80);
      }
    };
    const mibps = (s: { wallSec: number }) => bytes / 2 ** 20 / s.wallSec;
    const maxMiB = Math.max(raw.maxMiB, multipart.maxMiB);
    return {
      name: "upload",
      description:
        `A ${(bytes / 2 ** 30).toFixed(2)} GiB file of random bytes POSTed by curl to a node running in its own process (bench/node-child.ts, MEDIANODE_ROLES=api, MEDIANODE_MAX_UPLOAD_BYTES above the size): ` +
        `raw body (-X POST -T file, ?type=video) then multipart (-F file=@file -F type=video). VmRSS of the node sampled every 100 ms. Not media, so after streaming to disk the sniff refuses it (415).`,
      metrics: [
        { label: "node RSS idle", value: idle, unit: "MiB" },
        { label: "max RSS, raw body", value: raw.maxMiB, unit: "MiB" },
        { label: "max RSS, multipart", value: multipart.maxMiB, unit: "MiB" },
        { label: "raw body throughput", value: mibps(raw), unit: "MiB/s" },
        { label: "multipart throughput", value: mibps(multipart), unit: "MiB/s" },
      ],
      ratios: [{ label: "max RSS / 300 MiB limit", value: maxMiB / LIMIT_MIB, target: { op: "<=", value: 1 } }],
      notes: [
        `raw body: HTTP ${raw.value.status} ${code(raw.value.body)} after ${raw.wallSec.toFixed(1)} s, ${raw.samples} samples, RSS ${raw.startMiB.toFixed(0)} → max ${raw.maxMiB.toFixed(0)} MiB.`,
        `multipart: HTTP ${multipart.value.status} ${code(multipart.value.body)} after ${multipart.wallSec.toFixed(1)} s, ${multipart.samples} samples, RSS ${multipart.startMiB.toFixed(0)} → max ${multipart.maxMiB.toFixed(0)} MiB.`,
      ],
      details: { bytes, idle, raw: { ...raw, value: undefined, status: raw.value.status }, multipart: { ...multipart, value: undefined, status: multipart.value.status } },
    };
  } finally {
    await node?.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
