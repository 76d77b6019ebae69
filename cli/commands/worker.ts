// `medianode worker`: the worker role alone, on another host, sharing the api node's Redis.
import { Command } from "commander";
import { loadConfig } from "../../src/config/load";
import { say, UsageError } from "../output";
import { definedFlags, type Ctx } from "../options";
import { runUntilSignal, serveLog } from "./serve";

/** redis://user:secret@host → redis://user:***@host, for printing. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1:***@");
}

export function workerCommand(ctx: Ctx): Command {
  return new Command("worker")
    .description("run only the worker role: consume jobs from the api node's Redis (REDIS_URL is required)")
    .option("--server <url>", "api node URL for the HTTP media store (env MEDIANODE_SERVER; accepted and stored, not used yet)")
    .option("--token <token>", "token with the worker scope for --server (env MEDIANODE_TOKEN)")
    .option("--concurrency <list>", "jobs at once per type, e.g. video=1,image=4 (env MEDIANODE_CONCURRENCY)")
    .option("--data-dir <dir>", "data folder; without --server it must be the api node's (a shared mount) (env MEDIANODE_DATA_DIR)")
    .addHelpText(
      "after",
      "\nThe worker needs REDIS_URL pointing at the api node's Redis. For now it reads sources and writes\n" +
        "outputs in --data-dir, which must be the api node's data folder (same host or a shared mount);\n" +
        "the HTTP media store over --server/--token comes in a later release.",
    )
    .action(async (o: Record<string, unknown>) => {
      const config = loadConfig({ flags: definedFlags(o, ["server", "token", "concurrency", "dataDir"]), env: ctx.io.env, defaults: { port: 8081 } });
      if (!config.redisUrl) {
        throw new UsageError("a worker needs REDIS_URL: the Redis of the api node (e.g. REDIS_URL=redis://api-host:6379, or unix:///<data>/redis/redis.sock on the same host)");
      }
      config.roles = ["worker"];
      const { startServe } = await import("../../src/roles/serve");
      const running = await startServe(config, serveLog(config));
      say(ctx.io, `medianode worker ${running.nodeId} consuming from ${redactUrl(config.redisUrl)} (concurrency ${Object.entries(config.concurrency).map(([k, v]) => `${k}=${v}`).join(",")})`);
      ctx.exitCode = await runUntilSignal(ctx.io, running, "worker", config.shutdownGraceSec);
    });
}
