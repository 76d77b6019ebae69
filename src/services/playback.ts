// Which job a playback URL may be issued for and which generation of its outputs it names
// (SPEC §10). The token itself is made and checked in api/playback/token.ts.
import { ConflictError, GoneError } from "../errors";
import type { JobRecord } from "../jobs/schema";
import type { Principal, ServiceDeps } from "./deps";
import { getVisibleJob } from "./jobs";

export interface PlayableJob {
  row: JobRecord;
  /** Changes whenever the job's outputs are replaced (its completion time); gone with the job. */
  generation: number;
  names: Set<string>;
}

/** A completed job the caller may read (others are 404, as everywhere: SPEC §7 tenancy). */
export async function playableJob(deps: Pick<ServiceDeps, "records">, id: string, who: Principal): Promise<PlayableJob> {
  const row = await getVisibleJob(deps, id, who);
  if (row.status !== "completed" || row.finishedAt === null) throw new ConflictError(`job ${id} is ${row.status}: playback URLs are for completed jobs`);
  const names = new Set(row.outputs.map((o) => o.name));
  return { row, generation: row.finishedAt, names };
}

/**
 * The job a valid token names, if its outputs are still the ones the token was issued for.
 * A retry (back to queued), a new completion or a deletion (retention) revokes the token.
 */
export async function checkPlaybackGeneration(deps: Pick<ServiceDeps, "records">, jobId: string, generation: number): Promise<void> {
  const row = await deps.records.jobs.generation(jobId);
  if (!row || row.status !== "completed" || row.finishedAt !== generation) throw new GoneError("this playback URL was revoked: the job's outputs were replaced or deleted");
}
