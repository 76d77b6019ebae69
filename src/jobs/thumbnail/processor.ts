// thumbnail: probe, grab frames with fast seeking (one ffmpeg run per 20 frames), then
// resize each with sharp (media/image.ts) into the requested format.
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { InvalidInputError } from "../../errors";
import { IMAGE_MIME, resizeFrame } from "../../media/image";
import { probeForJob } from "../probe-input";
import type { Pipeline } from "../pipeline";
import type { OutputFile } from "../schema";
import { remainingMs, runJobFfmpeg } from "../../media/job-ffmpeg";
import { buildThumbnailPlan, FRAMES_DIR } from "./args";
import { ThumbnailOptions, thumbnailDefaults, type ResolvedThumbnailOptions } from "./options";

export const thumbnailPipeline: Pipeline<typeof ThumbnailOptions, ResolvedThumbnailOptions> = {
  type: "thumbnail",
  options: ThumbnailOptions,
  defaults: thumbnailDefaults,
  accepts: ["video"],
  async run(ctx) {
    const startedAt = Date.now();
    const { ffmpeg, probe } = await probeForJob(ctx, ["video"]);
    const plan = buildThumbnailPlan(probe, ctx.options, ctx.input, ctx.inputProtocols, ctx.outDir);
    await mkdir(join(ctx.outDir, FRAMES_DIR), { recursive: true });
    const total = plan.runs.length + plan.frames.length;
    let done = 0;
    for (const args of plan.runs) {
      // Seeks decode only a GOP each, so progress is per run, not from -progress.
      await runJobFfmpeg({ bin: ffmpeg, args, signal: ctx.signal, timeoutMs: remainingMs(startedAt, ctx.media.timeoutMs), stallMs: ctx.media.stallMs, checkTruncation: false });
      ctx.progress({ progress: (++done * 100) / total });
    }
    const outputs: OutputFile[] = [];
    const times: number[] = [];
    for (const f of plan.frames) {
      if (ctx.signal.aborted) break;
      // A frame past a stream that ends before its probed duration: skip it, keep the rest.
      if (!existsSync(f.raw)) continue;
      const r = await resizeFrame(f.raw, join(ctx.outDir, f.name), ctx.options.size, ctx.options.format, ctx.options.quality);
      outputs.push({ name: f.name, mime: IMAGE_MIME[ctx.options.format], bytes: r.bytes, width: r.width, height: r.height });
      times.push(f.atSec);
      ctx.progress({ progress: (++done * 100) / total });
    }
    await rm(join(ctx.outDir, FRAMES_DIR), { recursive: true, force: true });
    if (!outputs.length) throw new InvalidInputError("no frame could be decoded from the source");
    return { outputs, result: { times, width: outputs[0]!.width, height: outputs[0]!.height, durationSec: probe.durationSec } };
  },
};
