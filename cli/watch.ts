// Following a job to its end (submit --wait, jobs watch) and printing how it ended.
// Polls GET /v1/jobs/:id; the WebSocket stream (SPEC §4) replaces the polling later.
import type { Job } from "../src/jobs/schema";
import type { Client } from "./client";
import type { PlaybackView } from "../src/api/playback/schema";
import { createProgress, formatBytes, JobNotCompletedError, printJson, say, table, warn, type Io } from "./output";

export const POLL_MS = 300;
const TERMINAL = new Set(["completed", "failed", "cancelled"]);

export async function followJob(client: Client, first: Job | string, io: Io, o: { quiet?: boolean; intervalMs?: number } = {}): Promise<Job> {
  const progress = createProgress(io, { quiet: o.quiet });
  let job = typeof first === "string" ? await client.getJob(first) : first;
  try {
    for (;;) {
      progress.update({ ...job, note: job.status === "queued" ? job.live?.waiting?.message : undefined });
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

interface StreamView {
  type?: string;
  codec?: string;
  width?: number;
  height?: number;
  fps?: number;
  sampleRate?: number;
  channels?: number;
}

/** A few readable lines for a human; --json has the whole result. */
export function summarizeResult(job: Job): string[] {
  const r = job.result;
  if (!r || !Object.keys(r).length) return [];
  if (job.type === "probe") {
    const dur = typeof r.durationSec === "number" ? `${r.durationSec} s` : "no duration";
    const size = typeof r.sizeBytes === "number" ? `, ${formatBytes(r.sizeBytes)}` : "";
    const rate = typeof r.bitrate === "number" ? `, ${Math.round(r.bitrate / 1000)} kb/s` : "";
    const lines = [`format ${String(r.format)}, ${dur}${size}${rate}`];
    for (const st of (Array.isArray(r.streams) ? r.streams : []) as StreamView[]) {
      const dims = st.width ? ` ${st.width}x${st.height}` : "";
      const fps = st.fps ? ` ${st.fps} fps` : "";
      const audio = st.sampleRate ? ` ${st.sampleRate} Hz ${st.channels ?? "?"} ch` : "";
      lines.push(`  ${st.type ?? "?"} ${st.codec ?? "?"}${dims}${fps}${audio}`);
    }
    return lines;
  }
  // Scalars only (width, height, thumbhash, durationSec…): nested values are for --json.
  const scalars = Object.entries(r).filter(([, v]) => v !== null && typeof v !== "object");
  return scalars.length ? [`result: ${scalars.map(([k, v]) => `${k}=${String(v)}`).join(" ")}`] : [];
}

/** Prints a finished job; throws JobNotCompletedError (exit 1) unless it completed. */
/** The one URL to hand a player: the HLS master, else the MP4, else the base of every output. */
export function primaryPlaybackUrl(p: PlaybackView): string {
  return p.hls ?? p.mp4 ?? p.base;
}

/** After the outputs: a URL that plays anywhere. Best effort: the job did complete either way. */
export async function printPlayback(io: Io, client: Client, job: Job): Promise<void> {
  if (job.status !== "completed" || !job.outputs.length) return;
  try {
    const p = await client.playback(job.id);
    say(io, `playback: ${primaryPlaybackUrl(p)} (until ${p.expiresAt})`);
  } catch (e) {
    warn(io, `no playback URL: ${(e as Error).message}`);
  }
}

export function printFinished(io: Io, client: Client, job: Job, json: boolean): void {
  if (json) printJson(io, job);
  else if (job.status === "completed") {
    say(io, `job ${job.id} completed${seconds(job)}`);
    if (job.outputs.length) {
      say(io, table([["NAME", "BYTES", "URL"], ...job.outputs.map((o) => [o.name, formatBytes(o.bytes), client.absolute(o.url)])]));
    }
    for (const line of summarizeResult(job)) say(io, line);
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
