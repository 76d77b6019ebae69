// The query parameters of GET /v1/jobs, /v1/jobs/export and /v1/stats (SPEC §3), read from
// the URL in one place: the filters are the same for the three; `metadata.<key>=<value>` has
// open-ended names, which a fixed query schema cannot list. Pure; every bad value is a 400
// naming the parameter.
import { Type as T } from "@sinclair/typebox";
import { BadRequestError, JOB_ERROR_CODES } from "../../errors";
import { JOB_STATUSES, JOB_TYPES, type JobStatus, type JobType } from "../../jobs/schema";
import { META_KEY_PATTERN, META_KEYS_MAX, STATS_GROUPS, type JobFilter, type MetaMatch, type StatsGroupBy } from "../../services/job-queries";
import { ListLimit, listLimit } from "../list-query";

const META_PREFIX = "metadata.";
const META_VALUE_MAX = 256;

/** For the OpenAPI document (and Elysia's check of the named ones); metadata.<key> is read from the URL. */
export const JobFilterQuery = {
  status: T.Optional(T.Union(JOB_STATUSES.map((s) => T.Literal(s)))),
  type: T.Optional(T.Union(JOB_TYPES.map((s) => T.Literal(s)))),
  node: T.Optional(T.String({ maxLength: 128, description: "The node that ran the job" })),
  errorCode: T.Optional(T.Union(JOB_ERROR_CODES.map((c) => T.Literal(c)), { description: "error.code of failed jobs" })),
  createdAfter: T.Optional(T.String({ description: "createdAt ≥ this: ISO 8601 or epoch milliseconds" })),
  createdBefore: T.Optional(T.String({ description: "createdAt < this: ISO 8601 or epoch milliseconds" })),
  token: T.Optional(T.String({ description: "The token, where no header can be sent" })),
};
export const ListQuery = T.Object({
  ...JobFilterQuery,
  limit: ListLimit,
  cursor: T.Optional(T.String({ maxLength: 64, description: "nextCursor of the previous page" })),
});
export const ExportQuery = T.Object({ ...JobFilterQuery, format: T.Optional(T.Union([T.Literal("ndjson"), T.Literal("csv")], { default: "ndjson" })) });
export const StatsQuery = T.Object({
  ...JobFilterQuery,
  groupBy: T.Optional(T.String({ description: `${STATS_GROUPS.join(" | ")} | metadata.<key>`, default: "type" })),
  from: T.Optional(T.String({ description: "createdAt ≥ this (ISO 8601 or epoch ms); default 24 h before `to`" })),
  to: T.Optional(T.String({ description: "createdAt < this (ISO 8601 or epoch ms); default now" })),
});
export const METADATA_FILTER_DOC = "Also `metadata.<key>=<value>` (up to 8, ANDed): jobs whose metadata has that top-level key with that value.";

/** ISO 8601 or epoch ms → ms; undefined when absent. */
export function parseTime(name: string, raw: string | null): number | undefined {
  if (raw === null || raw === "") return undefined;
  const ms = /^[0-9]{1,16}$/.test(raw) ? Number(raw) : /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : NaN;
  if (!Number.isFinite(ms)) throw new BadRequestError(`${name} must be an ISO 8601 time or epoch milliseconds`, { [name]: raw.slice(0, 40) });
  return ms;
}

function oneOf<T extends string>(name: string, raw: string | null, values: readonly T[]): T | undefined {
  if (raw === null || raw === "") return undefined;
  if (!(values as readonly string[]).includes(raw)) throw new BadRequestError(`${name} must be one of ${values.join(", ")}`, { [name]: raw.slice(0, 40) });
  return raw as T;
}

/** `metadata.<key>=<value>` pairs, checked. */
export function parseMetaParams(q: URLSearchParams): MetaMatch[] {
  const out: MetaMatch[] = [];
  for (const [k, v] of q) {
    if (!k.startsWith(META_PREFIX)) continue;
    const key = k.slice(META_PREFIX.length);
    if (!META_KEY_PATTERN.test(key)) throw new BadRequestError(`metadata filter key must match ${META_KEY_PATTERN.source}`, { param: k.slice(0, 80) });
    if (v.length > META_VALUE_MAX) throw new BadRequestError(`metadata filter value is longer than ${META_VALUE_MAX} characters`, { param: k });
    out.push({ key, value: v });
  }
  if (out.length > META_KEYS_MAX) throw new BadRequestError(`at most ${META_KEYS_MAX} metadata filters`);
  return out;
}

/** The filters shared by list, export and stats (tenant is the caller's, added by the service). */
export function parseJobFilter(q: URLSearchParams): Omit<JobFilter, "tenant"> {
  const node = q.get("node") || undefined;
  if (node && node.length > 128) throw new BadRequestError("node is longer than 128 characters");
  const f: Omit<JobFilter, "tenant"> = {
    status: oneOf<JobStatus>("status", q.get("status"), JOB_STATUSES),
    type: oneOf<JobType>("type", q.get("type"), JOB_TYPES),
    node,
    errorCode: oneOf("errorCode", q.get("errorCode"), JOB_ERROR_CODES),
    createdAfter: parseTime("createdAfter", q.get("createdAfter")),
    createdBefore: parseTime("createdBefore", q.get("createdBefore")),
    meta: parseMetaParams(q),
  };
  return Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0))) as Omit<JobFilter, "tenant">;
}

export function parseListQuery(q: URLSearchParams): Omit<JobFilter, "tenant"> & { cursor?: string; limit: number } {
  const cursor = q.get("cursor") || undefined;
  if (cursor && cursor.length > 64) throw new BadRequestError("cursor is longer than 64 characters");
  return { ...parseJobFilter(q), ...(cursor ? { cursor } : {}), limit: listLimit(q.get("limit") ?? undefined) };
}

export const STATS_DEFAULT_SPAN_MS = 24 * 3600 * 1000;
/** The longest range one stats call may cover: a year of hours is 8,760 groups. */
export const STATS_MAX_SPAN_MS = 366 * 24 * 3600 * 1000;

export function parseStatsQuery(q: URLSearchParams, now: number): { filter: Omit<JobFilter, "tenant">; groupBy: StatsGroupBy; from: number; to: number } {
  const filter = parseJobFilter(q);
  const raw = q.get("groupBy") || "type";
  if (!(STATS_GROUPS as readonly string[]).includes(raw) && !(raw.startsWith(META_PREFIX) && META_KEY_PATTERN.test(raw.slice(META_PREFIX.length))))
    throw new BadRequestError(`groupBy must be one of ${STATS_GROUPS.join(", ")} or metadata.<key>`, { groupBy: raw.slice(0, 80) });
  const to = parseTime("to", q.get("to")) ?? now;
  const from = parseTime("from", q.get("from")) ?? to - STATS_DEFAULT_SPAN_MS;
  if (from >= to) throw new BadRequestError("from must be before to");
  if (to - from > STATS_MAX_SPAN_MS) throw new BadRequestError("from..to spans more than 366 days");
  // from/to narrow createdAfter/createdBefore when both are given.
  const createdAfter = Math.max(from, filter.createdAfter ?? -Infinity);
  const createdBefore = Math.min(to, filter.createdBefore ?? Infinity);
  return { filter: { ...filter, createdAfter, createdBefore }, groupBy: raw as StatsGroupBy, from, to };
}
