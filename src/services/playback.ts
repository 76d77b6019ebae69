// Which job a playback URL may be issued for and which generation of its outputs it names
// (SPEC §10). The token itself is made and checked in api/playback/token.ts.
import { ConflictError, GoneError } from "../errors";
import type { Output } from "../jobs/schema";
import { getJobGeneration, type JobRow } from "../store/jobs";
import type { Principal, ServiceDeps } from "./deps";
import { getVisibleJob } from "./jobs";

export interface PlayableJob {
  row: JobRow;
  /** Changes whenever the job's outputs are replaced (its completion time); gone with the job. */
  generation: number;
  names: Set<string>;
}

/** A completed job the caller may read (others are 404, as everywhere: SPEC §7 tenancy). */
export function playableJob(deps: Pick<ServiceDeps, "db">, id: string, who: Principal): PlayableJob {
  const row = getVisibleJob(deps, id, who);
  if (row.status !== "completed" || row.finished_at === null) throw new ConflictError(`job ${id} is ${row.status}: playback URLs are for completed jobs`);
  const names = new Set((JSON.parse(row.outputs) as Pick<Output, "name">[]).map((o) => o.name));
  return { row, generation: row.finished_at, names };
}

/**
 * The job a valid token names, if its outputs are still the ones the token was issued for.
 * A retry (back to queued), a new completion or a deletion (retention) revokes the token.
 */
export function checkPlaybackGeneration(deps: Pick<ServiceDeps, "db">, jobId: string, generation: number): void {
  const row = getJobGeneration(deps.db, jobId);
  if (!row || row.status !== "completed" || row.finished_at !== generation) throw new GoneError("this playback URL was revoked: the job's outputs were replaced or deleted");
}
