// MEDIANODE_RETENTION_DAYS: finished jobs older than this are removed with their files, in
// the background (the records are the record; Redis already drops finished jobs after a day).
// MEDIANODE_LOG_RETENTION_DAYS (30): finished webhook deliveries with their attempts, and audit
// entries, older than this are pruned, so the logs do not grow without end (issue #12).
import type { Logger } from "../log";
import type { MediaFiles } from "../storage/media-files";
import type { Records } from "../store/records";

export interface RetentionDeps {
  records: Records;
  /** The data dir's or the media bucket's files (both remove a job's whole folder). */
  mediaStore: Pick<MediaFiles, "removeJob">;
  log: Logger;
  now(): number;
}

/** Removes up to `batch` expired jobs; returns how many. */
export async function sweepRetention(deps: RetentionDeps, days: number, batch = 500): Promise<number> {
  if (days <= 0) return 0;
  const cutoff = deps.now() - days * 86_400_000;
  const rows = await deps.records.jobs.listFinishedBefore(cutoff, batch);
  for (const r of rows) {
    await deps.mediaStore.removeJob(r.id);
    await deps.records.jobs.delete(r.id);
  }
  if (rows.length) deps.log.info("retention removed finished jobs", { count: rows.length, days });
  return rows.length;
}

/** Prunes deliveries (with attempts) and audit entries older than `days`; returns how many rows. */
export async function sweepLogs(deps: Pick<RetentionDeps, "records" | "log" | "now">, days: number, batch = 5000): Promise<{ deliveries: number; audit: number }> {
  if (days <= 0) return { deliveries: 0, audit: 0 };
  const cutoff = deps.now() - days * 86_400_000;
  const r = { deliveries: await deps.records.deliveries.prune(cutoff, batch), audit: await deps.records.audit.prune(cutoff, batch) };
  if (r.deliveries || r.audit) deps.log.info("retention pruned delivery and audit logs", { ...r, days });
  return r;
}

export function startRetention(deps: RetentionDeps, days: { jobs: number; logs: number }, o: { everyMs?: number; firstMs?: number } = {}): { stop(): void } {
  if (days.jobs <= 0 && days.logs <= 0) return { stop() {} };
  const run = () =>
    void (async () => {
      await sweepLogs(deps, days.logs);
      await sweepRetention(deps, days.jobs);
    })().catch((e) => deps.log.warn("retention sweep failed", { error: e }));
  const everyMs = o.everyMs ?? 3_600_000;
  const first = setTimeout(run, o.firstMs ?? 30_000);
  const timer = setInterval(run, everyMs);
  return {
    stop() {
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}
