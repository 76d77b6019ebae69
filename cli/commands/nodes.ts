// `medianode nodes`: the nodes seen in the last minute (GET /v1/nodes).
import { Command } from "commander";
import { ApiError, JobNotCompletedError, printJson, say, table, warn } from "../output";
import { clientFrom, withClientOptions, type Ctx } from "../options";

interface NodeView {
  id?: string;
  host?: string;
  roles?: string[];
  activeJobs?: number;
  version?: string;
  ffmpegVersion?: string;
  labels?: string[];
}

export function nodesCommand(ctx: Ctx): Command {
  return withClientOptions(new Command("nodes").description("nodes seen in the last minute"))
    .option("--json", "print the answer as JSON")
    .action(async (o: { json?: boolean; url?: string; token?: string; dataDir?: string }) => {
      let body: unknown;
      try {
        body = await clientFrom(ctx, o).nodes();
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) {
          warn(ctx.io, "error: this server does not list nodes (GET /v1/nodes answered 404); upgrade the server");
          throw new JobNotCompletedError("no /v1/nodes");
        }
        throw e;
      }
      if (o.json) return printJson(ctx.io, body);
      const items = ((body as { items?: unknown })?.items ?? body) as NodeView[];
      if (!Array.isArray(items) || !items.length) return say(ctx.io, "no nodes seen in the last minute");
      say(
        ctx.io,
        table([
          ["ID", "HOST", "ROLES", "ACTIVE", "VERSION", "FFMPEG", "LABELS"],
          ...items.map((n) => [
            n.id ?? "?",
            n.host ?? "?",
            (n.roles ?? []).join(","),
            String(n.activeJobs ?? "-"),
            n.version ?? "-",
            n.ffmpegVersion ?? "-",
            n.labels?.length ? n.labels.join(",") : "-",
          ]),
        ]),
      );
    });
}
