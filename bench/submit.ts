// Issue 2 benchmark "submit": POST /v1/jobs intake (requests/s, p99) at 64 connections vs a
// bare Bun.serve handler that only parses the JSON and calls BullMQ queue.add on the same
// Redis. The node runs the api role only, so jobs just queue.
import { loadavg } from "node:os";
import { Queue } from "bullmq";
import IORedis from "ioredis";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newJobId } from "../src/ids";
import { openDb } from "../src/store/db";
import { sqliteRecords } from "../src/store/sqlite/index";
import { migrate } from "../src/store/migrate";
import { bullJobId, jobOptions } from "../src/queue/queues";
import { startTestNode } from "../tests/helpers/server";
import { runLoad, type LoadResult, type LoadSpec } from "./lib/loadgen";
import type { Result } from "./lib/result";

const REQUESTS = Number(process.env.BENCH_SUBMIT_REQUESTS ?? 5000);
const CONCURRENCY = 64;
const PASSES = 2;
// The cheapest honest request: a probe of a URL source. An IP-literal public address runs
// the SSRF check (parse + range test) without a DNS lookup, and with no worker role nothing
// ever fetches it. A {path} source would run ffprobe (or a sharp header read) per request,
// and a hostname would add a DNS lookup: both measure something other than intake.
const BODY = JSON.stringify({ type: "probe", source: { url: "http://93.184.215.14/bench/clip.mp4" } });

function startBare(redisUrl: string) {
  const conn = new IORedis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue("bench-bare", { connection: conn, prefix: "benchbare" });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const body = (await req.json()) as { type: string; source: unknown };
      const id = newJobId();
      // Same payload shape and job options (id, priority, attempts, backoff) as the node's enqueue.
      await queue.add(body.type, { id, run: 1, type: body.type, tenant: "admin", source: body.source, options: {} }, jobOptions(bullJobId(id, 1), 0, 3));
      return Response.json({ id, status: "queued" }, { status: 202 });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/v1/jobs`,
    async stop() {
      server.stop(true);
      await queue.close();
      conn.disconnect();
    },
  };
}

/** µs per call of the record-store calls one submit makes (each insert its own transaction), on a temp db. */
async function sqliteCosts(n = 3000) {
  const dir = mkdtempSync(join(tmpdir(), "medianode-bench-sqlite-"));
  const db = openDb(join(dir, "medianode.db"));
  try {
    migrate(db);
    const ids = Array.from({ length: n }, () => newJobId());
    const jobs = sqliteRecords(db).jobs;
    const time = async (fn: () => Promise<void>) => {
      const t0 = performance.now();
      await fn();
      return ((performance.now() - t0) * 1000) / n;
    };
    const insert = await time(async () => {
      for (const id of ids) await jobs.insertMany([{ id, tenant: "admin", tokenId: null, type: "probe", priority: 0, source: { kind: "url", url: "http://93.184.215.14/x.mp4" }, options: {}, metadata: undefined, webhook: null, idempotencyKey: null, maxAttempts: 3, now: Date.now() }]);
    });
    const read = await time(async () => {
      for (const id of ids) await jobs.get(id);
    });
    return { insertJobUs: insert, getJobUs: read };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function addUp(rs: LoadResult[]) {
  const requests = rs.reduce((a, r) => a + r.requests, 0);
  const wallSec = rs.reduce((a, r) => a + r.wallSec, 0);
  return { requests, wallSec, rps: requests / wallSec, p99: Math.max(...rs.map((r) => r.latencyMs.p99)), p50: rs.map((r) => r.latencyMs.p50).sort((a, b) => a - b)[0]! };
}

export async function run(): Promise<Result> {
  const load0 = loadavg()[0]!;
  // serve's own reconcile period (the tests' 1 s would reconcile 10,000 open rows every second).
  const node = await startTestNode({ MEDIANODE_ROLES: "api", MEDIANODE_ATTEMPTS: "3" }, { reconcileMs: 15_000 });
  const bare = startBare(node.redis.url);
  try {
    const spec = (url: string, auth: boolean, requests: number): LoadSpec => ({
      url,
      method: "POST",
      headers: { "content-type": "application/json", ...(auth ? { authorization: `Bearer ${node.token}` } : {}) },
      body: BODY,
      requests,
      concurrency: CONCURRENCY,
      maxSec: 80,
    });
    const nodeUrl = `${node.url}/v1/jobs`;
    // Warm-up: connections, JIT, SQLite pages, Redis scripts.
    await runLoad(spec(bare.url, false, 500));
    await runLoad(spec(nodeUrl, true, 500));
    const bareRuns: LoadResult[] = [];
    const nodeRuns: LoadResult[] = [];
    for (let i = 0; i < PASSES; i++) {
      // Alternate which side goes first, so drifting load on the machine biases neither.
      if (i % 2 === 0) {
        bareRuns.push(await runLoad(spec(bare.url, false, REQUESTS)));
        nodeRuns.push(await runLoad(spec(nodeUrl, true, REQUESTS)));
      } else {
        nodeRuns.push(await runLoad(spec(nodeUrl, true, REQUESTS)));
        bareRuns.push(await runLoad(spec(bare.url, false, REQUESTS)));
      }
    }
    for (const r of [...bareRuns, ...nodeRuns]) {
      if ((r.statuses["202"] ?? 0) !== r.requests) throw new Error(`not every request got 202: ${JSON.stringify(r.statuses)} ${r.firstError ?? ""}`);
    }
    const b = addUp(bareRuns);
    const n = addUp(nodeRuns);
    const sql = await sqliteCosts();
    const queued = (await (await node.api("/v1/jobs?status=queued&type=probe&limit=1")).json()) as { items: unknown[] };
    return {
      name: "submit",
      description:
        `POST /v1/jobs with JSON ${BODY} (admin Bearer token), ${PASSES}× ${REQUESTS} requests from ${CONCURRENCY} concurrent fetch loops in a separate Bun process, after 500 warm-up requests. ` +
        `Node: startTestNode with MEDIANODE_ROLES=api and serve's 15 s reconcile (auth, JSON + TypeBox checks, SSRF check of an IP literal, SQLite insert and queue.add, both group-committed across the requests in flight (one transaction and one addBulk per flush), job view). ` +
        `Bare: Bun.serve in the same process as the node, req.json() + BullMQ queue.add with the same job options on the same private Redis. Passes alternate.`,
      metrics: [
        { label: "node requests/s", value: n.rps, unit: "req/s" },
        { label: "bare queue.add requests/s", value: b.rps, unit: "req/s" },
        { label: "node p99", value: n.p99, unit: "ms" },
        { label: "bare p99", value: b.p99, unit: "ms" },
        { label: "node p50", value: n.p50, unit: "ms" },
        { label: "bare p50", value: b.p50, unit: "ms" },
      ],
      ratios: [
        { label: "node/bare requests/s", value: n.rps / b.rps, target: { op: ">=", value: 0.5 } },
        { label: "node/bare p99", value: n.p99 / b.p99 },
      ],
      notes: [
        ...bareRuns.map((r, i) => `pass ${i + 1}: bare ${r.rps.toFixed(0)} req/s p99 ${r.latencyMs.p99.toFixed(1)} ms; node ${nodeRuns[i]!.rps.toFixed(0)} req/s p99 ${nodeRuns[i]!.latencyMs.p99.toFixed(1)} ms`),
        `Every request answered 202 (${n.requests + 500} node jobs queued; the list shows ${queued.items.length ? "queued jobs" : "none?"}).`,
        `SQLite statements of one submit, µs per call on a temp db (each its own commit): insertJob ${sql.insertJobUs.toFixed(0)}, getJob ${sql.getJobUs.toFixed(0)} (the node commits its inserts in groups, see above).`,
        `Load average at start ${load0.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)} (2 cores shared with the load generator and other sessions).`,
      ],
      details: { bare: bareRuns, node: nodeRuns, sqlite: sql },
    };
  } finally {
    await bare.stop();
    await node.stop();
  }
}
