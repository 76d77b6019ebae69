// `medianode serve` (every role, or --roles) and the signal handling shared with `worker`.
import { Command } from "commander";
import { loadConfig } from "../../src/config/load";
import type { Config } from "../../src/config/schema";
import { createLogger } from "../../src/log";
import type { Running } from "../../src/roles/serve";
import { adminTokenPath } from "../../src/services/tokens";
import { requireDataDirOwner } from "../data-dir";
import { say, warn, type Io } from "../output";
import { definedFlags, type Ctx } from "../options";

/**
 * Runs until SIGTERM or SIGINT, then stops everything (running jobs get the grace period)
 * and resolves 0. A second signal while stopping gives up on the grace period.
 */
export async function runUntilSignal(io: Io, running: Running, what: string, graceSec: number): Promise<number> {
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  warn(io, `${what}: ${signal} received, stopping (running jobs get up to ${graceSec} s, MEDIANODE_SHUTDOWN_GRACE_SEC; send it again to stop now)`);
  const again = new Promise<"forced">((resolve) => {
    process.once("SIGTERM", () => resolve("forced"));
    process.once("SIGINT", () => resolve("forced"));
  });
  const how = await Promise.race([running.stop().then(() => "clean" as const), again]);
  // Forced: the process exits now; the embedded redis-server and ffmpeg die with it (dieWithParent).
  return how === "forced" ? 1 : 0;
}

export function serveLog(config: Config) {
  return createLogger({ level: config.logLevel, format: config.logFormat });
}

export function serveCommand(ctx: Ctx): Command {
  return new Command("serve")
    .description("run a node: api, worker, monitor and metrics roles in one process (embedded Redis unless REDIS_URL is set)")
    .option("--roles <list>", "comma list of api,worker,monitor,metrics (env MEDIANODE_ROLES, default all)")
    .option("--port <port>", "HTTP port, 0 for any free one (env MEDIANODE_PORT, default 8080)")
    .option("--host <host>", "address to bind (env MEDIANODE_HOST, default 127.0.0.1)")
    .option("--data-dir <dir>", "data folder (env MEDIANODE_DATA_DIR, default ./data)")
    .addHelpText("after", "\nOther settings come from the environment or medianode.config.json (SPEC §6); a bad value stops start-up (exit 2).")
    .action(async (o: Record<string, unknown>) => {
      const config = loadConfig({ flags: definedFlags(o, ["roles", "port", "host", "dataDir"]), env: ctx.io.env });
      requireDataDirOwner(config.dataDir, "serve");
      // Loaded here, not at the top: the other commands start faster without the server code.
      const { startServe } = await import("../../src/roles/serve");
      const running = await startServe(config, serveLog(config));
      say(ctx.io, `medianode serving on ${running.url} (roles ${config.roles.join(",")}, data ${config.dataDir}, node ${running.nodeId})`);
      if (running.adminToken) {
        say(ctx.io, `admin token (printed only this once; also in ${adminTokenPath(config.dataDir)}, mode 0600):`);
        say(ctx.io, `  ${running.adminToken}`);
      }
      ctx.exitCode = await runUntilSignal(ctx.io, running, "serve", config.shutdownGraceSec);
    });
}
