// MEDIANODE_RETENTION_DAYS: finished jobs older than this are removed with their files, in
// the background (SQLite is the record; Redis already drops finished jobs after a day).
import type { Logger } from "../log";
import type { LocalMediaStore } from "../storage/local";
import type { Records } from "../store/records";

export interface RetentionDeps {
  records: Records;
  store: LocalMediaStore;
  log: Logger;
  now(): number;
}

/** Removes up to `batch` expired jobs; returns how many. */
export async function sweepRetention(deps: RetentionDeps, days: number, batch = 500): Promise<number> {
  if (days <= 0) return 0;
  const cutoff = deps.now() - days * 86_400_000;
  const rows = await deps.records.jobs.listFinishedBefore(cutoff, batch);
  for (const r of rows) {
    await deps.store.removeJob(r.id);
    await deps.records.jobs.delete(r.id);
  }
  if (rows.length) deps.log.info("retention removed finished jobs", { count: rows.length, days });
  return rows.length;
}

export function startRetention(deps: RetentionDeps, days: number, everyMs = 3_600_000): { stop(): void } {
  if (days <= 0) return { stop() {} };
  const run = () => void sweepRetention(deps, days).catch((e) => deps.log.warn("retention sweep failed", { error: e }));
  const first = setTimeout(run, 30_000);
  const timer = setInterval(run, everyMs);
  return {
    stop() {
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}
