// Job queries on both engines (issue #20): every filter, every grouping and paging checked
// against answers computed here from the generated jobs; the metadata expression indexes are
// really used (the query plan names them).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { newJobId } from "../../src/ids";
import type { JobStatus, JobType } from "../../src/jobs/schema";
import { listSql, metaIndexSql, POSTGRES, SQLITE, statsRows, statsSql, type JobFilter, type StatsGroupBy } from "../../src/store/job-query";
import type { Records } from "../../src/store/records";
import { openDb } from "../../src/store/sqlite/db";
import { ENGINES } from "../helpers/postgres";
import { openTestRecords, type TestRecords } from "../helpers/records";

interface Spec {
  id: string;
  tenant: string;
  type: JobType;
  status: JobStatus;
  node: string | null;
  errorCode: string | null;
  createdAt: number;
  durationMs: number | null;
  mediaSec: number | null;
  metadata: unknown;
}

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 20, 0, 0, 0);
const TYPES: JobType[] = ["image", "video", "audio"];
const CODES = ["INVALID_INPUT", "TIMEOUT", "FFMPEG_FAILED"];

// A deterministic mix: two tenants, three days, metadata of several shapes (none, numbers, booleans, nested, arrays).
function generate(n: number): Spec[] {
  const out: Spec[] = [];
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < n; i++) {
    const createdAt = T0 + Math.floor(rnd() * 3 * DAY);
    const roll = rnd();
    const status: JobStatus = roll < 0.55 ? "completed" : roll < 0.8 ? "failed" : roll < 0.9 ? "cancelled" : roll < 0.95 ? "active" : "queued";
    const shape = i % 7;
    const metadata = shape === 0 ? undefined : shape === 1 ? [1, 2] : shape === 2 ? { store: `store-${i % 4}`, uid: i, nested: { store: "store-0" } } : { store: `store-${i % 4}`, uid: i, paid: i % 2 === 0 };
    out.push({
      id: "",
      tenant: i % 3 === 0 ? "b" : "a",
      type: TYPES[i % 3]!,
      status,
      node: status === "queued" || (status === "cancelled" && i % 2 === 0) ? null : `node-${i % 2}`,
      errorCode: status === "failed" ? CODES[i % 3]! : null,
      createdAt,
      durationMs: status === "completed" ? 100 + Math.floor(rnd() * 5000) : null,
      mediaSec: status === "completed" && i % 3 !== 0 ? Math.round(rnd() * 600) / 10 : null,
      metadata,
    });
  }
  // Ids in creation order, as the api node makes them (newJobId sorts by time).
  out.sort((a, b) => a.createdAt - b.createdAt);
  for (const s of out) s.id = newJobId();
  return out;
}

const JOBS = generate(400);

async function load(r: Records): Promise<void> {
  for (const s of JOBS) {
    const [ins] = await r.jobs.insertMany([{ id: s.id, tenant: s.tenant, tokenId: null, type: s.type, priority: 0, source: { kind: "url", url: "https://example.com/x" }, options: {}, metadata: s.metadata, webhook: null, idempotencyKey: null, maxAttempts: 3, now: s.createdAt }]);
    if (!ins || "error" in ins) throw new Error("insert failed");
    const started = s.createdAt + 1000;
    if (s.node) await r.jobs.markActive(s.id, 1, 1, s.node, started);
    if (s.status === "completed" || s.status === "failed" || s.status === "cancelled")
      await r.jobs.finish(s.id, 1, {
        status: s.status,
        at: s.durationMs !== null ? started + s.durationMs : started + 10,
        result: s.mediaSec !== null ? { durationSec: s.mediaSec } : s.status === "completed" ? {} : null,
        error: s.errorCode ? { code: s.errorCode as "TIMEOUT", message: "x" } : s.status === "cancelled" ? { code: "CANCELLED", message: "cancelled" } : null,
      });
  }
}

const meta = (s: Spec, k: string): string | null => {
  const m = s.metadata;
  if (!m || typeof m !== "object" || Array.isArray(m)) return null;
  const v = (m as Record<string, unknown>)[k];
  return v === undefined || v === null || typeof v === "object" ? null : String(v);
};

function matches(s: Spec, f: JobFilter): boolean {
  return (
    (f.tenant === undefined || s.tenant === f.tenant) &&
    (f.status === undefined || s.status === f.status) &&
    (f.type === undefined || s.type === f.type) &&
    (f.node === undefined || s.node === f.node) &&
    (f.errorCode === undefined || (s.errorCode ?? (s.status === "cancelled" ? "CANCELLED" : null)) === f.errorCode) &&
    (f.createdAfter === undefined || s.createdAt >= f.createdAfter) &&
    (f.createdBefore === undefined || s.createdAt < f.createdBefore) &&
    (f.meta ?? []).every((m) => meta(s, m.key) === m.value)
  );
}

const nearestRank = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.ceil(p * xs.length) - 1]! : null);

function expectedStats(f: JobFilter, groupBy: StatsGroupBy) {
  const keyOf = (s: Spec): string | null => {
    if (groupBy === "type") return s.type;
    if (groupBy === "status") return s.status;
    if (groupBy === "day") return new Date(s.createdAt).toISOString().slice(0, 10);
    if (groupBy === "hour") return new Date(s.createdAt).toISOString().slice(0, 13) + ":00Z";
    if (groupBy === "errorCode") return s.errorCode ?? (s.status === "cancelled" ? "CANCELLED" : null);
    return meta(s, groupBy.slice("metadata.".length));
  };
  const groups = new Map<string | null, Spec[]>();
  for (const s of JOBS.filter((s) => matches(s, f))) groups.set(keyOf(s), [...(groups.get(keyOf(s)) ?? []), s]);
  return [...groups.entries()]
    .map(([key, list]) => {
      const done = list.filter((s) => s.status === "completed");
      const d = done.map((s) => s.durationMs!);
      return {
        key,
        jobs: list.length,
        completed: done.length,
        failed: list.filter((s) => s.status === "failed").length,
        cancelled: list.filter((s) => s.status === "cancelled").length,
        mediaSec: Math.round(done.reduce((a, s) => a + (s.mediaSec ?? 0), 0) * 1000) / 1000,
        p50Ms: nearestRank(d, 0.5),
        p95Ms: nearestRank(d, 0.95),
      };
    })
    .sort((a, b) => (a.key === null ? -1 : b.key === null ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

const FILTERS: [string, JobFilter][] = [
  ["everything", {}],
  ["a tenant", { tenant: "a" }],
  ["metadata store", { meta: [{ key: "store", value: "store-2" }] }],
  ["two metadata keys ANDed, one a number", { tenant: "a", meta: [{ key: "store", value: "store-1" }, { key: "uid", value: "13" }] }],
  ["a boolean", { meta: [{ key: "paid", value: "true" }] }],
  ["a key that no job has", { meta: [{ key: "missing", value: "x" }] }],
  ["a day's failures", { status: "failed", createdAfter: T0 + DAY, createdBefore: T0 + 2 * DAY }],
  ["node and type", { node: "node-1", type: "video" }],
  ["error code", { errorCode: "TIMEOUT", tenant: "b" }],
  ["cancelled by code", { errorCode: "CANCELLED" }],
];

describe.each(ENGINES)("job queries on %s", (engine) => {
  let r: Records;
  let store: TestRecords;
  beforeAll(async () => {
    store = await openTestRecords(engine);
    r = store.records;
    await r.jobs.indexMetadata(["store", "uid"]);
    await load(r);
  }, 120_000);
  afterAll(async () => {
    await store.close();
  });

  test.each(FILTERS)("list, %s: every page together is exactly the matching jobs, newest first", async (_, f) => {
    const want = JOBS.filter((s) => matches(s, f)).map((s) => s.id).reverse();
    const got: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const rows = await r.jobs.list({ ...f, ...(cursor ? { cursor } : {}), limit: 37 });
      got.push(...rows.map((x) => x.id));
      if (rows.length < 37) break;
      cursor = rows.at(-1)!.id;
    }
    expect(got).toEqual(want);
  });

  test("the filters are really selective (the checks above compare more than empty lists)", () => {
    const sizes = FILTERS.map(([, f]) => JOBS.filter((s) => matches(s, f)).length);
    expect(sizes.filter((n) => n > 0 && n < JOBS.length).length).toBeGreaterThanOrEqual(7);
    expect(sizes[5]).toBe(0);
  });

  test("paging stays stable while jobs are inserted: a new job never shows up on a later page", async () => {
    const first = await r.jobs.list({ tenant: "a", limit: 10 });
    await r.jobs.insertMany([{ id: newJobId(), tenant: "a", tokenId: null, type: "image", priority: 0, source: { kind: "url", url: "https://example.com/y" }, options: {}, metadata: { store: "late" }, webhook: null, idempotencyKey: "late", maxAttempts: 3, now: T0 + 5 * DAY }]);
    const second = await r.jobs.list({ tenant: "a", cursor: first.at(-1)!.id, limit: 10 });
    const want = JOBS.filter((s) => s.tenant === "a").map((s) => s.id).reverse();
    expect([...first, ...second].map((x) => x.id)).toEqual(want.slice(0, 20));
  });

  const GROUPS: StatsGroupBy[] = ["type", "status", "day", "hour", "errorCode", "metadata.store", "metadata.paid"];
  test.each(GROUPS)("stats by %s: counts, media seconds and nearest-rank p50/p95, as computed here", async (g) => {
    const f: JobFilter = { createdAfter: T0, createdBefore: T0 + 3 * DAY };
    expect(await r.jobs.stats(f, g)).toEqual(expectedStats(f, g));
  });

  test("stats with filters: one tenant, one store, one day", async () => {
    const f: JobFilter = { tenant: "a", meta: [{ key: "store", value: "store-3" }], createdAfter: T0 + DAY, createdBefore: T0 + 2 * DAY };
    const got = await r.jobs.stats(f, "status");
    expect(got).toEqual(expectedStats(f, "status"));
    expect(got.reduce((a, g) => a + g.jobs, 0)).toBeGreaterThan(3);
  });

  test("the metadata and error-code filters use their indexes", async () => {
    const plan = async (b: { sql: string; args: (string | number)[] }): Promise<string> => {
      if (engine === "sqlite") {
        const db = openDb(store.location);
        try {
          return db.query<{ detail: string }, (string | number)[]>(`EXPLAIN QUERY PLAN ${b.sql}`).all(...b.args).map((x) => x.detail).join("\n");
        } finally {
          db.close();
        }
      }
      const sql = new SQL(store.location, { max: 1 });
      try {
        // 400 rows: the planner would rather scan; forbid it to see which index the query can use.
        return await sql.begin(async (tx) => {
          await tx`SET LOCAL enable_seqscan = off`;
          return ((await tx.unsafe(`EXPLAIN ${b.sql}`, b.args)) as { "QUERY PLAN": string }[]).map((x) => x["QUERY PLAN"]).join("\n");
        });
      } finally {
        await sql.close();
      }
    };
    const d = engine === "sqlite" ? SQLITE : POSTGRES;
    expect(await plan(listSql({ meta: [{ key: "store", value: "store-1" }], limit: 50 }, d))).toContain("jobs_meta_store");
    expect(await plan(listSql({ meta: [{ key: "uid", value: "12" }], limit: 50 }, d))).toContain("jobs_meta_uid");
    expect(await plan(listSql({ errorCode: "TIMEOUT", limit: 50 }, d))).toContain("jobs_error_code_id");
    // A time range reads an index on created_at (which of the two is the planner's choice), not the whole table.
    expect(await plan(statsSql({ tenant: "a", createdAfter: T0, createdBefore: T0 + DAY }, "type", d))).toMatch(/jobs_(tenant_)?created/);
  });

  test("indexMetadata is idempotent (a second start, or a second api node, changes nothing)", async () => {
    await r.jobs.indexMetadata(["store", "uid"]);
    await r.jobs.indexMetadata(["store"]);
  });
});

test("metaIndexSql and the filters refuse a key that is not safe to inline", () => {
  expect(() => metaIndexSql("a'b", SQLITE)).toThrow();
  expect(() => listSql({ meta: [{ key: "x) OR 1=1 --", value: "" }], limit: 1 }, POSTGRES)).toThrow();
  expect(() => statsSql({}, "metadata.a b" as StatsGroupBy, SQLITE)).toThrow();
});

test("statsRows: PostgreSQL's numeric strings become numbers; nulls stay null", () => {
  expect(statsRows([{ k: 5, jobs: "3", completed: "2", failed: null, cancelled: "0", media_sec: "1.5", p50: "120", p95: null }])).toEqual([{ key: "5", jobs: 3, completed: 2, failed: 0, cancelled: 0, mediaSec: 1.5, p50Ms: 120, p95Ms: null }]);
});
