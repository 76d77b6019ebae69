#!/usr/bin/env bun
// `medianode`: one program, every command (SPEC §5). package.json's bin points here.
// Every command gets exitOverride + configureOutput, so that nothing here calls
// process.exit but the entry point below (a process.exit inside bun test ends the run).
import { Command } from "commander";
import pkg from "../package.json" with { type: "json" };
import { configCommand } from "./commands/config";
import { doctorCommand } from "./commands/doctor";
import { jobsCommand } from "./commands/jobs";
import { migrateCommand } from "./commands/migrate";
import { nodesCommand } from "./commands/nodes";
import { notifyCommand } from "./commands/notify";
import { queuesCommand } from "./commands/queues";
import { serveCommand } from "./commands/serve";
import { storeCommand } from "./commands/store";
import { submitCommand } from "./commands/submit";
import { tokenCommand } from "./commands/token";
import { workerCommand } from "./commands/worker";
import type { Ctx } from "./options";
import { processIo, reportError, type Io } from "./output";

function eachCommand(cmd: Command, fn: (c: Command) => void): void {
  fn(cmd);
  for (const c of cmd.commands) eachCommand(c, fn);
}

export function buildProgram(io: Io, ctx: Ctx = { io, exitCode: 0 }): Command {
  const program = new Command("medianode")
    .description("self-hosted media processing node: probe, image, video, audio and thumbnail jobs")
    .version(pkg.version, "-V, --version")
    .addHelpText("after", "\nExit codes: 0 ok, 1 job failed or refused, 2 usage error, 3 server unreachable.");
  for (const make of [serveCommand, workerCommand, submitCommand, jobsCommand, queuesCommand, nodesCommand, notifyCommand, tokenCommand, migrateCommand, storeCommand, doctorCommand, configCommand]) {
    program.addCommand(make(ctx));
  }
  // addCommand does not copy these settings to subcommands: apply them to the whole tree.
  eachCommand(program, (c) =>
    c
      .exitOverride()
      // `queues` has options and subcommands: `queues pause image --url X` must give --url to pause.
      .enablePositionalOptions()
      .showSuggestionAfterError()
      .configureOutput({
        writeOut: (s) => void io.stdout.write(s),
        writeErr: (s) => void io.stderr.write(s),
        outputError: (s, write) => write(s),
      }),
  );
  return program;
}

/** Runs one command line (without the `bun main.ts` part) and returns its exit code. */
export async function main(args: string[] = process.argv.slice(2), io: Io = processIo()): Promise<number> {
  const ctx: Ctx = { io, exitCode: 0 };
  try {
    await buildProgram(io, ctx).parseAsync(args, { from: "user" });
    return ctx.exitCode;
  } catch (e) {
    return reportError(io, e);
  }
}

/** Waits until what was written to a pipe is flushed, so exit() does not cut it off. */
const drain = (s: NodeJS.WriteStream) => new Promise<void>((resolve) => s.write("", () => resolve()));

if (import.meta.main) {
  const code = await main();
  await Promise.all([drain(process.stdout), drain(process.stderr)]);
  process.exit(code);
}
