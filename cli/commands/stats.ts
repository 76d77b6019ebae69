// `medianode stats`: GET /v1/stats as a table (or --json): per group, jobs, completed,
// failed, failure rate, media seconds and p50/p95 durations over a time range.
import { Command, Option } from "commander";
import { STATS_GROUPS } from "../../src/store/job-query";
import { printJson, say, table } from "../output";
import { clientFrom, withClientOptions, type Ctx } from "../options";
import { filterParams, withFilterOptions, type FilterFlags } from "../query-options";

const secs = (v: number | null) => (v === null ? "-" : v < 10 ? v.toFixed(2) : v.toFixed(1));

export function statsCommand(ctx: Ctx): Command {
  return withFilterOptions(withClientOptions(new Command("stats").description("job statistics from the records: counts, failure rate, media seconds, p50/p95 duration per group")))
    .addOption(new Option("--group-by <group>", `${STATS_GROUPS.join(", ")} or metadata.<key>`).default("type"))
    .option("--json", "print the answer as JSON")
    .action(async (o: FilterFlags & { groupBy: string; json?: boolean; url?: string; token?: string; dataDir?: string }) => {
      const client = clientFrom(ctx, o);
      // --since/--until are the range (from/to); the server's default is the last 24 h.
      const answer = await client.stats([["groupBy", o.groupBy], ...filterParams(o, Date.now(), ["from", "to"])]);
      if (o.json) return printJson(ctx.io, answer);
      say(ctx.io, `${answer.from} .. ${answer.to}, by ${answer.groupBy}`);
      if (!answer.groups.length) return say(ctx.io, "no jobs");
      say(
        ctx.io,
        table([
          [o.groupBy.toUpperCase(), "JOBS", "COMPLETED", "FAILED", "CANCELLED", "FAIL%", "MEDIA_S", "P50_S", "P95_S"],
          ...answer.groups.map((g) => [g.key ?? "(none)", String(g.jobs), String(g.completed), String(g.failed), String(g.cancelled), g.failureRate === null ? "-" : (g.failureRate * 100).toFixed(1), g.mediaSec.toFixed(1), secs(g.p50Sec), secs(g.p95Sec)]),
        ]),
      );
    });
}
