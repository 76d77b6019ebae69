// Following a job to its end (submit --wait, jobs watch) and printing how it ended.
// Polls GET /v1/jobs/:id; the WebSocket stream (SPEC §4) replaces the polling later.
import type { Job } from "../src/jobs/schema";
import type { Client } from "./client";
import { createProgress, formatBytes, JobNotCompletedError, printJson, say, table, warn, type Io } from "./output";

export const POLL_MS = 300;
const TERMINAL = new Set(["completed", "failed", "cancelled"]);

export async function followJob(client: Client, first: Job | string, io: Io, o: { quiet?: boolean; intervalMs?: number } = {}): Promise<Job> {
  const progress = createProgress(io, { quiet: o.quiet });
  let job = typeof first === "string" ? await client.getJob(first) : first;
  try {
    for (;;) {
      progress.update(job);
      if (TERMINAL.has(job.status)) return job;
      await Bun.sleep(o.intervalMs ?? POLL_MS);
      job = await client.getJob(job.id);
    }
  } finally {
    progress.stop();
  }
}

function seconds(job: Job): string {
  if (!job.finishedAt) return "";
  const from = Date.parse(job.startedAt ?? job.createdAt);
  return ` in ${((Date.parse(job.finishedAt) - from) / 1000).toFixed(1)} s`;
}

/** Prints a finished job; throws JobNotCompletedError (exit 1) unless it completed. */
export function printFinished(io: Io, client: Client, job: Job, json: boolean): void {
  if (json) printJson(io, job);
  else if (job.status === "completed") {
    say(io, `job ${job.id} completed${seconds(job)}`);
    if (job.outputs.length) {
      say(io, table([["NAME", "BYTES", "URL"], ...job.outputs.map((o) => [o.name, formatBytes(o.bytes), client.absolute(o.url)])]));
    }
    if (job.result && Object.keys(job.result).length) say(io, `result: ${JSON.stringify(job.result, null, 2)}`);
  }
  if (job.status === "failed") {
    warn(io, `job ${job.id} failed: ${job.error?.code ?? "INTERNAL"}: ${job.error?.message ?? "no message"}`);
    throw new JobNotCompletedError(`job ${job.id} failed`);
  }
  if (job.status === "cancelled") {
    warn(io, `job ${job.id} was cancelled`);
    throw new JobNotCompletedError(`job ${job.id} cancelled`);
  }
}
