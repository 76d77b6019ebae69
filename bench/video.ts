// Issue 3 benchmark "video": the 4-rung ladder of a 20 s 1080p clip through the node vs
// the same single ffmpeg command run directly (same argv, from the job's own pure builder,
// plus the same finishing steps, so both sides write the same files), and vs four separate
// ffmpeg runs, one per rung (the common way).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { buildVideoPlan, mp4RemuxArgs, SEGMENT_PATTERN, PLAYLIST_NAME, STORYBOARD_FRAMES_DIR, x264RungArgs } from "../src/jobs/video/args";
import { videoDefaults } from "../src/jobs/video/options";
import { probeFile } from "../src/media/probe";
import { composeSprite } from "../src/media/sprite";
import { spriteLayout, storyboardVtt } from "../src/jobs/video/storyboard";
import { startTestNode } from "../tests/helpers/server";
import { benchDir, makeClip, run as sh } from "./lib/media";
import { timed } from "./lib/pool";
import { jobEvents, timeJob } from "./lib/node-jobs";
import type { Result } from "./lib/result";

// remux off: the clip would otherwise fit the 1080p rung and be copied, not encoded.
const OPTIONS = { remux: false };
/** Node and direct passes each; they alternate (D N N D D N …) so drifting load hits both. */
const PASSES = Number(process.env.BENCH_VIDEO_PASSES ?? 3);

export async function run(): Promise<Result> {
  const tmp = benchDir("video");
  const load0 = loadavg()[0]!;
  try {
    const clip = join(tmp.path, "clip.mp4");
    await makeClip(clip, 20);
    const probe = await probeFile("ffprobe", clip, {});
    const o = videoDefaults(OPTIONS);

    /**
     * The same outputs by hand, with the raw tools: the job's own ladder argv, then the MP4
     * remux argv and the sprite (the same sharp composite) side by side, then the VTT and a
     * master playlist whose CODECS the script knows already (it chose the encoder).
     */
    const single = async (tag: string) => {
      const out = join(tmp.path, tag);
      const plan = buildVideoPlan(probe, o, clip, "file", out);
      for (const r of plan.rungs) mkdirSync(join(out, r.name), { recursive: true });
      if (plan.storyboard) mkdirSync(join(out, STORYBOARD_FRAMES_DIR), { recursive: true });
      let ladderSec = 0;
      const t = await timed(async () => {
        const l0 = performance.now();
        await sh(["ffmpeg", "-y", ...plan.args]);
        ladderSec = (performance.now() - l0) / 1000;
        const top = plan.rungs[0]!;
        const sprite = async () => {
          const sb = plan.storyboard!;
          const dir = join(out, STORYBOARD_FRAMES_DIR);
          const tiles = readdirSync(dir).sort().map((f) => join(dir, f));
          const layout = spriteLayout(tiles.length, sb.tileWidth, sb.tileHeight);
          await composeSprite(tiles, join(out, "storyboard.jpg"), layout);
          writeFileSync(join(out, "storyboard.vtt"), storyboardVtt(tiles.length, layout, sb.intervalSec, plan.src.durationSec));
          rmSync(dir, { recursive: true, force: true });
        };
        await Promise.all([sh(["ffmpeg", "-y", ...mp4RemuxArgs(join(out, top.name, PLAYLIST_NAME), join(out, "video.mp4"))]), sprite()]);
        writeFileSync(join(out, "master.m3u8"), plan.rungs.map((r) => `${r.name}/${PLAYLIST_NAME}`).join("\n"));
      });
      const files = readdirSync(out).sort();
      rmSync(out, { recursive: true, force: true });
      return { sec: t.wallSec, cpuSec: t.cpuSec, ladderSec, plan, files };
    };
    /** The bare ladder (issue 16's baseline): the same one-ffmpeg split + var_stream_map run, libx264 veryfast, AAC, and nothing else. */
    const bare = async (tag: string) => {
      const out = join(tmp.path, tag);
      const plan = buildVideoPlan(probe, videoDefaults({ ...OPTIONS, poster: false, storyboard: false, mp4: false }), clip, "file", out);
      for (const r of plan.rungs) mkdirSync(join(out, r.name), { recursive: true });
      const t = await timed(() => sh(["ffmpeg", "-y", ...plan.args]));
      rmSync(out, { recursive: true, force: true });
      return t;
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

    // Reconcile at serve's production interval (15 s), not the tests' 1 s.
    const node = await startTestNode({ MEDIANODE_ROLES: "api,worker,monitor", MEDIANODE_CONCURRENCY: "video=1", MEDIANODE_IMPORT_DIRS: tmp.path }, { reconcileMs: 15_000 });
    const directs: Awaited<ReturnType<typeof single>>[] = [];
    const bares: Awaited<ReturnType<typeof bare>>[] = [];
    const nodes: { value: Awaited<ReturnType<typeof timeJob>>; wallSec: number; cpuSec: number }[] = [];
    const order: string[] = [];
    let sepRun: Awaited<ReturnType<typeof separate>>;
    const events = await jobEvents(node);
    try {
      // Not timed: the node's first job loads the thread's modules and warms its paths.
      await timeJob(node, events, { type: "video", source: { path: clip }, options: { ...OPTIONS, renditions: [360] } });
      sepRun = await separate();
      for (let i = 0; i < PASSES; i++) {
        const d = async () => (directs.push(await single(`direct${i}`)), bares.push(await bare(`bare${i}`)), order.push("D B"));
        const n = async () => (nodes.push(await timed(() => timeJob(node, events, { type: "video", source: { path: clip }, options: OPTIONS }))), order.push("N"));
        if (i % 2 === 0) (await d(), await n());
        else (await n(), await d());
      }
    } finally {
      events.close();
      await node.stop();
    }
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const direct = sum(directs.map((x) => x.sec)) / directs.length;
    const bareWall = sum(bares.map((x) => x.wallSec)) / bares.length;
    const directCpu = sum(directs.map((x) => x.cpuSec)) / directs.length;
    const nodeWall = sum(nodes.map((x) => x.value.wallSec)) / nodes.length;
    const nodeCpu = sum(nodes.map((x) => x.cpuSec)) / nodes.length;
    const pairRatios = nodes.map((x, i) => x.value.wallSec / directs[i]!.sec).sort((a, b) => a - b);
    const sep = sepRun.wallSec;
    const a1 = directs[0]!;
    const nodeRun = nodes[nodes.length - 1]!.value;
    const rungs = a1.plan.rungs.map((r) => `${r.name} ${r.width}x${r.height}${r.copy ? " (copy)" : ""}`).join(", ");
    const outputs = (nodeRun.job.outputs as { name: string }[]).map((x) => x.name);
    const f2 = (x: number) => x.toFixed(2);
    const pairs = nodes.map((x, i) => `${f2(directs[i]!.sec)}/${f2(x.value.wallSec)}`).join(", ");
    return {
      name: "video",
      description:
        `20 s 1080p30 H.264/AAC clip (lavfi testsrc2 + sine), video job with options ${JSON.stringify(OPTIONS)} (rungs: ${rungs}; HLS 6 s, poster and fps storyboard branches in the same run, MP4 remuxed from the top rung). ` +
        `Node: api+worker in this process, JSON submit with a {path} source inside MEDIANODE_IMPORT_DIRS (intake ffprobe), then the job (probe, the one ffmpeg run, then MP4 remux, sprite + VTT and master playlist side by side), clock from POST to the job.completed event on the node's /v1/events stream (sent once the row is final). ` +
        `Direct: the same outputs by hand with the raw tools: the argv from src/jobs/video/args.ts buildVideoPlan, then its MP4 remux argv and the same sharp sprite side by side, then the VTT and a master playlist (no probe: a script knows what it encoded). ` +
        `${PASSES} passes of each, alternating (${order.join(" ")}), after one untimed node job; figures are means. Separate: four ffmpeg runs, one per rung, same x264/HLS settings, ladder only (no poster/storyboard/MP4), once.`,
      metrics: [
        { label: "node job wall (mean)", value: nodeWall, unit: "s" },
        { label: "direct, same outputs (mean)", value: direct, unit: "s" },
        { label: "bare ladder only (mean)", value: bareWall, unit: "s" },
        { label: "four separate runs", value: sep, unit: "s" },
        { label: "node CPU (process + ffmpeg/ffprobe children, mean)", value: nodeCpu, unit: "s" },
        { label: "direct CPU (mean)", value: directCpu, unit: "s" },
        { label: "four separate runs CPU", value: sepRun.cpuSec, unit: "s" },
      ],
      ratios: [
        { label: "node/direct wall", value: nodeWall / direct, target: { op: "<=", value: 1.05 } },
        { label: "node job/bare ladder wall (issue 16)", value: nodeWall / bareWall, target: { op: "<=", value: 1.05 } },
        { label: "node/direct wall, median of pairs", value: pairRatios[Math.floor(pairRatios.length / 2)]! },
        { label: "separate/single speedup (wall)", value: sep / direct },
        { label: "node/direct CPU", value: nodeCpu / directCpu },
        { label: "separate/single CPU", value: sepRun.cpuSec / directCpu },
      ],
      notes: [
        `Passes (direct/node wall, s): ${pairs}; the direct side's ladder run alone: ${directs.map((x) => f2(x.ladderSec)).join(", ")} s. Node runs as the api recorded them (startedAt → finishedAt): ${nodes.map((x) => x.value.runSec?.toFixed(2) ?? "?").join(", ")} s.`,
        `What the node adds to the direct side's work: the intake ffprobe (during the POST), the in-job ffprobe, reading each rung's SPS for CODECS (a few KiB in-process; ffprobe only for a copied rung), and the job plumbing (SQLite, BullMQ, media thread, recording).`,
        `Separate runs decode the source four times and write no poster/storyboard, the single run decodes once and writes both: the speedup is conservative.`,
        `Node outputs: ${outputs.length} files (${outputs.filter((n) => !n.includes("seg_")).join(", ")} + segments); direct outputs: ${a1.files.join(", ")} (+ folders of segments).`,
        `CPU is utime+stime of this process and its reaped children (/proc/self/stat), steadier than wall time when other sessions load the machine. Load average at start ${load0.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)}.`,
      ],
      details: {
        directSec: directs.map((x) => x.sec), directLadderSec: directs.map((x) => x.ladderSec), directCpu: directs.map((x) => x.cpuSec),
        nodeSec: nodes.map((x) => x.value.wallSec), nodeRunSec: nodes.map((x) => x.value.runSec), nodeCpu: nodes.map((x) => x.cpuSec),
        bareSec: bares.map((x) => x.wallSec), order, separateSec: sep, separateCpu: sepRun.cpuSec, argv: a1.plan.args.map((x) => x.replace(tmp.path, "$TMP")),
      },
    };
  } finally {
    tmp.remove();
  }
}
