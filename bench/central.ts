// Issue 14 benchmark "central": POST /v1/jobs intake (requests/s, p99) on an api node whose
// records are in PostgreSQL vs one on SQLite, same run, same Redis, same request, passes
// alternating. Only this part of the benchmark list is built so far (the bucket and
// many-api-node figures need the S3 media store and the cluster lease, not on this branch yet).
import { loadavg } from "node:os";
import { startTestNode, type TestNode } from "../tests/helpers/server";
import { startTestRedis } from "../tests/helpers/redis";
import { runLoad, type LoadResult, type LoadSpec } from "./lib/loadgen";
import type { Result } from "./lib/result";

const REQUESTS = Number(process.env.BENCH_CENTRAL_REQUESTS ?? 3000);
const CONCURRENCY = 64;
const PASSES = 2;
// As bench/submit.ts: a probe of an IP-literal URL, so intake is measured, not a fetch or ffprobe.
const BODY = JSON.stringify({ type: "probe", source: { url: "http://93.184.215.14/bench/clip.mp4" } });

const spec = (t: TestNode, requests: number): LoadSpec => ({
  url: `${t.url}/v1/jobs`,
  method: "POST",
  headers: { "content-type": "application/json", authorization: `Bearer ${t.token}` },
  body: BODY,
  requests,
  concurrency: CONCURRENCY,
  maxSec: 80,
});

function addUp(rs: LoadResult[]) {
  const requests = rs.reduce((a, r) => a + r.requests, 0);
  const wallSec = rs.reduce((a, r) => a + r.wallSec, 0);
  return { requests, rps: requests / wallSec, p99: Math.max(...rs.map((r) => r.latencyMs.p99)) };
}

export async function run(): Promise<Result> {
  const load0 = loadavg()[0]!;
  const redis = await startTestRedis();
  // One Redis for both; each node its own BullMQ jobs (the queue names are shared, the ids unique).
  const lite = await startTestNode({ MEDIANODE_ROLES: "api" }, { redis, reconcileMs: 15_000, engine: "sqlite" });
  const pg = await startTestNode({ MEDIANODE_ROLES: "api" }, { redis, reconcileMs: 15_000, engine: "postgres" });
  try {
    await runLoad(spec(lite, 300));
    await runLoad(spec(pg, 300));
    const runs = { sqlite: [] as LoadResult[], postgres: [] as LoadResult[] };
    for (let i = 0; i < PASSES; i++) {
      const order: ["sqlite" | "postgres", TestNode][] = i % 2 === 0 ? [["sqlite", lite], ["postgres", pg]] : [["postgres", pg], ["sqlite", lite]];
      for (const [name, node] of order) runs[name].push(await runLoad(spec(node, REQUESTS)));
    }
    for (const r of [...runs.sqlite, ...runs.postgres]) {
      if ((r.statuses["202"] ?? 0) !== r.requests) throw new Error(`not every request got 202: ${JSON.stringify(r.statuses)} ${r.firstError ?? ""}`);
    }
    const s = addUp(runs.sqlite);
    const p = addUp(runs.postgres);
    return {
      name: "central",
      description:
        `POST /v1/jobs with JSON ${BODY}, ${PASSES}× ${REQUESTS} requests from ${CONCURRENCY} concurrent fetch loops per engine after 300 warm-up requests each; ` +
        `two api-only nodes on one private Redis, one with SQLite in a temp data dir, one with PostgreSQL (127.0.0.1:5432, a fresh database); passes alternate which goes first.`,
      metrics: [
        { label: "postgres requests/s", value: p.rps, unit: "req/s" },
        { label: "sqlite requests/s", value: s.rps, unit: "req/s" },
        { label: "postgres p99", value: p.p99, unit: "ms" },
        { label: "sqlite p99", value: s.p99, unit: "ms" },
      ],
      ratios: [
        { label: "postgres/sqlite requests/s", value: p.rps / s.rps },
        { label: "postgres/sqlite p99", value: p.p99 / s.p99 },
      ],
      notes: [
        ...runs.sqlite.map((r, i) => `pass ${i + 1}: sqlite ${r.rps.toFixed(0)} req/s p99 ${r.latencyMs.p99.toFixed(1)} ms; postgres ${runs.postgres[i]!.rps.toFixed(0)} req/s p99 ${runs.postgres[i]!.latencyMs.p99.toFixed(1)} ms`),
        `Load average at start ${load0.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)} (2 cores shared with the load generator, PostgreSQL and other sessions).`,
      ],
      details: runs,
    };
  } finally {
    await pg.stop();
    await lite.stop();
    await redis.stop();
  }
}
