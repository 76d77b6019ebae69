// `medianode submit FILE|URL`: a local file is streamed from disk as a raw body, an
// http(s) URL goes as {source:{url}}; --wait follows the job and prints its outputs.
import { existsSync, statSync } from "node:fs";
import { extname } from "node:path";
import { Command, Option } from "commander";
import { JOB_TYPES, type JobType } from "../../src/jobs/schema";
import { UsageError, printJson, say } from "../output";
import { clientFrom, intArg, jsonArg, withClientOptions, type Ctx } from "../options";
import { followJob, printFinished, printPlayback } from "../watch";

const BY_EXTENSION: Record<string, JobType> = {};
for (const e of ["jpg", "jpeg", "png", "apng", "webp", "gif", "avif", "heic", "heif", "tif", "tiff", "svg", "bmp", "jxl"]) BY_EXTENSION[e] = "image";
for (const e of ["mp3", "aac", "m4a", "flac", "ogg", "oga", "opus", "wav", "weba", "wma", "aiff", "aif"]) BY_EXTENSION[e] = "audio";
for (const e of ["mp4", "m4v", "mov", "mkv", "webm", "avi", "ts", "mts", "m2ts", "3gp", "ogv", "flv", "wmv", "mpg", "mpeg", "mxf"]) BY_EXTENSION[e] = "video";

/** The job type for a file name or URL path: by extension, else a probe. */
export function guessType(nameOrUrl: string): JobType {
  let path = nameOrUrl;
  if (/^https?:\/\//i.test(nameOrUrl)) {
    try {
      path = new URL(nameOrUrl).pathname;
    } catch {
      // checked later
    }
  }
  return BY_EXTENSION[extname(path).slice(1).toLowerCase()] ?? "probe";
}

interface SubmitOpts {
  type?: JobType;
  options?: Record<string, unknown>;
  priority?: number;
  metadata?: unknown;
  wait?: boolean;
  json?: boolean;
  quiet?: boolean;
  url?: string;
  token?: string;
  dataDir?: string;
}

export function submitCommand(ctx: Ctx): Command {
  const cmd = new Command("submit")
    .description("submit a job for a local file (uploaded) or an http(s) URL")
    .argument("<source>", "a file path, or an http(s) URL the server fetches")
    .addOption(new Option("--type <type>", "job type (default: from the extension: image, audio, video; otherwise probe)").choices(JOB_TYPES))
    .option("--options <json>", "job options as a JSON object, e.g. '{\"renditions\":[720]}'", jsonArg("--options"))
    .option("--priority <n>", "-100..100, higher runs sooner", intArg(-100, 100))
    .option("--metadata <json>", "free JSON stored with the job and returned as given", jsonArg("--metadata", false))
    .option("--wait", "follow the job to its end: a progress bar on a terminal, plain lines when piped (stderr), then the outputs")
    .option("--json", "print the job as JSON (with --wait: the finished job)")
    .option("-q, --quiet", "with --wait: no progress output");
  withClientOptions(cmd);
  cmd.addHelpText(
    "after",
    "\nExit codes: 0 submitted (with --wait: completed), 1 refused or the job failed, 2 usage error, 3 server unreachable.",
  );
  return cmd.action(async (source: string, o: SubmitOpts) => {
    const isUrl = /^https?:\/\//i.test(source);
    if (!isUrl) {
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) throw new UsageError(`only http(s) URLs can be submitted, got ${source}`);
      if (!existsSync(source)) throw new UsageError(`no such file: ${source}`);
      if (!statSync(source).isFile()) throw new UsageError(`not a regular file: ${source}`);
    }
    const client = clientFrom(ctx, o);
    const fields = { type: o.type ?? guessType(source), options: o.options, priority: o.priority, metadata: o.metadata };
    const job = isUrl ? await client.submitUrl(source, fields) : await client.submitFile(source, fields);
    if (!o.wait) {
      if (o.json) printJson(ctx.io, job);
      else say(ctx.io, job.id);
      return;
    }
    const done = await followJob(client, job, ctx.io, { quiet: o.quiet });
    printFinished(ctx.io, client, done, !!o.json);
    if (!o.json) await printPlayback(ctx.io, client, done);
  });
}
