// Issue 3 benchmark "audio": the default audio job (aac 128k, mp3 192k, opus 96k and the
// waveform, all from one decode) through the node vs the same single ffmpeg command run
// directly, and vs three separate raw commands (one per rendition, no waveform).
import { mkdirSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { buildAudioPlan } from "../src/jobs/audio/args";
import { audioDefaults } from "../src/jobs/audio/options";
import { probeFile } from "../src/media/probe";
import { startTestNode } from "../tests/helpers/server";
import { benchDir, makeAudio, run as sh } from "./lib/media";
import { jobEvents, timeJob } from "./lib/node-jobs";
import { timed } from "./lib/pool";
import type { Result } from "./lib/result";

const SOURCE_SEC = Number(process.env.BENCH_AUDIO_SEC ?? 300);

export async function run(): Promise<Result> {
  const tmp = benchDir("audio");
  const load0 = loadavg()[0]!;
  try {
    const src = join(tmp.path, "music.flac");
    await makeAudio(src, SOURCE_SEC);
    const probe = await probeFile("ffprobe", src, {});
    const o = audioDefaults({});

    const single = (tag: string) =>
      timed(async () => {
        const out = join(tmp.path, tag);
        mkdirSync(out, { recursive: true });
        const plan = buildAudioPlan(probe, o, src, "file", out);
        if (plan.tagsText) await Bun.write(join(out, ".tags.ffmeta"), plan.tagsText);
        await sh(["ffmpeg", "-y", ...plan.args]);
        rmSync(out, { recursive: true, force: true });
        return plan;
      });

    // The common way: one command per file, each decoding the source again.
    const separate = () =>
      timed(async () => {
        const out = join(tmp.path, "separate");
        mkdirSync(out, { recursive: true });
        const pre = ["-af", "aresample=48000,aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo", "-map_metadata", "-1"];
        await sh(["ffmpeg", "-y", "-loglevel", "error", "-i", src, "-vn", ...pre, "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", join(out, "a.m4a")]);
        await sh(["ffmpeg", "-y", "-loglevel", "error", "-i", src, "-vn", ...pre, "-c:a", "libmp3lame", "-b:a", "192k", join(out, "a.mp3")]);
        await sh(["ffmpeg", "-y", "-loglevel", "error", "-i", src, "-vn", ...pre, "-c:a", "libopus", "-b:a", "96k", "-vbr", "on", join(out, "a.opus")]);
        rmSync(out, { recursive: true, force: true });
      });

    await sh(["ffmpeg", "-v", "error", "-i", src, "-f", "null", "-t", "5", "-"]);
    const node = await startTestNode({ MEDIANODE_ROLES: "api,worker,monitor", MEDIANODE_CONCURRENCY: "audio=1", MEDIANODE_IMPORT_DIRS: tmp.path });
    let a1, a2, sep, nodeT;
    const events = await jobEvents(node);
    try {
      a1 = await single("direct1");
      sep = await separate();
      nodeT = await timed(() => timeJob(node, events, { type: "audio", source: { path: src } }));
      a2 = await single("direct2");
    } finally {
      events.close();
      await node.stop();
    }
    const directWall = (a1.wallSec + a2.wallSec) / 2;
    const directCpu = (a1.cpuSec + a2.cpuSec) / 2;
    const outputs = (nodeT.value.job.outputs as { name: string }[]).map((x) => x.name);
    return {
      name: "audio",
      description:
        `${SOURCE_SEC} s stereo 48 kHz FLAC (lavfi sine + pink noise), audio job with default options (${o.renditions.map((r) => `${r.codec} ${r.bitrateKbps}k`).join(", ")}, waveform ${o.waveformPoints} points, no loudnorm, no HLS). ` +
        `Node: api+worker in this process, JSON submit with a {path} source, clock from POST to the job.completed event on the node's /v1/events stream. Direct: the argv from src/jobs/audio/args.ts buildAudioPlan run by hand, first and last (mean). Separate: one raw ffmpeg per rendition (no waveform). Order: direct, separate, node, direct.`,
      metrics: [
        { label: "node job wall", value: nodeT.wallSec, unit: "s" },
        { label: "direct single command (mean)", value: directWall, unit: "s" },
        { label: "three separate commands", value: sep.wallSec, unit: "s" },
        { label: "node CPU (process + children)", value: nodeT.cpuSec, unit: "s" },
        { label: "direct CPU (mean)", value: directCpu, unit: "s" },
        { label: "separate CPU", value: sep.cpuSec, unit: "s" },
      ],
      ratios: [
        { label: "node/direct wall", value: nodeT.wallSec / directWall, target: { op: "<=", value: 1.05 } },
        { label: "node/direct CPU", value: nodeT.cpuSec / directCpu },
        { label: "separate/single wall", value: sep.wallSec / directWall },
      ],
      notes: [
        `Direct passes ${a1.wallSec.toFixed(2)} s and ${a2.wallSec.toFixed(2)} s around the node's ${nodeT.wallSec.toFixed(2)} s (api-recorded run ${nodeT.value.runSec?.toFixed(2) ?? "?"} s; the rest is intake ffprobe, queueing and recording).`,
        `Node outputs: ${outputs.join(", ")}.`,
        `Load average at start ${load0.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)}.`,
      ],
      details: { direct1: a1.wallSec, direct2: a2.wallSec, direct1Cpu: a1.cpuSec, direct2Cpu: a2.cpuSec, node: nodeT.wallSec, nodeCpu: nodeT.cpuSec, separate: sep.wallSec, separateCpu: sep.cpuSec },
    };
  } finally {
    tmp.remove();
  }
}
