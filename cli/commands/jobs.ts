// `medianode jobs list|show|cancel|retry|watch`.
import { Command, Option } from "commander";
import { JOB_TYPES } from "../../src/jobs/schema";
import type { Job } from "../../src/jobs/schema";
import type { Client } from "../client";
import { formatBytes, printJson, say, table, type Io } from "../output";
import { clientFrom, intArg, withClientOptions, type Ctx } from "../options";
import { followJob, primaryPlaybackUrl, printFinished, summarizeResult } from "../watch";

const STATUSES = ["queued", "active", "completed", "failed", "cancelled"];

interface Common {
  json?: boolean;
  url?: string;
  token?: string;
  dataDir?: string;
}

function showJob(io: Io, client: Client, j: Job): void {
  const rows: string[][] = [
    ["id", j.id],
    ["type", j.type],
    ["status", `${j.status} ${Math.round(j.progress)}%`],
    ["priority", String(j.priority)],
    ["attempts", String(j.attempts)],
    ["node", j.node ?? "-"],
    ["source", JSON.stringify(j.source)],
    ["created", j.createdAt],
    ["started", j.startedAt ?? "-"],
    ["finished", j.finishedAt ?? "-"],
  ];
  if (Object.keys(j.options).length) rows.push(["options", JSON.stringify(j.options)]);
  if (j.metadata !== null && j.metadata !== undefined) rows.push(["metadata", JSON.stringify(j.metadata)]);
  if (j.error) rows.push(["error", `${j.error.code}: ${j.error.message}`]);
  const w = j.status === "queued" ? j.live?.waiting : undefined;
  if (w) rows.push(["waiting", `${w.reason} since ${w.since}: ${w.message}`]);
  say(io, table(rows));
  if (j.outputs.length) {
    say(io, "\noutputs:");
    say(io, table(j.outputs.map((o) => [o.name, formatBytes(o.bytes), client.absolute(o.url)])));
  }
  const summary = summarizeResult(j);
  if (summary.length) say(io, "\n" + summary.join("\n"));
}

const sub = (name: string, description: string) => withClientOptions(new Command(name).description(description));

export function jobsCommand(ctx: Ctx): Command {
  const jobs = new Command("jobs").description("list, inspect, cancel, retry and watch jobs");

  jobs.addCommand(
    sub("list", "list jobs, newest first")
      .addOption(new Option("--status <status>", "only jobs in this state").choices(STATUSES))
      .addOption(new Option("--type <type>", "only jobs of this type").choices(JOB_TYPES))
      .option("--limit <n>", "at most this many (1-1000)", intArg(1, 1000))
      .option("--cursor <cursor>", "continue from a previous page's nextCursor")
      .option("--json", "print {items, nextCursor}")
      .action(async (o: Common & { status?: string; type?: string; limit?: number; cursor?: string }) => {
        const client = clientFrom(ctx, o);
        const page = await client.listJobs({ status: o.status, type: o.type, limit: o.limit, cursor: o.cursor });
        if (o.json) return printJson(ctx.io, page);
        if (!page.items.length) return say(ctx.io, "no jobs");
        say(
          ctx.io,
          table([
            ["ID", "TYPE", "STATUS", "PROGRESS", "CREATED", "ERROR"],
            ...page.items.map((j) => [j.id, j.type, j.status, `${Math.round(j.progress)}%`, j.createdAt, j.error ? j.error.code : ""]),
          ]),
        );
        if (page.nextCursor) say(ctx.io, `more: --cursor ${page.nextCursor}`);
      }),
  );

  jobs.addCommand(
    sub("show", "show one job")
      .argument("<id>", "job id")
      .option("--json", "print the job as JSON")
      .action(async (id: string, o: Common) => {
        const client = clientFrom(ctx, o);
        const j = await client.getJob(id);
        if (o.json) printJson(ctx.io, j);
        else showJob(ctx.io, client, j);
      }),
  );

  jobs.addCommand(
    sub("cancel", "cancel a job (its ffmpeg is killed at once)")
      .argument("<id>", "job id")
      .option("--json", "print the job as JSON")
      .action(async (id: string, o: Common) => {
        const j = await clientFrom(ctx, o).cancelJob(id);
        if (o.json) printJson(ctx.io, j);
        else say(ctx.io, `job ${j.id} ${j.status}`);
      }),
  );

  jobs.addCommand(
    sub("retry", "requeue a failed or cancelled job")
      .argument("<id>", "job id")
      .option("--json", "print the job as JSON")
      .action(async (id: string, o: Common) => {
        const j = await clientFrom(ctx, o).retryJob(id);
        if (o.json) printJson(ctx.io, j);
        else say(ctx.io, `job ${j.id} ${j.status}`);
      }),
  );

  jobs.addCommand(
    sub("url", "print a playback URL that plays with no header (HLS, else the MP4, else the base for any output); --json for all of them")
      .argument("<id>", "job id (completed)")
      .option("--ttl <seconds>", "how long it works (default 86400; at most the server's MEDIANODE_PLAYBACK_MAX_TTL_SEC)", intArg(1))
      .option("--json", "print {hls, mp4, poster, base, expiresAt}")
      .action(async (id: string, o: Common & { ttl?: number }) => {
        const p = await clientFrom(ctx, o).playback(id, o.ttl);
        if (o.json) printJson(ctx.io, p);
        else say(ctx.io, primaryPlaybackUrl(p));
      }),
  );

  jobs.addCommand(
    sub("watch", "follow a job to its end: a progress bar on a terminal, plain lines when piped (stderr); exit 1 unless it completes")
      .argument("<id>", "job id")
      .option("--json", "print the finished job as JSON")
      .option("-q, --quiet", "no progress output")
      .action(async (id: string, o: Common & { quiet?: boolean }) => {
        const client = clientFrom(ctx, o);
        const done = await followJob(client, id, ctx.io, { quiet: o.quiet });
        printFinished(ctx.io, client, done, !!o.json);
      }),
  );
  return jobs;
}
