// Not a benchmark: profiles the submit path. `bun bench/tools/profile-submit.ts` starts an
// api-only node in its own process under `bun --cpu-prof`, drives 5000 JSON submits at 64
// connections, and prints the functions with the most self and inclusive time.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestRedis } from "../../tests/helpers/redis";
import { runLoad } from "../lib/loadgen";
import { spawnNode } from "../lib/node-process";

interface ProfNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfNode[]; samples: number[]; timeDeltas: number[] }

const dir = mkdtempSync(join(tmpdir(), "medianode-prof-"));
const redis = await startTestRedis();
const node = await spawnNode({ REDIS_URL: redis.url, MEDIANODE_DATA_DIR: join(dir, "data"), MEDIANODE_ROLES: "api", MEDIANODE_RATE_LIMIT_PER_TOKEN: "0", MEDIANODE_RATE_LIMIT_PER_IP: "0" }, ["--cpu-prof", `--cpu-prof-dir=${join(dir, "prof")}`]);
const body = JSON.stringify({ type: "probe", source: { url: "http://93.184.215.14/bench/clip.mp4" } });
for (const requests of [500, 5000]) {
  const r = await runLoad({ url: `${node.url}/v1/jobs`, method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${node.token}` }, body, requests, concurrency: 64, maxSec: 60 });
  console.log(`${requests} requests: ${r.rps.toFixed(0)} req/s, p99 ${r.latencyMs.p99.toFixed(1)} ms`);
}
await node.stop();
await redis.stop();

const file = readdirSync(join(dir, "prof")).find((f) => f.endsWith(".cpuprofile"))!;
const p = JSON.parse(readFileSync(join(dir, "prof", file), "utf8")) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const key = (n: ProfNode) => `${n.callFrame.functionName || "(anon)"} ${n.callFrame.url.split("/").slice(-2).join("/")}:${n.callFrame.lineNumber}`;
const self = new Map<string, number>();
const incl = new Map<string, number>();
let total = 0;
p.samples.forEach((id, i) => {
  const dt = p.timeDeltas[i] ?? 0;
  total += dt;
  const n = byId.get(id)!;
  self.set(key(n), (self.get(key(n)) ?? 0) + dt);
  const seen = new Set<string>();
  for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
    const k = key(byId.get(x)!);
    if (!seen.has(k)) incl.set(k, (incl.get(k) ?? 0) + dt), seen.add(k);
  }
});
const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${(v / 1000).toFixed(0).padStart(7)} ms ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`).join("\n");
console.log(`\nself time (total ${(total / 1000).toFixed(0)} ms)\n${top(self, 20)}\n\ninclusive\n${top(incl, 30)}`);
rmSync(dir, { recursive: true, force: true });
process.exit(0);
