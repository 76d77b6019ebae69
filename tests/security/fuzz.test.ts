// Fuzz pass: random bytes and mutated corpus files (truncated, bytes flipped, wrong
// extension) as uploads for every job type. Each answer is a 4xx, or a job that ends with a
// clear code; never a 5xx, a crash or a hang; the node stays healthy. Seeded: reproducible.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { MANIFEST, CORPUS_DIR } from "../helpers/corpus";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";

const CASES = Number(process.env.FUZZ_CASES ?? 500);
const TYPES = ["probe", "image", "audio", "video", "thumbnail"] as const;
// Small ladders keep a mutated video that still decodes quick.
const OPTIONS: Record<string, string> = {
  video: JSON.stringify({ renditions: [144], preset: "ultrafast", poster: false, storyboard: false }),
  thumbnail: JSON.stringify({ count: 1 }),
  image: JSON.stringify({ variants: [{ name: "t", size: 64 }] }),
};
const CLEAR_CODES = ["INVALID_INPUT", "UNSUPPORTED_MEDIA", "FFMPEG_FAILED", "TIMEOUT"];

/** mulberry32: a tiny seeded PRNG. */
function rng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const small = MANIFEST.filter((e) => e.bytes > 0 && e.bytes < 400_000).map((e) => readFileSync(CORPUS_DIR + e.file));

function makeCase(rand: () => number): Uint8Array {
  const pick = rand();
  if (pick < 0.3 || small.length === 0) {
    const n = Math.floor(rand() * 4096);
    return Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
  }
  const src = small[Math.floor(rand() * small.length)]!;
  const out = new Uint8Array(src);
  if (pick < 0.6) return out.slice(0, Math.max(1, Math.floor(rand() * out.length)));
  const flips = 1 + Math.floor(rand() * 64);
  // Flip bytes after the magic number most of the time, so the sniff passes and the decoders see junk.
  for (let i = 0; i < flips; i++) out[Math.floor(16 + rand() * Math.max(1, out.length - 16)) % out.length] = Math.floor(rand() * 256);
  return out;
}

let t: TestNode;
beforeAll(async () => {
  t = await startTestNode({ MEDIANODE_ATTEMPTS: "1", MEDIANODE_JOB_TIMEOUT_SEC: "30", MEDIANODE_CONCURRENCY: "probe=4,image=2,audio=2,video=2,thumbnail=2" });
});
afterAll(async () => {
  await t.stop();
});

test(`fuzz: ${CASES} random or mutated uploads → 4xx or a job with a clear code, node healthy`, async () => {
  const rand = rng(20261123);
  const statuses = new Map<number, number>();
  const jobs: string[] = [];
  const queue = Array.from({ length: CASES }, (_, i) => i);
  const worker = async () => {
    for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
      const type = TYPES[i % TYPES.length]!;
      const body = makeCase(rand);
      const opts = OPTIONS[type] ? `&options=${encodeURIComponent(OPTIONS[type]!)}` : "";
      const r = await t.api(`/v1/jobs?type=${type}${opts}`, { method: "POST", body, headers: { "content-type": "application/octet-stream" } });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      const text = await r.text();
      if (r.status >= 500) throw new Error(`case ${i} (${type}, ${body.length} bytes): ${r.status} ${text}`);
      if (r.status === 202) jobs.push((JSON.parse(text) as { id: string }).id);
      else expect((JSON.parse(text) as { error: { code: string } }).error.code).toMatch(/^[A-Z_]+$/);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  const codes = new Map<string, number>();
  for (const id of jobs) {
    const j = (await waitForJob(t, id, 120_000)) as unknown as { status: string; error: { code: string; message: string } | null };
    const key = j.status === "failed" ? j.error!.code : j.status;
    codes.set(key, (codes.get(key) ?? 0) + 1);
    if (j.status === "failed") expect(CLEAR_CODES).toContain(j.error!.code);
    else expect(j.status).toBe("completed");
  }
  console.log(`fuzz: HTTP ${JSON.stringify(Object.fromEntries(statuses))}; jobs ${JSON.stringify(Object.fromEntries(codes))}`);
  expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
  expect((await fetch(t.url + "/readyz")).status).toBe(200);
}, 600_000);
