// The SQL of job queries (SPEC §3: GET /v1/jobs filters, /v1/stats, /v1/jobs/export), built
// once for both engines: the filters and groupings are the same, only the JSON and date
// expressions and the placeholders differ (a Dialect). Pure: filters in, SQL text and
// arguments out; store/sqlite/jobs.ts and store/postgres/jobs.ts run it.
import { METADATA_KEY_PATTERN } from "../config/schema";
import type { JobStatus, JobType } from "../jobs/schema";

export const META_KEY_PATTERN = new RegExp(METADATA_KEY_PATTERN);
export const META_KEYS_MAX = 8;

export interface MetaMatch {
  key: string;
  /** Compared with the JSON scalar's text (a number 42 matches "42"). */
  value: string;
}

/** What every job query filters on; all ANDed. */
export interface JobFilter {
  /** Undefined: every tenant's (admin). */
  tenant?: string;
  status?: JobStatus;
  type?: JobType;
  node?: string;
  errorCode?: string;
  /** createdAt ≥ this (ms). */
  createdAfter?: number;
  /** createdAt < this (ms). */
  createdBefore?: number;
  meta?: readonly MetaMatch[];
}

export const STATS_GROUPS = ["type", "status", "day", "hour", "errorCode"] as const;
export type StatsGroupBy = (typeof STATS_GROUPS)[number] | `metadata.${string}`;

export interface StatsRow {
  key: string | null;
  jobs: number;
  completed: number;
  failed: number;
  cancelled: number;
  mediaSec: number;
  /** Nearest-rank percentiles of finishedAt − startedAt over the group's completed jobs (ms). */
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface Dialect {
  engine: "sqlite" | "postgres";
  /** The n-th placeholder (1-based). */
  param(n: number): string;
  /** A top-level key of a JSON text column, as SQL (text or scalar). */
  json(column: string, key: string): string;
  /** A top-level key's value as text when it is a scalar (true/false, numbers as JSON writes them), else NULL: a group key. */
  scalarText(column: string, key: string): string;
  /** createdAt (ms) truncated to a UTC day or hour, as text. */
  bucket(unit: "day" | "hour"): string;
  /** ORDER BY of group keys: NULL first, then byte order (the same on both engines). */
  orderKeys(expr: string): string;
}

export const SQLITE: Dialect = {
  engine: "sqlite",
  param: () => "?",
  json: (column, key) => `json_extract(${column}, '$."${key}"')`,
  scalarText: (column, key) =>
    `CASE json_type(${column}, '$."${key}"') WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'object' THEN NULL WHEN 'array' THEN NULL ELSE CAST(json_extract(${column}, '$."${key}"') AS TEXT) END`,
  bucket: (unit) => (unit === "day" ? "strftime('%Y-%m-%d', created_at / 1000, 'unixepoch')" : "strftime('%Y-%m-%dT%H:00Z', created_at / 1000, 'unixepoch')"),
  orderKeys: (expr) => `${expr} NULLS FIRST`,
};

export const POSTGRES: Dialect = {
  engine: "postgres",
  param: (n) => `$${n}`,
  json: (column, key) => `((${column}::jsonb) ->> '${key}')`,
  scalarText: (column, key) => `(CASE WHEN jsonb_typeof((${column}::jsonb) -> '${key}') IN ('object', 'array') THEN NULL ELSE (${column}::jsonb) ->> '${key}' END)`,
  bucket: (unit) => `to_char(to_timestamp(created_at / 1000.0) AT TIME ZONE 'UTC', '${unit === "day" ? "YYYY-MM-DD" : 'YYYY-MM-DD"T"HH24":00Z"'}')`,
  orderKeys: (expr) => `${expr} COLLATE "C" NULLS FIRST`,
};

/** The expression index of one metadata key (created at start for MEDIANODE_INDEXED_METADATA). */
export function metaIndexSql(key: string, d: Dialect): string {
  if (!META_KEY_PATTERN.test(key)) throw new Error(`not a metadata key: ${key}`);
  return `CREATE INDEX IF NOT EXISTS jobs_meta_${key.replaceAll("-", "_")} ON jobs (${d.json("metadata", key)}, id) WHERE metadata IS NOT NULL`;
}

export interface Built {
  sql: string;
  args: (string | number)[];
}

class Args {
  readonly list: (string | number)[] = [];
  constructor(private readonly d: Dialect) {}
  add(v: string | number): string {
    this.list.push(v);
    return this.d.param(this.list.length);
  }
}

function metaCondition(m: MetaMatch, d: Dialect, a: Args): string {
  if (!META_KEY_PATTERN.test(m.key)) throw new Error(`not a metadata key: ${m.key}`);
  const expr = d.json("metadata", m.key);
  // PostgreSQL's ->> gives every scalar as text. SQLite's json_extract keeps numbers numbers
  // (and true/false as 1/0): match the text and, when it reads as one, the number.
  if (d.engine === "postgres") return `${expr} = ${a.add(m.value)}`;
  const n = Number(m.value);
  const alt = m.value === "true" ? 1 : m.value === "false" ? 0 : m.value.trim() !== "" && Number.isFinite(n) ? n : null;
  return alt === null ? `${expr} = ${a.add(m.value)}` : `${expr} IN (${a.add(m.value)}, ${a.add(alt)})`;
}

/** `extra` adds its own conditions last: SQLite's `?` placeholders bind in the order they appear. */
function where(f: JobFilter, d: Dialect, a: Args, extra: (a: Args) => string[] = () => []): string {
  const c: string[] = [];
  if (f.tenant !== undefined) c.push(`tenant = ${a.add(f.tenant)}`);
  if (f.status !== undefined) c.push(`status = ${a.add(f.status)}`);
  if (f.type !== undefined) c.push(`type = ${a.add(f.type)}`);
  if (f.node !== undefined) c.push(`node = ${a.add(f.node)}`);
  // Same expression as the jobs_error_code_id index (migration 0010).
  if (f.errorCode !== undefined) c.push(`error IS NOT NULL AND ${d.json("error", "code")} = ${a.add(f.errorCode)}`);
  if (f.createdAfter !== undefined) c.push(`created_at >= ${a.add(f.createdAfter)}`);
  if (f.createdBefore !== undefined) c.push(`created_at < ${a.add(f.createdBefore)}`);
  for (const m of f.meta ?? []) c.push(`metadata IS NOT NULL AND ${metaCondition(m, d, a)}`);
  c.push(...extra(a));
  return c.length ? `WHERE ${c.join(" AND ")}` : "";
}

/**
 * One page, newest first: ids sort by creation, so `id < cursor` pages stay stable while
 * new jobs arrive (they sort before the first page, never inside a later one).
 */
export function listSql(f: JobFilter & { cursor?: string; limit: number }, d: Dialect): Built {
  const a = new Args(d);
  const w = where(f, d, a, (a) => (f.cursor !== undefined ? [`id < ${a.add(f.cursor)}`] : []));
  // The page's ids first, from an index where one covers the filter (a day's failures: the
  // (tenant, status, created_at, id) index alone), then only those rows: sorting a day's
  // matches by id no longer reads every matching row whole.
  return { sql: `SELECT * FROM jobs WHERE id IN (SELECT id FROM jobs ${w} ORDER BY id DESC LIMIT ${a.add(f.limit)}) ORDER BY id DESC`, args: a.list };
}

function groupExpr(g: StatsGroupBy, d: Dialect): string {
  if (g === "type" || g === "status") return g;
  if (g === "day" || g === "hour") return d.bucket(g);
  if (g === "errorCode") return d.json("error", "code");
  const key = g.slice("metadata.".length);
  if (!META_KEY_PATTERN.test(key)) throw new Error(`not a metadata key: ${key}`);
  return d.scalarText("metadata", key);
}

/**
 * Counts, media seconds and duration percentiles per group, in one statement. Percentiles
 * are nearest-rank on both engines (PostgreSQL's percentile_disc; SQLite by row number), so
 * the engines agree to the millisecond.
 */
export function statsSql(f: JobFilter, groupBy: StatsGroupBy, d: Dialect): Built {
  const a = new Args(d);
  const key = groupExpr(groupBy, d);
  const w = where(f, d, a);
  const ms = "(finished_at - started_at)";
  const done = "status = 'completed' AND started_at IS NOT NULL AND finished_at IS NOT NULL";
  const media = d.engine === "postgres" ? `(${d.json("result", "durationSec")})::float8` : d.json("result", "durationSec");
  const count = (s: string) => `SUM(CASE WHEN status = '${s}' THEN 1 ELSE 0 END)`;
  const base = `SELECT ${key} AS k, status, started_at, finished_at, result FROM jobs ${w}`;
  const totals = `SELECT k, COUNT(*) AS jobs, ${count("completed")} AS completed, ${count("failed")} AS failed, ${count("cancelled")} AS cancelled,
      COALESCE(SUM(CASE WHEN status = 'completed' THEN ${media} END), 0) AS media_sec FROM base GROUP BY k`;
  const pct =
    d.engine === "postgres"
      ? `SELECT k, percentile_disc(0.5) WITHIN GROUP (ORDER BY ${ms}) AS p50, percentile_disc(0.95) WITHIN GROUP (ORDER BY ${ms}) AS p95 FROM base WHERE ${done} GROUP BY k`
      : `SELECT k, MIN(CASE WHEN rn >= 0.5 * n THEN d END) AS p50, MIN(CASE WHEN rn >= 0.95 * n THEN d END) AS p95 FROM (
           SELECT k, ${ms} AS d, ROW_NUMBER() OVER (PARTITION BY k ORDER BY ${ms}) AS rn, COUNT(*) OVER (PARTITION BY k) AS n FROM base WHERE ${done}
         ) GROUP BY k`;
  // A NULL group (no error code, no such metadata key) is a group too: joined with IS NOT DISTINCT FROM.
  const same = d.engine === "postgres" ? "t.k IS NOT DISTINCT FROM p.k" : "t.k IS p.k";
  const sql = `WITH base AS MATERIALIZED (${base}), totals AS (${totals}), pct AS (${pct})
    SELECT t.k AS k, t.jobs AS jobs, t.completed AS completed, t.failed AS failed, t.cancelled AS cancelled, t.media_sec AS media_sec, p.p50 AS p50, p.p95 AS p95
    FROM totals t LEFT JOIN pct p ON ${same} ORDER BY ${d.orderKeys("t.k")}`;
  return { sql, args: a.list };
}

interface RawStats {
  k: string | number | null;
  jobs: number | string | bigint;
  completed: number | string | bigint | null;
  failed: number | string | bigint | null;
  cancelled: number | string | bigint | null;
  media_sec: number | string | null;
  p50: number | string | bigint | null;
  p95: number | string | bigint | null;
}

const num = (v: number | string | bigint | null | undefined) => (v === null || v === undefined ? 0 : Number(v));
const numOrNull = (v: number | string | bigint | null | undefined) => (v === null || v === undefined ? null : Number(v));

/** Engine rows (PostgreSQL gives bigint/numeric as strings) → StatsRow. Pure. */
export function statsRows(rows: readonly RawStats[]): StatsRow[] {
  return rows.map((r) => ({
    key: r.k === null ? null : String(r.k),
    jobs: num(r.jobs),
    completed: num(r.completed),
    failed: num(r.failed),
    cancelled: num(r.cancelled),
    mediaSec: Math.round(num(r.media_sec) * 1000) / 1000,
    p50Ms: numOrNull(r.p50),
    p95Ms: numOrNull(r.p95),
  }));
}
