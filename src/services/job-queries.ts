// Statistics and export over the job records (SPEC §3, issue #20): computed by the database
// over the caller's tenant (an admin's: every tenant), never from in-memory counters.
import { Type as T, type Static, type TSchema } from "@sinclair/typebox";
import type { JobRecord } from "../jobs/schema";
import type { JobFilter, StatsGroupBy, StatsRow } from "../store/job-query";
import { isAdmin, type Principal, type ServiceDeps } from "./deps";

const nullable = <S extends TSchema>(s: S) => T.Union([s, T.Null()]);
export const StatsGroup = T.Object({
  key: nullable(T.String({ description: "The group's value (type, status, UTC day YYYY-MM-DD, UTC hour YYYY-MM-DDTHH:00Z, error code or metadata value); null: jobs without one" })),
  jobs: T.Integer(),
  completed: T.Integer(),
  failed: T.Integer(),
  cancelled: T.Integer(),
  failureRate: nullable(T.Number({ description: "failed / (completed + failed); null when none ended" })),
  mediaSec: T.Number({ description: "Seconds of media (result.durationSec) the completed jobs processed" }),
  p50Sec: nullable(T.Number({ description: "Nearest-rank median of finishedAt − startedAt over completed jobs" })),
  p95Sec: nullable(T.Number()),
});
export type StatsGroup = Static<typeof StatsGroup>;
export const StatsAnswer = T.Object({
  from: T.String({ description: "ISO 8601, inclusive" }),
  to: T.String({ description: "ISO 8601, exclusive" }),
  groupBy: T.String(),
  groups: T.Array(StatsGroup),
});
export type StatsAnswer = Static<typeof StatsAnswer>;

const sec = (ms: number | null) => (ms === null ? null : Math.round(ms) / 1000);

/** StatsRow (engine) → the API's group. Pure. */
export function statsGroup(r: StatsRow): StatsGroup {
  const ended = r.completed + r.failed;
  return { key: r.key, jobs: r.jobs, completed: r.completed, failed: r.failed, cancelled: r.cancelled, failureRate: ended ? Math.round((r.failed / ended) * 10_000) / 10_000 : null, mediaSec: r.mediaSec, p50Sec: sec(r.p50Ms), p95Sec: sec(r.p95Ms) };
}

const scoped = (who: Principal, f: Omit<JobFilter, "tenant">): JobFilter => ({ ...f, tenant: isAdmin(who) ? undefined : who.tenant });

export async function jobStats(deps: Pick<ServiceDeps, "records">, who: Principal, q: { filter: Omit<JobFilter, "tenant">; groupBy: StatsGroupBy; from: number; to: number }): Promise<StatsAnswer> {
  const groups = (await deps.records.jobs.stats(scoped(who, q.filter), q.groupBy)).map(statsGroup);
  return { from: new Date(q.from).toISOString(), to: new Date(q.to).toISOString(), groupBy: q.groupBy, groups };
}

/** Rows per read while exporting: memory stays at one page, whatever the total. */
export const EXPORT_PAGE = 500;

/** Every matching job, newest first, a page at a time (keyset paging: no OFFSET, stable under inserts). */
export async function* exportJobs(deps: Pick<ServiceDeps, "records">, who: Principal, filter: Omit<JobFilter, "tenant">, signal?: AbortSignal): AsyncGenerator<JobRecord> {
  let cursor: string | undefined;
  for (;;) {
    if (signal?.aborted) return;
    const page = await deps.records.jobs.list({ ...scoped(who, filter), ...(cursor ? { cursor } : {}), limit: EXPORT_PAGE });
    for (const r of page) yield r;
    if (page.length < EXPORT_PAGE) return;
    cursor = page[page.length - 1]!.id;
  }
}

// The filter vocabulary the api layer parses into (it imports services, never store/).
export { META_KEY_PATTERN, META_KEYS_MAX, STATS_GROUPS } from "../store/job-query";
export type { JobFilter, MetaMatch, StatsGroupBy } from "../store/job-query";
