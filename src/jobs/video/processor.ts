// video: probe, then ONE ffmpeg run for the whole ladder (HLS rungs + poster + storyboard
// tiles), then cheap finishing steps side by side: MP4 remux of the top rung (stream copy),
// the sprite + VTT, and the master playlist (written here, with CODECS; see media/hls.ts).
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { masterPlaylist, segmentCodecs, variantStats, type MasterVariant } from "../../media/hls";
import { readSegmentAvcCodec } from "../../media/avc-codec";
import { probeHdrMetadata } from "../../media/hdr";
import { readInitVideoCodec } from "../../media/mp4-codec";
import { composeSprite } from "../../media/sprite";
import { probeForJob } from "../probe-input";
import type { Pipeline, ProcessorContext } from "../pipeline";
import type { OutputFile } from "../schema";
import { AAC_LC_CODEC, buildVideoPlan, mp4RemuxArgs, PLAYLIST_NAME, STORYBOARD_FRAMES_DIR, type VideoPlan } from "./args";
import { describeVideoSource, type Rung } from "./ladder";
import { remainingMs, runJobFfmpeg } from "../../media/job-ffmpeg";
import { VideoOptions, videoDefaults, type ResolvedVideoOptions } from "./options";
import { videoRequirement } from "./encoders";
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
      args: storyboardKeyframeArgs(ctx.input, ctx.inputProtocols, plan.src, sb, join(dir, "%05d.jpg"), plan.sdrChain),
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

/**
 * CODECS of one rung. An encoded rung's video string comes from the SPS x264 wrote (read from
 * the first segment in-process) and its audio is our AAC-LC encode; a copied rung carries the
 * source's streams, so ffprobe reads it (as it does when no SPS is found).
 */
async function rungCodecs(ctx: Ctx, plan: VideoPlan, rung: Rung, segment: string, init: string | null): Promise<string[]> {
  if (!rung.copy) {
    // fMP4 (hevc, av1, vp9): the init segment's sample description; TS: the first SPS.
    const video = init ? await readInitVideoCodec(init) : await readSegmentAvcCodec(segment);
    if (video) return plan.src.audioIndex !== null ? [video, AAC_LC_CODEC] : [video];
  }
  return ctx.media.ffprobe ? await segmentCodecs(ctx.media.ffprobe, segment, ctx.signal) : [];
}

/** VIDEO-RANGE: said for every rung of an HDR source (PQ/HLG when kept, SDR when tone-mapped); omitted for SDR sources as before. */
function videoRange(plan: VideoPlan): MasterVariant["videoRange"] {
  if (plan.hdr === "keep") return plan.src.hdr!.transfer === "pq" ? "PQ" : "HLG";
  return plan.hdr === "tonemap" ? "SDR" : undefined;
}

async function writeMaster(ctx: Ctx, plan: VideoPlan): Promise<Map<string, { durationSec: number; bitrate: number }>> {
  const stats = new Map<string, { durationSec: number; bitrate: number }>();
  const variants = await Promise.all(
    plan.rungs.map(async (r): Promise<MasterVariant> => {
      const s = await variantStats(join(ctx.outDir, r.name, PLAYLIST_NAME));
      const first = s.segments[0];
      const codecs = first ? await rungCodecs(ctx, plan, r, join(ctx.outDir, r.name, first.uri), s.initUri ? join(ctx.outDir, r.name, s.initUri) : null) : [];
      stats.set(r.name, { durationSec: s.durationSec, bitrate: Math.round(s.averageBitrate) });
      return { uri: `${r.name}/${PLAYLIST_NAME}`, bandwidth: s.peakBitrate, averageBandwidth: s.averageBitrate, width: r.width, height: r.height, frameRate: plan.fps, codecs, videoRange: videoRange(plan) };
    }),
  );
  await writeFile(join(ctx.outDir, "master.m3u8"), masterPlaylist(variants));
  return stats;
}

/** video.mp4 (remux of the top rung) and the fast-seek poster, when the ladder run did not write them. */
async function finishMp4AndPoster(ctx: Ctx, plan: VideoPlan, startedAt: number): Promise<void> {
  const run = (args: string[]) =>
    runJobFfmpeg({ bin: ctx.media.ffmpeg!, args, signal: ctx.signal, timeoutMs: remainingMs(startedAt, ctx.media.timeoutMs), stallMs: ctx.media.stallMs, checkTruncation: false });
  if (plan.mp4 === "remux") await run(mp4RemuxArgs(join(ctx.outDir, plan.rungs[0]!.name, PLAYLIST_NAME), join(ctx.outDir, "video.mp4"), plan.codec));
  if (plan.posterArgs) await run(plan.posterArgs);
}

/** Runs independent steps side by side; waits for all (none is left writing) and rethrows the first failure. */
async function allSettled<T extends unknown[]>(steps: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(steps);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as T;
}

export const videoPipeline: Pipeline<typeof VideoOptions, ResolvedVideoOptions> = {
  type: "video",
  options: VideoOptions,
  defaults: videoDefaults,
  requires: videoRequirement,
  accepts: ["video"],
  async run(ctx) {
    const startedAt = Date.now();
    const { probe, ffprobe } = await probeForJob(ctx, ["video"]);
    const src = describeVideoSource(probe);
    // HDR sources: mastering display / content light level live in the first frame's SEI (one more ffprobe, of one frame).
    const hdrMetadata = src.hdr ? await probeHdrMetadata(ffprobe, ctx.input, src.videoIndex, { protocols: ctx.inputProtocols, signal: ctx.signal }) : {};
    const plan = buildVideoPlan(probe, ctx.options, ctx.input, ctx.inputProtocols, ctx.outDir, { hwEncoders: ctx.media.hwEncoders ?? [], hdrMetadata });
    ctx.progress({ progress: 1, renditions: Object.fromEntries(plan.rungs.map((r) => [r.name, 0])) });

    await runLadder(ctx, plan, startedAt);
    const top = plan.rungs[0]!;
    // The finishing steps read the ladder's outputs and not each other's: the MP4 remux
    // (ffmpeg, I/O-bound), the sprite (libvips) and the master playlist run side by side.
    ctx.progress({ progress: LADDER_SHARE });
    const [, storyboard, stats] = await allSettled<[void, { tiles: number } | null, Map<string, { durationSec: number; bitrate: number }>]>([
      finishMp4AndPoster(ctx, plan, startedAt),
      finishStoryboard(ctx, plan, startedAt),
      writeMaster(ctx, plan),
    ]);

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
        codec: plan.codec,
        encoder: plan.encoder,
        hwaccel: plan.hwaccel,
        hwDecode: plan.hwDecode,
        hdr: plan.src.hdr ? { ...plan.src.hdr, mode: plan.hdr, ...hdrMetadata } : null,
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
