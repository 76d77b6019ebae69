// Issue 3 benchmark "storyboard": the keyframe path (-skip_frame nokey + select, a second
// light decode) vs the fps-filter path (every frame decoded), each as a standalone ffmpeg
// run built by src/jobs/video/storyboard.ts, on the same 20 s 1080p clip.
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describeVideoSource } from "../src/jobs/video/ladder";
import { planStoryboard, storyboardFpsArgs, storyboardKeyframeArgs } from "../src/jobs/video/storyboard";
import { probeFile } from "../src/media/probe";
import { benchDir, makeClip, run as sh } from "./lib/media";
import { timed } from "./lib/pool";
import type { Result } from "./lib/result";

const REPEAT = 3;

export async function run(): Promise<Result> {
  const tmp = benchDir("storyboard");
  try {
    const clip = join(tmp.path, "clip.mp4");
    await makeClip(clip, 20);
    const probe = await probeFile("ffprobe", clip, {});
    const src = describeVideoSource(probe);
    const plan = planStoryboard(src, 5, 160);
    const once = (kind: "fps" | "keyframe") =>
      timed(async () => {
        const dir = join(tmp.path, kind);
        mkdirSync(dir, { recursive: true });
        const build = kind === "fps" ? storyboardFpsArgs : storyboardKeyframeArgs;
        await sh(["ffmpeg", "-y", ...build(clip, "file", src, plan, join(dir, "%05d.jpg"))]);
        const tiles = readdirSync(dir).length;
        rmSync(dir, { recursive: true, force: true });
        return tiles;
      });
    await once("fps");
    const fps: { wallSec: number; cpuSec: number; value: number }[] = [];
    const key: typeof fps = [];
    for (let i = 0; i < REPEAT; i++) {
      fps.push(await once("fps"));
      key.push(await once("keyframe"));
    }
    const best = (xs: typeof fps, k: "wallSec" | "cpuSec") => Math.min(...xs.map((x) => x[k]));
    return {
      name: "storyboard",
      description: `Storyboard tiles (every ${plan.intervalSec} s, ${plan.tileWidth}×${plan.tileHeight}) of the 20 s 1080p30 clip (GOP 60): the fps-filter run vs the keyframe run, each alone, best of ${REPEAT} alternating runs. In the video job the fps path is a branch of the ladder's one decode, so its real extra cost there is the scale + JPEG encode only.`,
      metrics: [
        { label: "fps path wall", value: best(fps, "wallSec"), unit: "s" },
        { label: "keyframe path wall", value: best(key, "wallSec"), unit: "s" },
        { label: "fps path CPU", value: best(fps, "cpuSec"), unit: "s" },
        { label: "keyframe path CPU", value: best(key, "cpuSec"), unit: "s" },
      ],
      ratios: [
        { label: "fps/keyframe wall", value: best(fps, "wallSec") / best(key, "wallSec") },
        { label: "fps/keyframe CPU", value: best(fps, "cpuSec") / best(key, "cpuSec") },
      ],
      notes: [`Tiles written: fps ${fps[0]!.value}, keyframe ${key[0]!.value}.`],
      details: { fps, keyframe: key },
    };
  } finally {
    tmp.remove();
  }
}
