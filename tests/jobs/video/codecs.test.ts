// Each codec's ladder on real ffmpeg (2 s 320x180 clips, 2 rungs, fastest presets: av1/hevc
// encodes are slow on 2 shared cores): every rung probed, CODECS read from the stream, the
// master played over HTTP by ffmpeg; HDR sources tone-mapped or kept.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { videoDefaults, type ResolvedVideoOptions, type VideoCodec, type VideoOptionsInput } from "../../../src/jobs/video/options";
import { videoPipeline } from "../../../src/jobs/video/processor";
import { corpusPath, ffprobe, lavfiClip, makeCtx, tempDir } from "../../helpers/media";
import { hdrClip, probeVideo, psnr, sdrReferenceFrame } from "../../helpers/hdr";

const tmp = tempDir("mn-codecs-");
let server: ReturnType<typeof Bun.serve>;
beforeAll(() => {
  // A plain static server over the temp dir: the ladders are played over HTTP as a player would.
  server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => new Response(Bun.file(join(tmp.path, decodeURIComponent(new URL(req.url).pathname)))) });
});
afterAll(() => {
  server.stop(true);
  tmp.cleanup();
});

let n = 0;
async function ladder(input: string, o: VideoOptionsInput) {
  const name = `out-${++n}`;
  const dir = join(tmp.path, name);
  require("node:fs").mkdirSync(dir);
  const ctx = makeCtx<ResolvedVideoOptions>(input, videoDefaults(o), dir);
  const r = await videoPipeline.run(ctx);
  return { r, dir, url: `http://127.0.0.1:${server.port}/${name}/master.m3u8`, master: readFileSync(join(dir, "master.m3u8"), "utf8") };
}

/** ffmpeg plays the master over HTTP, every variant's segments (decodes them all to null). Async: the server is in this process. */
async function playOverHttp(url: string): Promise<void> {
  const p = Bun.spawn(["ffmpeg", "-v", "error", "-protocol_whitelist", "http,tcp,crypto,data", "-i", url, "-map", "0:v", "-map", "0:a?", "-f", "null", "-"], { stderr: "pipe", timeout: 60_000 });
  const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  expect(stderr).toBe("");
  expect(code).toBe(0);
}

const SMALL: VideoOptionsInput = { renditions: [180, 144], preset: "ultrafast", storyboardIntervalSec: 1 };
const CLIP = () => lavfiClip(join(tmp.path, "clip.mp4"), { durationSec: 2, width: 320, height: 180 });
const WANT: Record<VideoCodec, { name: string; codecs: RegExp; seg: RegExp }> = {
  h264: { name: "h264", codecs: /^avc1\.[0-9a-f]{6}$/, seg: /\.ts$/ },
  hevc: { name: "hevc", codecs: /^hvc1\.1\.6\.L\d+(\.[0-9A-F]+)*$/, seg: /\.m4s$/ },
  av1: { name: "av1", codecs: /^av01\.0\.\d\dM\.08$/, seg: /\.m4s$/ },
  vp9: { name: "vp9", codecs: /^vp09\.00\.\d\d\.08$/, seg: /\.m4s$/ },
};

describe("a ladder per codec", () => {
  test.each(Object.keys(WANT) as VideoCodec[])("%s: every rung probed, CODECS from the stream, MP4, played over HTTP", async (codec) => {
    const w = WANT[codec];
    const { r, dir, url, master } = await ladder(CLIP(), { ...SMALL, codec });
    expect(r.result.encoder).toBe(codec === "h264" ? "libx264" : codec === "hevc" ? "libx265" : codec === "av1" ? "libsvtav1" : "libvpx-vp9");
    const lines = master.split("\n").filter((l) => l.startsWith("#EXT-X-STREAM-INF"));
    expect(lines).toHaveLength(2);
    for (const [i, rung] of (["180p", "144p"] as const).entries()) {
      const codecs = /CODECS="([^"]+)"/.exec(lines[i]!)![1]!.split(",");
      expect(codecs[0]).toMatch(w.codecs);
      expect(codecs[1]).toBe("mp4a.40.2");
      const playlist = readFileSync(join(dir, rung, "index.m3u8"), "utf8");
      expect(playlist.split("\n").filter((l) => l && !l.startsWith("#")).every((l) => w.seg.test(l))).toBe(true);
      const p = ffprobe(join(dir, rung, "index.m3u8"));
      const v = p.streams.find((s) => s.codec_type === "video")!;
      expect(v.codec_name).toBe(w.name);
      expect(v.height).toBe(rung === "180p" ? 180 : 144);
      if (codec === "hevc") expect(playlist).toContain('#EXT-X-MAP:URI="init_');
    }
    const mp4 = ffprobe(join(dir, "video.mp4"));
    expect(mp4.streams.find((s) => s.codec_type === "video")!.codec_name).toBe(w.name);
    if (codec === "hevc") expect(probeVideo(join(dir, "video.mp4")).stream.codec_tag_string).toBe("hvc1");
    expect(r.outputs.map((o) => o.name)).toEqual(expect.arrayContaining(["poster.jpg", "storyboard.jpg", "storyboard.vtt", "video.mp4"]));
    await playOverHttp(url);
  }, 180_000);
});

describe("HDR sources", () => {
  test.each(["pq", "hlg"] as const)("%s, hdr tonemap (default): SDR BT.709 8-bit rungs, MP4 and poster close to the SDR render", async (kind) => {
    const src = hdrClip(join(tmp.path, `${kind}.mp4`), kind);
    const { r, dir, master } = await ladder(src, { ...SMALL, renditions: [180] });
    expect((r.result.hdr as { transfer: string; mode: string }).transfer).toBe(kind);
    expect((r.result.hdr as { mode: string }).mode).toBe("tonemap");
    for (const f of [join(dir, "180p", "index.m3u8"), join(dir, "video.mp4")]) {
      const s = probeVideo(f).stream;
      expect([s.pix_fmt, s.color_transfer, s.color_primaries, s.color_space]).toEqual(["yuv420p", "bt709", "bt709", "bt709"]);
    }
    expect(master).toContain("VIDEO-RANGE=SDR");
    // The poster (0.2 s in) against the SDR render of the same pattern at that time: tone mapped
    // it is close; the same HDR frame merely squeezed to 8 bits (what the old ladder did) is far.
    const ref = sdrReferenceFrame(join(tmp.path, `${kind}-ref.png`), { width: 320, height: 180, sec: r.result.posterAtSec as number });
    const mapped = psnr(join(dir, "poster.jpg"), ref);
    const naive = join(tmp.path, `${kind}-naive.png`);
    Bun.spawnSync(["ffmpeg", "-v", "error", "-y", "-ss", String(r.result.posterAtSec), "-i", src, "-frames:v", "1", "-vf", "format=yuv420p", naive]);
    const untouched = psnr(naive, ref);
    expect(mapped).toBeGreaterThan(22);
    expect(mapped).toBeGreaterThan(untouched + 4);
  }, 120_000);

  test("pq, hdr keep with hevc: 10-bit BT.2020/PQ rungs with mastering display and MaxCLL, VIDEO-RANGE=PQ, hvc1 Main 10", async () => {
    const src = hdrClip(join(tmp.path, "pq-keep.mp4"), "pq");
    const { r, dir, master } = await ladder(src, { ...SMALL, renditions: [180], codec: "hevc", hdr: "keep" });
    expect(master).toContain("VIDEO-RANGE=PQ");
    expect(master).toMatch(/CODECS="hvc1\.2\.4\.L\d+[^"]*,mp4a\.40\.2"/);
    expect(master).toContain("#EXT-X-VERSION:8");
    const { stream, frameSideData } = probeVideo(join(dir, "180p", "index.m3u8"), true);
    expect([stream.pix_fmt, stream.color_transfer, stream.color_primaries, stream.color_space]).toEqual(["yuv420p10le", "smpte2084", "bt2020", "bt2020nc"]);
    const md = frameSideData.find((s) => s.side_data_type === "Mastering display metadata")!;
    expect(md.max_luminance).toBe("10000000/10000");
    expect(frameSideData.find((s) => s.side_data_type === "Content light level metadata")!.max_content).toBe(1000);
    expect((r.result.hdr as { contentLight?: { maxCll: number } }).contentLight?.maxCll).toBe(1000);
    // Posters stay SDR whatever the rungs are.
    expect(probeVideo(join(dir, "poster.jpg")).stream.pix_fmt).toMatch(/^yuvj?420p$/);
  }, 120_000);

  test("the corpus iPhone Dolby Vision 8.4 clip: detected, tone-mapped from its HLG base, rotated, SDR", async () => {
    const { r, dir, master } = await ladder(corpusPath("video-hevc-10bit-dolbyvision-rotated-90.MOV"), { ...SMALL, renditions: [360] });
    expect(r.result.hdr).toMatchObject({ format: "dolby-vision", dolbyVisionProfile: 8, dolbyVisionCompatibility: 4, transfer: "hlg", mode: "tonemap" });
    const s = probeVideo(join(dir, "360p", "index.m3u8")).stream;
    expect([s.width, s.height, s.pix_fmt, s.color_transfer]).toEqual([360, 640, "yuv420p", "bt709"]);
    expect(master).toContain("VIDEO-RANGE=SDR");
  }, 120_000);
});
