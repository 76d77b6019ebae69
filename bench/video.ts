// Issue 3 benchmark "video": the 4-rung ladder of a 20 s 1080p clip through the node vs
// the same single ffmpeg command run directly (same argv, from the job's own pure builder),
// and vs four separate ffmpeg runs, one per rung (the common way).
import { mkdirSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { buildVideoPlan, SEGMENT_PATTERN, PLAYLIST_NAME, STORYBOARD_FRAMES_DIR, x264RungArgs } from "../src/jobs/video/args";
import { videoDefaults } from "../src/jobs/video/options";
import { probeFile } from "../src/media/probe";
import { startTestNode } from "../tests/helpers/server";
import { benchDir, makeClip, run as sh } from "./lib/media";
import { timed } from "./lib/pool";
import { timeJob } from "./lib/node-jobs";
import type { Result } from "./lib/result";

// remux off: the clip would otherwise fit the 1080p rung and be copied, not encoded.
const OPTIONS = { remux: false };

export async function run(): Promise<Result> {
  const tmp = benchDir("video");
  const load0 = loadavg()[0]!;
  try {
    const clip = join(tmp.path, "clip.mp4");
    await makeClip(clip, 20);
    const probe = await probeFile("ffprobe", clip, {});
    const o = videoDefaults(OPTIONS);

    /** The job's own ladder argv, run by hand into a fresh folder. */
    const single = async (tag: string) => {
      const out = join(tmp.path, tag);
      const plan = buildVideoPlan(probe, o, clip, "file", out);
      for (const r of plan.rungs) mkdirSync(join(out, r.name), { recursive: true });
      if (plan.storyboard) mkdirSync(join(out, STORYBOARD_FRAMES_DIR), { recursive: true });
      const t = await timed(() => sh(["ffmpeg", "-y", ...plan.args]));
      rmSync(out, { recursive: true, force: true });
      return { sec: t.wallSec, cpuSec: t.cpuSec, plan };
    };

    /** One ffmpeg per rung: decode, scale, encode with the same x264 and HLS settings. */
    const separate = () => timed(async () => {
      const out = join(tmp.path, "separate");
      const plan = buildVideoPlan(probe, o, clip, "file", out);
      for (const r of plan.rungs) {
        mkdirSync(join(out, r.name), { recursive: true });
        await sh([
          "ffmpeg", "-y", "-loglevel", "error", "-i", clip,
          "-map", `0:${plan.src.videoIndex}`, "-vf", `scale=${r.width}:${r.height},setsar=1,format=yuv420p`,
          ...x264RungArgs(0, r, o, plan.keyint),
          ...(plan.src.audioIndex !== null ? ["-map", `0:${plan.src.audioIndex}`, "-c:a", "aac", "-b:a", `${r.audioKbps}k`, "-ac", "2", "-ar", "48000"] : []),
          "-f", "hls", "-hls_time", String(o.segmentSec), "-hls_playlist_type", "vod", "-hls_flags", "independent_segments",
          "-hls_segment_filename", join(out, r.name, SEGMENT_PATTERN), join(out, r.name, PLAYLIST_NAME),
        ]);
      }
      rmSync(out, { recursive: true, force: true });
    });

    // Warm the page cache and the binaries once (not timed).
    await sh(["ffmpeg", "-v", "error", "-i", clip, "-f", "null", "-t", "2", "-"]);

    const node = await startTestNode({ MEDIANODE_ROLES: "api,worker", MEDIANODE_CONCURRENCY: "video=1", MEDIANODE_IMPORT_DIRS: tmp.path });
    let a1: Awaited<ReturnType<typeof single>>, a2: Awaited<ReturnType<typeof single>>;
    let sepRun: Awaited<ReturnType<typeof separate>>;
    let nodeT: { value: Awaited<ReturnType<typeof timeJob>>; wallSec: number; cpuSec: number };
    try {
      // The direct command runs before and after the others; the mean is the reference.
      a1 = await single("direct1");
      sepRun = await separate();
      nodeT = await timed(() => timeJob(node, { type: "video", source: { path: clip }, options: OPTIONS }));
      a2 = await single("direct2");
    } finally {
      await node.stop();
    }
    const nodeRun = nodeT.value;
    const sep = sepRun.wallSec;
    const directCpu = (a1.cpuSec + a2.cpuSec) / 2;
    const direct = (a1.sec + a2.sec) / 2;
    const rungs = a1.plan.rungs.map((r) => `${r.name} ${r.width}x${r.height}${r.copy ? " (copy)" : ""}`).join(", ");
    const outputs = (nodeRun.job.outputs as { name: string }[]).map((x) => x.name);
    return {
      name: "video",
      description:
        `20 s 1080p30 H.264/AAC clip (lavfi testsrc2 + sine), video job with options ${JSON.stringify(OPTIONS)} (rungs: ${rungs}; HLS 6 s, poster and fps storyboard branches in the same run, MP4 remuxed from the top rung). ` +
        `Node: api+worker in this process, JSON submit with a {path} source inside MEDIANODE_IMPORT_DIRS, clock from POST to completed (GET polled every 50 ms). ` +
        `Direct: the argv from src/jobs/video/args.ts buildVideoPlan run by hand, first and last (mean). Separate: four ffmpeg runs, one per rung, same x264/HLS settings, ladder only (no poster/storyboard).`,
      metrics: [
        { label: "node job wall", value: nodeRun.wallSec, unit: "s" },
        { label: "direct single command (mean)", value: direct, unit: "s" },
        { label: "four separate runs", value: sep, unit: "s" },
        { label: "node CPU (process + ffmpeg/ffprobe children)", value: nodeT.cpuSec, unit: "s" },
        { label: "direct single command CPU (mean)", value: directCpu, unit: "s" },
        { label: "four separate runs CPU", value: sepRun.cpuSec, unit: "s" },
      ],
      ratios: [
        { label: "node/direct wall", value: nodeRun.wallSec / direct, target: { op: "<=", value: 1.05 } },
        { label: "separate/single speedup (wall)", value: sep / direct },
        { label: "node/direct CPU", value: nodeT.cpuSec / directCpu },
        { label: "separate/single CPU", value: sepRun.cpuSec / directCpu },
      ],
      notes: [
        `Order: direct, separate, node, direct. Direct passes ${a1.sec.toFixed(2)} s and ${a2.sec.toFixed(2)} s around the node's ${nodeRun.wallSec.toFixed(2)} s (api-recorded run ${nodeRun.runSec?.toFixed(2) ?? "?"} s).`,
        `The node adds the intake ffprobe, the in-job probe, the MP4 remux, the sprite, the master playlist (one ffprobe per rung for CODECS) and the job plumbing.`,
        `Separate runs decode the source four times and write no poster/storyboard, the single run decodes once and writes both: the speedup is conservative.`,
        `Node outputs: ${outputs.length} files (${outputs.filter((n) => !n.includes("seg_")).join(", ")} + segments).`,
        `CPU is utime+stime of this process and its reaped children (/proc/self/stat), steadier than wall time when other sessions load the machine. Load average at start ${load0.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)}.`,
      ],
      details: { direct1Sec: a1.sec, direct2Sec: a2.sec, direct1Cpu: a1.cpuSec, direct2Cpu: a2.cpuSec, nodeCpu: nodeT.cpuSec, separateCpu: sepRun.cpuSec, nodeSec: nodeRun.wallSec, nodeRunSec: nodeRun.runSec, separateSec: sep, argv: a1.plan.args.map((x) => x.replace(tmp.path, "$TMP")) },
    };
  } finally {
    tmp.remove();
  }
}
