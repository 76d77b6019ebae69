// audio: probe, then ONE ffmpeg run: every rendition file, the optional audio-only HLS
// ladder and the waveform PCM from a single decode; then waveform.json and master.m3u8.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { masterPlaylist, segmentCodecs, variantStats, type MasterVariant } from "../../media/hls";
import { probeForJob } from "../probe-input";
import type { Pipeline } from "../pipeline";
import type { OutputFile } from "../schema";
import { remainingMs, runJobFfmpeg } from "../../media/job-ffmpeg";
import { listOutputs } from "../../storage/output-files";
import { buildAudioPlan, TAGS_FILE, WAVEFORM_PCM, WAVEFORM_RATE } from "./args";
import { AudioOptions, audioDefaults, type ResolvedAudioOptions } from "./options";
import { waveformFromPcm } from "./waveform";

export const audioPipeline: Pipeline<typeof AudioOptions, ResolvedAudioOptions> = {
  type: "audio",
  options: AudioOptions,
  defaults: audioDefaults,
  // A video's sound track is audio too (an audio stream is required).
  accepts: ["audio", "video"],
  async run(ctx) {
    const startedAt = Date.now();
    const { ffmpeg, ffprobe, probe } = await probeForJob(ctx, ["audio", "video"]);
    const plan = buildAudioPlan(probe, ctx.options, ctx.input, ctx.inputProtocols, ctx.outDir);
    if (plan.tagsText) await writeFile(join(ctx.outDir, TAGS_FILE), plan.tagsText);
    for (const r of plan.hlsRungs) await mkdir(join(ctx.outDir, r.name), { recursive: true });
    ctx.progress({ progress: 1 });

    await runJobFfmpeg({
      bin: ffmpeg,
      args: plan.args,
      signal: ctx.signal,
      timeoutMs: remainingMs(startedAt, ctx.media.timeoutMs),
      stallMs: ctx.media.stallMs,
      durationSec: plan.src.durationSec,
      onProgress: (p) => ctx.progress({ progress: ((p.percent ?? 0) * 95) / 100, ...(p.etaSec !== null ? { etaSec: Math.round(p.etaSec) } : {}) }),
    });
    await rm(join(ctx.outDir, TAGS_FILE), { force: true });

    let waveformPoints: number | null = null;
    if (ctx.options.waveform) {
      const pcm = join(ctx.outDir, WAVEFORM_PCM);
      const wf = await waveformFromPcm(Bun.file(pcm), WAVEFORM_RATE, ctx.options.waveformPoints);
      await writeFile(join(ctx.outDir, "waveform.json"), JSON.stringify(wf));
      await rm(pcm, { force: true });
      waveformPoints = wf.length;
    }

    const hlsStats = new Map<string, { durationSec: number; bitrate: number }>();
    if (plan.hlsRungs.length) {
      const variants: MasterVariant[] = [];
      for (const r of plan.hlsRungs) {
        const s = await variantStats(join(ctx.outDir, r.name, "index.m3u8"));
        const first = s.segments[0];
        const codecs = first ? await segmentCodecs(ffprobe, join(ctx.outDir, r.name, first.uri), ctx.signal) : [];
        hlsStats.set(r.name, { durationSec: s.durationSec, bitrate: Math.round(s.averageBitrate) });
        variants.push({ uri: `${r.name}/index.m3u8`, bandwidth: s.peakBitrate, averageBandwidth: s.averageBitrate, codecs: codecs.length ? codecs : ["mp4a.40.2"] });
      }
      await writeFile(join(ctx.outDir, "master.m3u8"), masterPlaylist(variants));
    }

    const duration = probe.durationSec ?? undefined;
    const outputs = await listOutputs(ctx.outDir, (name): Partial<OutputFile> => {
      const f = plan.files.find((x) => x.name === name);
      if (f) return { mime: f.mime, durationSec: duration, bitrate: f.bitrateKbps * 1000 };
      const rung = plan.hlsRungs.find((r) => name === `${r.name}/index.m3u8`);
      if (rung) return { durationSec: hlsStats.get(rung.name)?.durationSec, bitrate: hlsStats.get(rung.name)?.bitrate };
      if (name === "master.m3u8") return { durationSec: duration };
      return {};
    });
    ctx.progress({ progress: 100, etaSec: 0 });
    return {
      outputs,
      result: {
        durationSec: probe.durationSec,
        channels: Math.min(2, plan.src.channels),
        sampleRate: ctx.options.sampleRate,
        normalized: ctx.options.normalize,
        coverArt: plan.files.some((f) => f.withCover) ? "kept" : plan.src.coverIndex !== null ? "dropped" : "none",
        tags: Object.fromEntries(Object.entries(probe.tags ?? {}).filter(([k]) => ["title", "artist", "album"].includes(k))),
        renditions: plan.files.map((f) => ({ name: f.name, codec: f.codec, bitrateKbps: f.bitrateKbps, cover: f.withCover })),
        hls: plan.hlsRungs.length ? plan.hlsRungs.map((r) => r.name) : null,
        waveformPoints,
        probe,
      },
    };
  },
};
