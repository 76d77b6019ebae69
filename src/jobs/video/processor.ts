// video: probe, then ONE ffmpeg run for the whole ladder (HLS rungs + poster + storyboard
// tiles), then cheap finishing steps: MP4 remux of the top rung (stream copy), the sprite,
// the VTT and the master playlist (written here, with CODECS; see media/hls.ts).
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { masterPlaylist, segmentCodecs, variantStats, type MasterVariant } from "../../media/hls";
import { composeSprite } from "../../media/sprite";
import { probeForJob } from "../probe-input";
import type { Pipeline, ProcessorContext } from "../pipeline";
import type { OutputFile } from "../schema";
import { buildVideoPlan, mp4RemuxArgs, PLAYLIST_NAME, STORYBOARD_FRAMES_DIR, type VideoPlan } from "./args";
import { remainingMs, runJobFfmpeg } from "../../media/ffmpeg-failure";
import { VideoOptions, videoDefaults, type ResolvedVideoOptions } from "./options";
import { listOutputs } from "../../storage/output-files";
import { spriteLayout, storyboardKeyframeArgs, storyboardVtt } from "./storyboard";

type Ctx = ProcessorContext<ResolvedVideoOptions>;

/** Share of the progress bar the ladder run gets; the finishing steps take the rest. */
const LADDER_SHARE = 90;

async function runLadder(ctx: Ctx, plan: VideoPlan, startedAt: number): Promise<void> {
  for (const r of plan.rungs) await mkdir(join(ctx.outDir, r.name), { recursive: true });
  if (plan.storyboard) await mkdir(join(ctx.outDir, STORYBOARD_FRAMES_DIR), { recursive: true });
  await runJobFfmpeg({
    bin: ctx.media.ffmpeg!,
    args: plan.args,
    signal: ctx.signal,
    timeoutMs: remainingMs(startedAt, ctx.media.timeoutMs),
    stallMs: ctx.media.stallMs,
    durationSec: plan.src.durationSec,
    onProgress: (p) => {
      const pct = p.percent ?? 0;
      // One decode feeds every rung, so they advance together; copied rungs too.
      const renditions = Object.fromEntries(plan.rungs.map((r) => [r.name, Math.round(pct)]));
      ctx.progress({ progress: (pct * LADDER_SHARE) / 100, ...(p.etaSec !== null ? { etaSec: Math.round(p.etaSec) } : {}), renditions });
    },
  });
}

async function finishStoryboard(ctx: Ctx, plan: VideoPlan, startedAt: number): Promise<{ tiles: number } | null> {
  const sb = plan.storyboard;
  if (!sb) return null;
  const dir = join(ctx.outDir, STORYBOARD_FRAMES_DIR);
  if (ctx.options.storyboardMethod === "keyframe") {
    await runJobFfmpeg({
      bin: ctx.media.ffmpeg!,
      args: storyboardKeyframeArgs(ctx.input, ctx.inputProtocols, plan.src, sb, join(dir, "%05d.jpg")),
      signal: ctx.signal,
      timeoutMs: remainingMs(startedAt, ctx.media.timeoutMs),
      stallMs: ctx.media.stallMs,
      checkTruncation: false,
    });
  }
  const tiles = (await readdir(dir)).filter((f) => f.endsWith(".jpg")).sort().map((f) => join(dir, f));
  if (tiles.length) {
    const layout = spriteLayout(tiles.length, sb.tileWidth, sb.tileHeight);
    await composeSprite(tiles, join(ctx.outDir, "storyboard.jpg"), layout);
    await writeFile(join(ctx.outDir, "storyboard.vtt"), storyboardVtt(tiles.length, layout, sb.intervalSec, plan.src.durationSec));
  }
  await rm(dir, { recursive: true, force: true });
  return { tiles: tiles.length };
}

async function writeMaster(ctx: Ctx, plan: VideoPlan): Promise<Map<string, { durationSec: number; bitrate: number }>> {
  const stats = new Map<string, { durationSec: number; bitrate: number }>();
  const variants: MasterVariant[] = [];
  for (const r of plan.rungs) {
    const s = await variantStats(join(ctx.outDir, r.name, PLAYLIST_NAME));
    const first = s.segments[0];
    const codecs = first && ctx.media.ffprobe ? await segmentCodecs(ctx.media.ffprobe, join(ctx.outDir, r.name, first.uri), ctx.signal) : [];
    stats.set(r.name, { durationSec: s.durationSec, bitrate: Math.round(s.averageBitrate) });
    variants.push({ uri: `${r.name}/${PLAYLIST_NAME}`, bandwidth: s.peakBitrate, averageBandwidth: s.averageBitrate, width: r.width, height: r.height, frameRate: plan.fps, codecs });
  }
  await writeFile(join(ctx.outDir, "master.m3u8"), masterPlaylist(variants));
  return stats;
}

export const videoPipeline: Pipeline<typeof VideoOptions, ResolvedVideoOptions> = {
  type: "video",
  options: VideoOptions,
  defaults: videoDefaults,
  accepts: ["video"],
  async run(ctx) {
    const startedAt = Date.now();
    const { ffmpeg, probe } = await probeForJob(ctx, ["video"]);
    const plan = buildVideoPlan(probe, ctx.options, ctx.input, ctx.inputProtocols, ctx.outDir);
    ctx.progress({ progress: 1, renditions: Object.fromEntries(plan.rungs.map((r) => [r.name, 0])) });

    await runLadder(ctx, plan, startedAt);
    const top = plan.rungs[0]!;
    if (plan.mp4 === "remux") {
      await runJobFfmpeg({
        bin: ffmpeg,
        args: mp4RemuxArgs(join(ctx.outDir, top.name, PLAYLIST_NAME), join(ctx.outDir, "video.mp4")),
        signal: ctx.signal,
        timeoutMs: remainingMs(startedAt, ctx.media.timeoutMs),
        stallMs: ctx.media.stallMs,
        checkTruncation: false,
      });
    }
    if (plan.posterArgs) {
      await runJobFfmpeg({ bin: ffmpeg, args: plan.posterArgs, signal: ctx.signal, timeoutMs: remainingMs(startedAt, ctx.media.timeoutMs), stallMs: ctx.media.stallMs, checkTruncation: false });
    }
    ctx.progress({ progress: LADDER_SHARE + 3 });
    const storyboard = await finishStoryboard(ctx, plan, startedAt);
    ctx.progress({ progress: LADDER_SHARE + 6 });
    const stats = await writeMaster(ctx, plan);

    const topStats = stats.get(top.name);
    const outputs = await listOutputs(ctx.outDir, (name): Partial<OutputFile> => {
      const rung = plan.rungs.find((r) => name === `${r.name}/${PLAYLIST_NAME}`);
      if (rung) return { width: rung.width, height: rung.height, durationSec: stats.get(rung.name)?.durationSec, bitrate: stats.get(rung.name)?.bitrate };
      if (name === "video.mp4" || name === "master.m3u8") return { width: top.width, height: top.height, durationSec: topStats?.durationSec, ...(name === "video.mp4" ? { bitrate: topStats?.bitrate } : {}) };
      if (name === "poster.jpg") return { width: top.width, height: top.height };
      return {};
    });
    ctx.progress({ progress: 100, etaSec: 0, renditions: Object.fromEntries(plan.rungs.map((r) => [r.name, 100])) });
    return {
      outputs,
      result: {
        width: plan.src.width,
        height: plan.src.height,
        durationSec: plan.src.durationSec,
        fps: plan.fps,
        remuxed: top.copy,
        deinterlaced: plan.src.interlaced,
        rotation: plan.src.rotation,
        renditions: plan.rungs.map((r) => ({ name: r.name, width: r.width, height: r.height, maxrateKbps: r.maxrateKbps, copy: r.copy, bitrate: stats.get(r.name)?.bitrate ?? null })),
        storyboard: storyboard && plan.storyboard ? { tiles: storyboard.tiles, intervalSec: plan.storyboard.intervalSec, method: ctx.options.storyboardMethod } : null,
        // No poster only when the probed duration overstated the stream; the job is still useful without it.
        posterAtSec: existsSync(join(ctx.outDir, "poster.jpg")) ? plan.posterAtSec : null,
        probe,
      },
    };
  },
};
