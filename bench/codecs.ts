// Issue 16 benchmark "codecs": the hevc and av1 ladders through the video pipeline against the
// raw ffmpeg command with the same arguments (the argv from buildVideoPlan, then the same MP4
// remux), same run; a tone-mapped ladder (HLG source) against the plain ladder of the same SDR
// pattern; and HEIC photos/s through the image pipeline against libheif's own CLI.
import { mkdirSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { buildVideoPlan, mp4RemuxArgs, PLAYLIST_NAME } from "../src/jobs/video/args";
import { videoDefaults, type ResolvedVideoOptions, type VideoCodec, type VideoOptionsInput } from "../src/jobs/video/options";
import { videoPipeline } from "../src/jobs/video/processor";
import { imageDefaults } from "../src/jobs/image/options";
import { imagePipeline } from "../src/jobs/image/processor";
import { findHeifConvert } from "../src/media/heif";
import { probeFile } from "../src/media/probe";
import { corpus } from "../tests/helpers/corpus";
import { hdrClip } from "../tests/helpers/hdr";
import { lavfiClip, makeCtx } from "../tests/helpers/media";
import { benchDir, run as sh } from "./lib/media";
import { timed } from "./lib/pool";
import type { Result } from "./lib/result";

const SEC = Number(process.env.BENCH_CODECS_SEC ?? 4);
const PASSES = Number(process.env.BENCH_CODECS_PASSES ?? 2);
const LADDER: VideoOptionsInput = { renditions: [720, 360], preset: "superfast", remux: false };

export async function run(): Promise<Result> {
  const tmp = benchDir("codecs");
  const load0 = loadavg()[0]!;
  let n = 0;
  const fresh = () => {
    const d = join(tmp.path, `o${++n}`);
    mkdirSync(d, { recursive: true });
    return d;
  };
  try {
    const sdr = lavfiClip(join(tmp.path, "sdr.mp4"), { durationSec: SEC, width: 1280, height: 720 });
    const hlg = hdrClip(join(tmp.path, "hlg.mp4"), "hlg", { width: 1280, height: 720, durationSec: SEC });

    /** The pipeline in this process (probe, HDR frame probe, ladder, post-steps, master). */
    const node = (input: string, o: VideoOptionsInput) =>
      timed(async () => {
        const out = fresh();
        await videoPipeline.run(makeCtx<ResolvedVideoOptions>(input, videoDefaults(o), out));
        rmSync(out, { recursive: true, force: true });
      });
    /** The raw command: the same argv, then the same MP4 remux. */
    const raw = async (input: string, o: VideoOptionsInput) => {
      const probe = await probeFile("ffprobe", input, {});
      const out = fresh();
      const plan = buildVideoPlan(probe, videoDefaults(o), input, "file", out);
      for (const r of plan.rungs) mkdirSync(join(out, r.name), { recursive: true });
      mkdirSync(join(out, ".storyboard"), { recursive: true });
      const t = await timed(async () => {
        await sh(["ffmpeg", "-y", ...plan.args]);
        await sh(["ffmpeg", "-y", ...mp4RemuxArgs(join(out, plan.rungs[0]!.name, PLAYLIST_NAME), join(out, "video.mp4"), plan.codec)]);
      });
      rmSync(out, { recursive: true, force: true });
      return t;
    };
    const pair = async (input: string, o: VideoOptionsInput) => {
      const nodes: number[] = [];
      const raws: number[] = [];
      const nodeCpu: number[] = [];
      const rawCpu: number[] = [];
      for (let i = 0; i < PASSES; i++) {
        const a = await raw(input, o);
        const b = await node(input, o);
        raws.push(a.wallSec);
        rawCpu.push(a.cpuSec);
        nodes.push(b.wallSec);
        nodeCpu.push(b.cpuSec);
      }
      const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
      return { node: mean(nodes), raw: mean(raws), nodeCpu: mean(nodeCpu), rawCpu: mean(rawCpu) };
    };

    await sh(["ffmpeg", "-v", "error", "-i", sdr, "-f", "null", "-"]); // warm
    const codecs: Record<string, Awaited<ReturnType<typeof pair>>> = {};
    for (const codec of ["hevc", "av1"] as VideoCodec[]) codecs[codec] = await pair(sdr, { ...LADDER, codec });
    const plain = await pair(sdr, LADDER);
    const mapped = await pair(hlg, LADDER);

    // HEIC: the corpus photo N times, one at a time (an image slot), pipeline vs heif-convert alone.
    const heif = findHeifConvert();
    const photos = Number(process.env.BENCH_HEIC_PHOTOS ?? 10);
    const heic = corpus("image-heic-hevc-1080x1920.heic").path;
    const media = { ...makeCtx("", {}, tmp.path).media, heifConvert: heif };
    const pipe = await timed(async () => {
      for (let i = 0; i < photos; i++) {
        const out = fresh();
        await imagePipeline.run({ jobId: "b", input: heic, inputProtocols: "file", outDir: out, options: imageDefaults({}), media, signal: new AbortController().signal, progress: () => {} });
        rmSync(out, { recursive: true, force: true });
      }
    });
    const cli = await timed(async () => {
      for (let i = 0; i < photos; i++) await sh([heif!, "--quiet", heic, join(tmp.path, `cli-${i}.png`)]);
    });

    const f = (x: number) => x.toFixed(2);
    return {
      name: "codecs",
      description:
        `Issue 16. ${SEC} s 720p30 lavfi clip, ladder ${JSON.stringify(LADDER)} with poster and fps storyboard, ${PASSES} passes each side alternating (raw first). ` +
        `Node: videoPipeline.run in this process (ffprobe, ladder run, MP4 remux + sprite + master side by side). Raw: the same buildVideoPlan argv run by ffmpeg, then the same MP4 remux argv. ` +
        `Tone-mapped: an HLG copy of the same pattern (zscale + libx265 10-bit) through the default h264 ladder (zscale + mobius tonemap before the split), against the SDR clip's plain ladder. ` +
        `HEIC: the corpus 1080x1920 HEIC ${photos}× sequentially through the image pipeline (heif-convert → PNG → sharp: thumb 256 + preview 1440 webp + thumbhash) vs heif-convert → PNG alone.`,
      metrics: [
        ...Object.entries(codecs).flatMap(([c, r]) => [
          { label: `${c} ladder, node (mean)`, value: r.node, unit: "s" },
          { label: `${c} ladder, raw ffmpeg (mean)`, value: r.raw, unit: "s" },
        ]),
        { label: "h264 ladder, SDR source, node", value: plain.node, unit: "s" },
        { label: "h264 ladder, HLG source tone-mapped, node", value: mapped.node, unit: "s" },
        { label: "HEIC photos/s, image pipeline", value: photos / pipe.wallSec, unit: "photos/s" },
        { label: "HEIC photos/s, heif-convert CLI alone", value: photos / cli.wallSec, unit: "photos/s" },
      ],
      ratios: [
        ...Object.entries(codecs).flatMap(([c, r]) => [
          { label: `${c} node/raw wall`, value: r.node / r.raw, target: { op: "<=" as const, value: 1.05 } },
          { label: `${c} node/raw CPU`, value: r.nodeCpu / r.rawCpu },
        ]),
        { label: "tone-mapped/plain ladder wall (cost of tone mapping)", value: mapped.node / plain.node },
        { label: "tone-mapped/plain ladder CPU", value: mapped.nodeCpu / plain.nodeCpu },
        { label: "HEIC pipeline/CLI photos per second", value: cli.wallSec / pipe.wallSec },
      ],
      notes: [
        `Raw/node CPU (s): ${Object.entries(codecs).map(([c, r]) => `${c} ${f(r.rawCpu)}/${f(r.nodeCpu)}`).join(", ")}; plain ${f(plain.nodeCpu)}, tone-mapped ${f(mapped.nodeCpu)}.`,
        `HEIC CPU: pipeline ${f(pipe.cpuSec)} s, CLI ${f(cli.cpuSec)} s for ${photos} photos; the pipeline's extra is sharp's PNG decode, resize, two webp encodes and the thumbhash.`,
        `CPU is utime+stime of this process and its reaped children. Load average at start ${load0.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)} (2 cores shared with other sessions).`,
      ],
      details: { codecs, plain, mapped, heic: { pipeSec: pipe.wallSec, cliSec: cli.wallSec, photos } },
    };
  } finally {
    tmp.remove();
  }
}
