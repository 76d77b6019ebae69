// One-command hardware check (bench/hw-check.sh): on a machine with a usable GPU/iGPU device,
// runs the real video ladder argv of every hardware encoder family the device has (h264, hevc,
// av1 on nvenc / vaapi / qsv, from src/jobs/video/encoders.ts), next to the software ladder, and
// checks each output rung's codec and size with ffprobe. Without a device it says so and exits 0.
import { mkdirSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { buildVideoPlan } from "../src/jobs/video/args";
import { CODECS, HW_DEVICE, HW_METHODS } from "../src/jobs/video/encoders";
import { videoDefaults, type VideoCodec } from "../src/jobs/video/options";
import { ffmpegEncoders, ffmpegHwaccels } from "../src/media/binaries";
import { usableEncoders, usableHwaccels } from "../src/media/hardware";
import { probeFile } from "../src/media/probe";
import { benchDir, makeClip, run as sh } from "./lib/media";

const ffmpeg = Bun.which("ffmpeg");
if (!ffmpeg) {
  console.error("hw-check: ffmpeg not found (apt-get install -y ffmpeg)");
  process.exit(1);
}
const listed = await ffmpegHwaccels(ffmpeg);
const usable = await usableHwaccels(ffmpeg, listed);
const encoders = usableEncoders(await ffmpegEncoders(ffmpeg), usable);
const families = HW_METHODS.flatMap((m) =>
  (Object.keys(CODECS) as VideoCodec[]).flatMap((codec) => {
    const name = CODECS[codec].hardware[m];
    return name && usable.includes(HW_DEVICE[m]) && encoders.includes(name) ? [{ method: m, codec, name }] : [];
  }),
);
console.log(`ffmpeg lists hwaccels: ${listed.join(", ") || "none"}; devices that come up: ${usable.join(", ") || "none"}`);
if (!families.length) {
  console.log("hw-check: NO usable hardware device (cuda/vaapi/qsv) on this machine: nothing to check; jobs here encode in software (hwaccel auto falls back).");
  process.exit(0);
}

const tmp = benchDir("hw-check");
let failed = 0;
try {
  const clip = join(tmp.path, "clip.mp4");
  await makeClip(clip, Number(process.env.HW_CHECK_SEC ?? 10));
  const probe = await probeFile("ffprobe", clip, {});
  const ladder = async (label: string, codec: VideoCodec, hwaccel: "none" | "nvenc" | "vaapi" | "qsv") => {
    const out = join(tmp.path, label);
    const plan = buildVideoPlan(probe, videoDefaults({ codec, hwaccel, remux: false, storyboard: false }), clip, "file", out, { hwEncoders: encoders, hdrMetadata: {} });
    for (const r of plan.rungs) mkdirSync(join(out, r.name), { recursive: true });
    const t0 = performance.now();
    try {
      await sh([ffmpeg, "-y", ...plan.args]);
      const sec = (performance.now() - t0) / 1000;
      for (const [i, r] of plan.rungs.entries()) {
        // fMP4 rungs: ffmpeg names each variant's init segment init_<index>.mp4.
        const p = await probeFile("ffprobe", join(out, r.name, plan.segments === "fmp4" ? `init_${i}.mp4` : "seg_000.ts"), {}).catch(() => null);
        const v = p?.streams.find((s) => s.type === "video");
        const ok = v?.codec === codec && v.height === r.height;
        if (!ok) failed++;
        console.log(`  ${label} ${r.name}: ${ok ? "ok" : "WRONG"} (${v?.codec ?? "?"} ${v?.width ?? "?"}x${v?.height ?? "?"})`);
      }
      console.log(`${label}: ${plan.encoder}${plan.hwDecode ? " + hardware decode" : ""}, ${plan.rungs.length} rungs in ${sec.toFixed(2)} s`);
      return sec;
    } catch (e) {
      failed++;
      console.log(`${label}: FAILED ${(e as Error).message.split("\n").slice(-3).join(" ")}`);
      return null;
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  };
  for (const f of families) {
    const hw = await ladder(`${f.name}`, f.codec, f.method);
    const sw = await ladder(`${CODECS[f.codec].software}`, f.codec, "none");
    if (hw && sw) console.log(`  ${f.name} / software wall: ${(hw / sw).toFixed(2)}`);
  }
  console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
} finally {
  tmp.remove();
}
process.exit(failed ? 1 : 0);
