// The video pipeline on real ffmpeg: every corpus video, one full default ladder on a
// lavfi clip, remux, cancel/stall, and every bad file.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { videoDefaults, type ResolvedVideoOptions, type VideoOptionsInput } from "../../../src/jobs/video/options";
import { videoPipeline } from "../../../src/jobs/video/processor";
import { corpusOf, corpusPath, ffprobe, lavfiClip, makeCtx, processRunning, tempDir, type ManifestEntry } from "../../helpers/media";

const tmp = tempDir("mn-video-");
afterAll(() => tmp.cleanup());
let n = 0;
const outDir = () => {
  const d = join(tmp.path, `out-${++n}`);
  require("node:fs").mkdirSync(d);
  return d;
};
const run = (input: string, o: VideoOptionsInput, media = {}) => {
  const ctx = makeCtx<ResolvedVideoOptions>(input, videoDefaults(o), outDir(), { media });
  return { ctx, promise: videoPipeline.run(ctx) };
};

/** Displayed size from MANIFEST: coded size with ±90° rotation applied. */
function displayed(e: ManifestEntry): { w: number; h: number } {
  const v = e.expect.streams!.find((s) => s.type === "video" && !s.attachedPic)!;
  const quarter = Math.abs(Math.round((e.expect.rotation ?? 0) / 90)) % 2 === 1;
  return quarter ? { w: v.height!, h: v.width! } : { w: v.width!, h: v.height! };
}

const LONG = "video-h264-aac-long-363s-1080p.mp4";
/** Real ffmpeg runs: more than bun's default 5 s. */
const SLOW = 60_000;

describe("every corpus video", () => {
  test.each(corpusOf("video").map((e) => [e.file, e] as const))("%s", async (_f, e) => {
    // The 6-minute clip takes the remux path (no encode) with a keyframe storyboard, to stay fast.
    const opts: VideoOptionsInput = e.file === LONG ? { renditions: [1080], storyboardMethod: "keyframe" } : { renditions: [360], preset: "ultrafast" };
    const { ctx, promise } = run(corpusPath(e.file), opts);
    const r = await promise;
    const names = r.outputs.map((o) => o.name);
    for (const want of ["master.m3u8", "video.mp4", "storyboard.jpg", "storyboard.vtt"]) expect(names).toContain(want);
    expect(names).toContain("poster.jpg");

    const { w, h } = displayed(e);
    const short = Math.min(w, h);
    const master = ffprobe(join(ctx.outDir, "master.m3u8"));
    const v = master.streams.find((s) => s.codec_type === "video")!;
    expect(v.codec_name).toBe("h264");
    // Orientation kept (rotated sources come out rotated), sides even, short edge = the rung (or the source below it).
    expect(v.width! >= v.height!).toBe(w >= h);
    expect([v.width! % 2, v.height! % 2]).toEqual([0, 0]);
    const wantShort = e.file === LONG ? 1080 : short >= 360 ? 360 : short - (short % 2);
    expect(Math.min(v.width!, v.height!)).toBe(wantShort);
    expect(Math.abs(v.width! / v.height! - w / h) / (w / h)).toBeLessThan(0.05);
    expect(master.streams.some((s) => s.codec_type === "audio")).toBe(e.expect.streams!.some((s) => s.type === "audio"));

    const mp4 = ffprobe(join(ctx.outDir, "video.mp4"));
    const d = e.expect.durationSec!;
    expect(Math.abs(Number(mp4.format.duration) - d)).toBeLessThanOrEqual(Math.max(0.35, d * 0.05));
    expect(r.result.width).toBe(w);
    expect(r.result.height).toBe(h);
    expect(readFileSync(join(ctx.outDir, "storyboard.vtt"), "utf8")).toStartWith("WEBVTT");
    // Scratch folders are gone.
    expect(existsSync(join(ctx.outDir, ".storyboard"))).toBe(false);
  }, SLOW);
});

describe("full default ladder on a 1080p lavfi clip", () => {
  let clip = "";
  beforeAll(() => {
    clip = lavfiClip(join(tmp.path, "clip1080.mp4"), { durationSec: 5, width: 1920, height: 1080, videoKbps: 2500 });
  }, SLOW);

  test("4 rungs, master with BANDWIDTH/RESOLUTION/CODECS, aligned 2 s segments, per-rendition progress", async () => {
    // remux off: the clip is H.264/AAC and would otherwise be copied as the top rung.
    const { ctx, promise } = run(clip, { preset: "ultrafast", segmentSec: 2, remux: false });
    const r = await promise;
    const master = readFileSync(join(ctx.outDir, "master.m3u8"), "utf8");
    const infs = master.split("\n").filter((l) => l.startsWith("#EXT-X-STREAM-INF:"));
    expect(infs).toHaveLength(4);
    for (const [i, res] of ["1920x1080", "1280x720", "854x480", "640x360"].entries()) {
      expect(infs[i]).toMatch(/BANDWIDTH=\d+/);
      expect(infs[i]).toContain(`RESOLUTION=${res}`);
      expect(infs[i]).toMatch(/CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/);
    }
    for (const rung of ["1080p", "720p", "480p", "360p"]) {
      const segs = r.outputs.filter((o) => o.name.startsWith(`${rung}/seg_`));
      expect(segs).toHaveLength(3);
      const pl = readFileSync(join(ctx.outDir, rung, "index.m3u8"), "utf8");
      expect(pl).toContain("#EXT-X-PLAYLIST-TYPE:VOD");
      // GOP = segment: every rung cuts at 2.000 s.
      expect(pl.match(/#EXTINF:([\d.]+)/g)!.slice(0, 2)).toEqual(["#EXTINF:2.000000", "#EXTINF:2.000000"]);
    }
    const probed = ffprobe(join(ctx.outDir, "master.m3u8"));
    expect(probed.streams.filter((s) => s.codec_type === "video").map((s) => s.height)).toEqual([1080, 720, 480, 360]);
    // Plays over HTTP: every URI in the playlists is relative to the master.
    const server = Bun.serve({
      port: 0,
      fetch: (req) => {
        const path = decodeURIComponent(new URL(req.url).pathname);
        return path.includes("..") ? new Response(null, { status: 400 }) : new Response(Bun.file(join(ctx.outDir, path)));
      },
    });
    try {
      // Async spawn: a sync one would block the event loop this server answers on.
      const http = Bun.spawn(["ffprobe", "-v", "error", "-show_entries", "stream=height", "-of", "csv=p=0", `http://127.0.0.1:${server.port}/master.m3u8`], { stdout: "pipe", stderr: "pipe" });
      const out = await new Response(http.stdout).text();
      expect(await http.exited).toBe(0);
      // ffprobe lists each stream under its program and again under streams.
      expect([...new Set(out.trim().split("\n").filter(Boolean))].sort()).toEqual(["1080", "360", "480", "720"]);
    } finally {
      server.stop(true);
    }
    expect(ffprobe(join(ctx.outDir, "video.mp4")).streams.find((s) => s.codec_type === "video")!.height).toBe(1080);
    expect(r.result.remuxed).toBe(false);
    const withRenditions = ctx.reports.filter((p) => p.renditions);
    expect(Object.keys(withRenditions.at(-1)!.renditions!)).toEqual(["1080p", "720p", "480p", "360p"]);
    expect(ctx.reports.some((p) => typeof p.etaSec === "number")).toBe(true);
    expect(ctx.reports.at(-1)!.progress).toBe(100);
    const ps = ctx.reports.map((p) => p.progress);
    expect(ps).toEqual([...ps].sort((a, b) => a - b));
  }, SLOW);

  test("a source that fits the top rung is remuxed, not re-encoded; video.mp4 is faststart", async () => {
    const { ctx, promise } = run(clip, { renditions: [1080, 360], preset: "ultrafast" });
    const r = await promise;
    expect(r.result.remuxed).toBe(true);
    const mp4 = readFileSync(join(ctx.outDir, "video.mp4"));
    expect(mp4.indexOf("moov")).toBeLessThan(mp4.indexOf("mdat"));
    expect(ffprobe(join(ctx.outDir, "1080p/index.m3u8")).streams[0]!.codec_name).toBe("h264");
  }, SLOW);

  test("cancel kills ffmpeg at once", async () => {
    const { ctx, promise } = run(corpusPath(LONG), { renditions: [720], remux: false, preset: "ultrafast" });
    const started = Date.now();
    while (!ctx.reports.some((p) => p.progress > 1) && Date.now() - started < 20_000) await Bun.sleep(50);
    expect(processRunning(ctx.outDir)).toBe(true);
    ctx.controller.abort();
    await expect(promise).rejects.toMatchObject({ code: "CANCELLED" });
    expect(processRunning(ctx.outDir)).toBe(false);
  }, SLOW);

  test("a stall (no progress for stallMs) kills ffmpeg with TIMEOUT", async () => {
    const { ctx, promise } = run(clip, { preset: "ultrafast", remux: false }, { stallMs: 50 });
    await expect(promise).rejects.toMatchObject({ code: "TIMEOUT" });
    expect(processRunning(ctx.outDir)).toBe(false);
  }, SLOW);
});

describe("bad input fails with INVALID_INPUT or UNSUPPORTED_MEDIA", () => {
  test.each(corpusOf("bad").map((e) => [e.file] as const))("%s", async (file) => {
    const { promise } = run(corpusPath(file), { renditions: [360], preset: "ultrafast" });
    const err = await promise.then(
      () => null,
      (e: unknown) => e as { code?: string },
    );
    expect(["INVALID_INPUT", "UNSUPPORTED_MEDIA"]).toContain(err?.code ?? "none");
  }, SLOW);

  test("audio with cover art only is not video", async () => {
    const { promise } = run(corpusPath("audio-mp3-id3v2-cover-art.mp3"), {});
    await expect(promise).rejects.toMatchObject({ code: "UNSUPPORTED_MEDIA" });
  }, SLOW);
});
