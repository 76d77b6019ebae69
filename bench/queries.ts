// Issue 20 benchmark "queries": with 1,000,000 job rows in the node's SQLite (made in SQL,
// spread over 30 days, two tenants, 500 stores, 15 % failed), the latency through a real node
// (HTTP, a tenant's token) of a metadata-filtered page, a day's failures, a one-day stats
// query (by status and by hour), and export rows/s with the process's RSS; each set beside the
// same SQL run straight on bun:sqlite in the same run (the raw tool), as a ratio.
// Targets (issue): page p99 < 50 ms, stats p99 < 500 ms.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { createToken } from "../src/services/tokens";
import { listSql, SQLITE, statsSql } from "../src/store/job-query";
import { openDb } from "../src/store/sqlite/db";
import { sqliteRecords } from "../src/store/sqlite/index";
import { startTestNode } from "../tests/helpers/server";
import { summarize } from "./lib/pool";
import type { Result } from "./lib/result";

const ROWS = Number(process.env.BENCH_QUERY_ROWS ?? 1_000_000);
const DAY = 86_400_000;
const STORES = 500;

/** The rows, made by SQLite itself: ids sort by creation time as real ones do. */
export function fill(db: Database, t0: number): void {
  const span = 30 * DAY;
  db.run(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${ROWS - 1}),
    r AS (SELECT i, ${t0} + (i * ${span}) / ${ROWS} AS at, CASE WHEN i % 20 < 3 THEN 'failed' WHEN i % 20 = 3 THEN 'cancelled' ELSE 'completed' END AS st FROM n)
    INSERT INTO jobs (id, tenant, token_id, type, status, progress, priority, source, options, metadata, outputs, result, error, attempts, max_attempts, node, run, created_at, started_at, finished_at, updated_at)
    SELECT printf('j_%015d%07d', at, i), CASE WHEN i % 2 = 0 THEN 'shop-a' ELSE 'shop-b' END, NULL,
      CASE i % 3 WHEN 0 THEN 'image' WHEN 1 THEN 'video' ELSE 'audio' END, st, 100, 0,
      '{"kind":"url","url":"https://example.com/a.jpg"}', '{}',
      json_object('store', 'store-' || ((i * 7) % ${STORES}), 'uid', 'u-' || i),
      '[]', CASE WHEN st = 'completed' THEN json_object('durationSec', i % 60) END,
      CASE WHEN st = 'failed' THEN json_object('code', CASE i % 3 WHEN 0 THEN 'INVALID_INPUT' WHEN 1 THEN 'TIMEOUT' ELSE 'FFMPEG_FAILED' END, 'message', 'x')
           WHEN st = 'cancelled' THEN json_object('code', 'CANCELLED', 'message', 'x') END,
      1, 3, 'node-' || (i % 4), 1, at, at + 500, at + 500 + (i % 977) * 10, at + 500 + (i % 977) * 10
    FROM r`);
}

async function timed(n: number, fn: (i: number) => Promise<unknown>): Promise<ReturnType<typeof summarize>> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    ms.push(performance.now() - t);
  }
  return summarize(ms);
}

export async function run(): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), "medianode-bench-queries-"));
  const notes: string[] = [];
  try {
    const t0 = Date.now() - 30 * DAY;
    const setup = openDb(join(dir, "medianode.db"));
    await sqliteRecords(setup).migrate();
    let t = performance.now();
    fill(setup, t0);
    const fillSec = (performance.now() - t) / 1000;
    setup.run("ANALYZE");
    setup.close();
    // The node builds the metadata indexes at start (MEDIANODE_INDEXED_METADATA).
    t = performance.now();
    const node = await startTestNode({ MEDIANODE_INDEXED_METADATA: "store,uid" }, { dataDir: dir, engine: "sqlite" });
    const startSec = (performance.now() - t) / 1000;
    try {
      const token = (await createToken(await node.records(), { name: "bench", scopes: ["jobs:read"], tenant: "shop-a" }, "bench")).token;
      const get = async (path: string) => {
        const r = await fetch(node.url + path, { headers: { authorization: `Bearer ${token}` } });
        if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
        return await r.arrayBuffer();
      };
      const raw = new Database(join(dir, "medianode.db"), { readonly: true });
      const rawAll = (b: { sql: string; args: (string | number)[] }) => raw.query(b.sql).all(...b.args);
      const store = (i: number) => `store-${(i * 37) % STORES}`;
      const dayAt = (i: number) => t0 + (1 + (i % 28)) * DAY;
      const iso = (ms: number) => new Date(ms).toISOString();

      // Warm both paths once (statement caches, page cache).
      await get(`/v1/jobs?metadata.store=store-1&limit=50`);
      rawAll(listSql({ tenant: "shop-a", meta: [{ key: "store", value: "store-1" }], limit: 51 }, SQLITE));

      const page = await timed(300, (i) => get(`/v1/jobs?metadata.store=${store(i)}&limit=50`));
      const pageRaw = await timed(300, async (i) => rawAll(listSql({ tenant: "shop-a", meta: [{ key: "store", value: store(i) }], limit: 51 }, SQLITE)));
      const failures = await timed(100, (i) => get(`/v1/jobs?status=failed&createdAfter=${iso(dayAt(i))}&createdBefore=${iso(dayAt(i) + DAY)}&limit=50`));
      const twoKeys = await timed(100, (i) => get(`/v1/jobs?metadata.store=${store(i)}&metadata.uid=u-${i * 2}&limit=50`));
      const stats = await timed(60, (i) => get(`/v1/stats?groupBy=status&from=${iso(dayAt(i))}&to=${iso(dayAt(i) + DAY)}`));
      const statsRaw = await timed(60, async (i) => rawAll(statsSql({ tenant: "shop-a", createdAfter: dayAt(i), createdBefore: dayAt(i) + DAY }, "status", SQLITE)));
      const statsHour = await timed(30, (i) => get(`/v1/stats?groupBy=hour&from=${iso(dayAt(i))}&to=${iso(dayAt(i) + DAY)}`));
      const statsWeek = await timed(5, (i) => get(`/v1/stats?groupBy=errorCode&from=${iso(dayAt(i))}&to=${iso(dayAt(i) + 7 * DAY)}`));

      // Export: a tenant's last 5 days (≈ 83,000 rows), then its last 25 (≈ 417,000), as NDJSON,
      // RSS sampled meanwhile: flat memory means the larger one grows the process no more.
      const exportOnce = async (days: number) => {
        Bun.gc(true);
        const rss0 = process.memoryUsage().rss;
        let rssMax = rss0;
        const sampler = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage().rss)), 50);
        const t1 = performance.now();
        const res = await fetch(`${node.url}/v1/jobs/export?format=ndjson&createdAfter=${iso(t0 + (30 - days) * DAY)}`, { headers: { authorization: `Bearer ${token}` } });
        let rows = 0;
        let bytes = 0;
        for await (const chunk of res.body!) {
          bytes += chunk.length;
          for (const b of chunk) if (b === 10) rows++;
        }
        clearInterval(sampler);
        return { rows, bytes, sec: (performance.now() - t1) / 1000, growthMiB: (rssMax - rss0) / 2 ** 20 };
      };
      const small = await exportOnce(5);
      const big = await exportOnce(25);
      const { rows, bytes, sec: exportSec } = small;
      // The raw tool: the same rows read straight from SQLite and turned into JSON lines.
      t = performance.now();
      let rawRows = 0;
      for (const r of raw.query("SELECT * FROM jobs WHERE tenant = 'shop-a' AND created_at >= ? ORDER BY id DESC").iterate(t0 + 25 * DAY)) {
        JSON.stringify(r);
        rawRows++;
      }
      const rawExportSec = (performance.now() - t) / 1000;
      raw.close();
      if (rawRows !== rows) notes.push(`export rows ${rows} vs raw ${rawRows}: they differ`);
      notes.push(`${ROWS.toLocaleString("en")} rows made in SQL in ${fillSec.toFixed(1)} s; the node's first start with MEDIANODE_INDEXED_METADATA=store,uid (building both indexes) took ${startSec.toFixed(1)} s`);
      notes.push("bun:sqlite is synchronous: a stats query holds the api node's event loop for its duration (the page queries are a few ms)");
      return {
        name: "queries",
        description: `${ROWS.toLocaleString("en")} job rows in SQLite; a tenant's queries through a real node over HTTP vs the same SQL on bun:sqlite directly`,
        metrics: [
          { label: "metadata page p50", value: page.p50, unit: "ms" },
          { label: "metadata page p99", value: page.p99, unit: "ms" },
          { label: "metadata page raw SQL p99", value: pageRaw.p99, unit: "ms" },
          { label: "two-key metadata page p99", value: twoKeys.p99, unit: "ms" },
          { label: "a day's failures page p99", value: failures.p99, unit: "ms" },
          { label: "one-day stats by status p50", value: stats.p50, unit: "ms" },
          { label: "one-day stats by status p99", value: stats.p99, unit: "ms" },
          { label: "one-day stats raw SQL p99", value: statsRaw.p99, unit: "ms" },
          { label: "one-day stats by hour p99", value: statsHour.p99, unit: "ms" },
          { label: "seven-day stats by error code p99", value: statsWeek.p99, unit: "ms" },
          { label: "export rows/s (NDJSON over HTTP)", value: rows / exportSec, unit: "rows/s" },
          { label: "export raw rows/s (SQLite iterate + JSON)", value: rawRows / rawExportSec, unit: "rows/s" },
          { label: "export rows", value: rows, unit: "rows" },
          { label: "export MiB", value: bytes / 2 ** 20, unit: "MiB" },
          { label: "RSS growth exporting 5 days", value: small.growthMiB, unit: "MiB" },
          { label: "export rows (25 days)", value: big.rows, unit: "rows" },
          { label: "export MiB (25 days)", value: big.bytes / 2 ** 20, unit: "MiB" },
          { label: "RSS growth exporting 25 days", value: big.growthMiB, unit: "MiB" },
        ],
        ratios: [
          { label: "metadata page p99 (ms)", value: page.p99, target: { op: "<=", value: 50 } },
          { label: "one-day stats p99 (ms)", value: stats.p99, target: { op: "<=", value: 500 } },
          { label: "page p50 node/raw SQL", value: page.p50 / pageRaw.p50 },
          { label: "stats p50 node/raw SQL", value: stats.p50 / statsRaw.p50 },
          { label: "export rows/s node/raw", value: rows / exportSec / (rawRows / rawExportSec) },
        ],
        notes,
        details: { page, pageRaw, twoKeys, failures, stats, statsRaw, statsHour, statsWeek, exportSec, rawExportSec, small, big },
      };
    } finally {
      await node.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
