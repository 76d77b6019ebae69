// Issue 14 benchmark "central": POST /v1/jobs intake (requests/s, p99) on an api node whose
// records are in PostgreSQL vs one on SQLite, and on two api nodes sharing that PostgreSQL and
// Redis (requests alternating between them) vs one; same run, same request, passes alternating.
// The bucket figures (video wall time, bytes across api nodes) are the S3 media store's.
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

const spec = (ts: TestNode[], requests: number): LoadSpec => ({
  url: `${ts[0]!.url}/v1/jobs`,
  urls: ts.map((t) => `${t.url}/v1/jobs`),
  method: "POST",
  headers: { "content-type": "application/json", authorization: `Bearer ${ts[0]!.token}` },
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
  // A Redis per store: an api node on SQLite must have its Redis to itself (README, More nodes).
  const liteRedis = await startTestRedis();
  const redis = await startTestRedis();
  const lite = await startTestNode({ MEDIANODE_ROLES: "api" }, { redis: liteRedis, reconcileMs: 15_000, engine: "sqlite" });
  const pg = await startTestNode({ MEDIANODE_ROLES: "api" }, { redis, reconcileMs: 15_000, engine: "postgres" });
  // The second api node: the same database, Redis and data dir (so the same admin token).
  const pg2 = await startTestNode({ MEDIANODE_ROLES: "api", DATABASE_URL: pg.config.databaseUrl! }, { redis, reconcileMs: 15_000, dataDir: pg.dataDir });
  try {
    await runLoad(spec([lite], 300));
    await runLoad(spec([pg, pg2], 300));
    const setups = { sqlite: [lite], postgres: [pg], two: [pg, pg2] };
    const runs = { sqlite: [] as LoadResult[], postgres: [] as LoadResult[], two: [] as LoadResult[] };
    const names = Object.keys(setups) as (keyof typeof setups)[];
    for (let i = 0; i < PASSES; i++) {
      for (const name of i % 2 === 0 ? names : [...names].reverse()) runs[name].push(await runLoad(spec(setups[name], REQUESTS)));
    }
    for (const r of [...runs.sqlite, ...runs.postgres, ...runs.two]) {
      if ((r.statuses["202"] ?? 0) !== r.requests) throw new Error(`not every request got 202: ${JSON.stringify(r.statuses)} ${r.firstError ?? ""}`);
    }
    const s = addUp(runs.sqlite);
    const p = addUp(runs.postgres);
    const two = addUp(runs.two);
    return {
      name: "central",
      description:
        `POST /v1/jobs with JSON ${BODY}, ${PASSES}× ${REQUESTS} requests from ${CONCURRENCY} concurrent fetch loops per engine after 300 warm-up requests each; ` +
        `api-only nodes: one with SQLite in a temp data dir (its own Redis), one with PostgreSQL (127.0.0.1:5432, a fresh database), and a second on that database and Redis, ` +
        `the two-node passes alternating requests between them; passes alternate the order. All on one 2-core machine with the load generator and PostgreSQL.`,
      metrics: [
        { label: "postgres requests/s", value: p.rps, unit: "req/s" },
        { label: "sqlite requests/s", value: s.rps, unit: "req/s" },
        { label: "postgres p99", value: p.p99, unit: "ms" },
        { label: "sqlite p99", value: s.p99, unit: "ms" },
        { label: "two api nodes requests/s", value: two.rps, unit: "req/s" },
        { label: "two api nodes p99", value: two.p99, unit: "ms" },
      ],
      ratios: [
        { label: "postgres/sqlite requests/s", value: p.rps / s.rps },
        { label: "postgres/sqlite p99", value: p.p99 / s.p99 },
        { label: "two/one api nodes requests/s", value: two.rps / p.rps },
        { label: "two/one api nodes p99", value: two.p99 / p.p99 },
      ],
      notes: [
        ...runs.sqlite.map((_, i) => `pass ${i + 1}: ` + names.map((n) => `${n} ${runs[n][i]!.rps.toFixed(0)} req/s p99 ${runs[n][i]!.latencyMs.p99.toFixed(1)} ms`).join("; ")),
        `Load average at start ${load0.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)} (2 cores shared with the load generator, PostgreSQL and other sessions).`,
      ],
      details: runs,
    };
  } finally {
    await pg2.stop();
    await pg.stop();
    await lite.stop();
    await redis.stop();
    await liteRedis.stop();
  }
}
