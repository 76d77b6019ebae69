// `medianode worker`: the worker role alone, on another host, sharing the api node's Redis.
import { Command } from "commander";
import { loadConfig } from "../../src/config/load";
import { requireDataDirOwner } from "../data-dir";
import { say, UnreachableError, UsageError } from "../output";
import { definedFlags, type Ctx } from "../options";
import { runUntilSignal, serveLog } from "./serve";

/** redis://user:secret@host → redis://user:***@host, for printing. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1:***@");
}

/** --server must be an http(s) URL and come with a token: usage errors (exit 2), before any start. */
function checkServerFlags(server: string, token: string | undefined): void {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new UsageError(`--server is not a URL: ${JSON.stringify(server)} (e.g. http://api-host:8080)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`--server must be http(s), got ${server}`);
  if (!token) throw new UsageError("--server needs --token (or MEDIANODE_TOKEN): a token with the worker scope, e.g. from `medianode token create --name w1 --scopes worker`");
}

export function workerCommand(ctx: Ctx): Command {
  return new Command("worker")
    .description("run only the worker role: consume jobs from the api node's Redis (REDIS_URL is required)")
    .option("--server <url>", "api node URL: download sources and upload outputs over its HTTP (env MEDIANODE_SERVER)")
    .option("--token <token>", "token with the worker scope for --server (env MEDIANODE_TOKEN)")
    .option("--concurrency <list>", "jobs at once per type, e.g. video=1,image=4 (env MEDIANODE_CONCURRENCY)")
    .option("--data-dir <dir>", "data folder: with --server this worker's own; without, the api node's (a shared mount) (env MEDIANODE_DATA_DIR)")
    .addHelpText(
      "after",
      "\nThe worker needs REDIS_URL pointing at the api node's Redis. Three ways to reach the media store:\n" +
        "  MEDIANODE_MEDIA_URL     s3://bucket/prefix (with MEDIANODE_S3_ENDPOINT, AWS_ACCESS_KEY_ID,\n" +
        "                          AWS_SECRET_ACCESS_KEY): sources and outputs in the bucket, read and written\n" +
        "                          directly; --data-dir is this worker's own, for scratch copies\n" +
        "  --server URL --token T  over the api node's HTTP: each source is downloaded (resumable) into\n" +
        "                          this worker's own --data-dir, each output uploaded back (checksummed);\n" +
        "                          the token needs the worker scope (medianode token create --scopes worker)\n" +
        "  no --server             --data-dir is the api node's data folder (same host or a shared mount);\n" +
        "                          files are used in place\n" +
        "Exit codes at start: 2 bad flags, 3 --server unreachable, 1 token refused.",
    )
    .action(async (o: Record<string, unknown>) => {
      const config = loadConfig({ flags: definedFlags(o, ["server", "token", "concurrency", "dataDir"]), env: ctx.io.env, defaults: { port: 8081 } });
      if (!config.redisUrl) {
        throw new UsageError("a worker needs REDIS_URL: the Redis of the api node (e.g. REDIS_URL=redis://api-host:6379, or unix:///<data>/redis/redis.sock on the same host)");
      }
      if (config.server !== undefined) checkServerFlags(config.server, config.token);
      config.roles = ["worker"];
      requireDataDirOwner(config.dataDir, "worker");
      const { startServe } = await import("../../src/roles/serve");
      const { ServerUnreachableError } = await import("../../src/storage/remote");
      let running;
      try {
        running = await startServe(config, serveLog(config));
      } catch (e) {
        if (!(e instanceof ServerUnreachableError)) throw e;
        const u = new UnreachableError(config.server!, e.cause);
        u.message = `${e.message}: is the api node running and is --server right?`;
        throw u;
      }
      const store = config.server ? `, media store ${config.server}` : `, media store in place at ${config.dataDir}`;
      say(ctx.io, `medianode worker ${running.nodeId} consuming from ${redactUrl(config.redisUrl)} (concurrency ${Object.entries(config.concurrency).map(([k, v]) => `${k}=${v}`).join(",")}${store})`);
      ctx.exitCode = await runUntilSignal(ctx.io, running, "worker", config.shutdownGraceSec);
    });
}
