// The audio pipeline on real ffmpeg: every corpus audio file, HLS + loudnorm, cover art
// and tags, and every bad file.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { audioDefaults, type AudioOptionsInput, type ResolvedAudioOptions } from "../../../src/jobs/audio/options";
import { audioPipeline } from "../../../src/jobs/audio/processor";
import type { Waveform } from "../../../src/jobs/audio/waveform";
import { corpusOf, corpusPath, ffprobe, makeCtx, tempDir } from "../../helpers/media";

const SLOW = 60_000;
const tmp = tempDir("mn-audio-");
afterAll(() => tmp.cleanup());
let n = 0;
const run = (input: string, o: AudioOptionsInput = {}) => {
  const dir = join(tmp.path, `out-${++n}`);
  mkdirSync(dir);
  const ctx = makeCtx<ResolvedAudioOptions>(input, audioDefaults(o), dir);
  return { ctx, promise: audioPipeline.run(ctx) };
};

describe("every corpus audio file → aac, mp3, opus + waveform", () => {
  test.each(corpusOf("audio").map((e) => [e.file, e] as const))(
    "%s",
    async (_f, e) => {
      const { ctx, promise } = run(corpusPath(e.file));
      const r = await promise;
      expect(r.outputs.map((o) => o.name)).toEqual(["audio-128k.m4a", "audio-192k.mp3", "audio-96k.opus", "waveform.json"]);
      const d = e.expect.durationSec!;
      for (const [name, codec] of [["audio-128k.m4a", "aac"], ["audio-192k.mp3", "mp3"], ["audio-96k.opus", "opus"]] as const) {
        const p = ffprobe(join(ctx.outDir, name));
        const a = p.streams.find((s) => s.codec_type === "audio")!;
        expect(a.codec_name).toBe(codec);
        expect(a.sample_rate).toBe("48000");
        expect(a.channels).toBe(Math.min(2, e.expect.streams!.find((s) => s.type === "audio")!.channels!));
        // Encoder priming/padding adds a few tens of ms; the .m4a source starts at 0.256 s
        // (its format duration counts that gap, the decoded audio does not).
        expect(Math.abs(Number(p.format.duration) - d)).toBeLessThanOrEqual(Math.max(0.3, d * 0.05));
      }
      const wf = JSON.parse(readFileSync(join(ctx.outDir, "waveform.json"), "utf8")) as Waveform;
      expect(wf.bits).toBe(8);
      expect(wf.data.length).toBe(wf.length * 2);
      expect(wf.length).toBeGreaterThan(500);
      expect(Math.abs((wf.length * wf.samples_per_pixel) / wf.sample_rate - d)).toBeLessThan(0.3);
    },
    SLOW,
  );
});

describe("options", () => {
  test(
    "cover art re-attached to mp3 and m4a; with tags keep, title/artist/album kept, other tags stripped",
    async () => {
      const { ctx, promise } = run(corpusPath("audio-mp3-id3v2-cover-art.mp3"), { tags: "keep" });
      const r = await promise;
      expect(r.result.coverArt).toBe("kept");
      for (const name of ["audio-192k.mp3", "audio-128k.m4a"]) {
        const p = ffprobe(join(ctx.outDir, name)) as ReturnType<typeof ffprobe> & { format: { tags?: Record<string, string> } };
        expect(p.streams.filter((s) => s.codec_type === "video" && s.disposition?.attached_pic === 1)).toHaveLength(1);
        expect(p.streams).toHaveLength(2);
        const tags = Object.fromEntries(Object.entries(p.format.tags ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
        expect(tags).toMatchObject({ title: "Test title", artist: "Test Artist", album: "Test Album" });
        expect(tags.genre).toBeUndefined();
      }
    },
    SLOW,
  );

  test(
    "cover art dropped on purpose",
    async () => {
      const { ctx, promise } = run(corpusPath("audio-flac-with-picture.flac"), { coverArt: "drop" });
      const r = await promise;
      expect(r.result.coverArt).toBe("dropped");
      expect(ffprobe(join(ctx.outDir, "audio-192k.mp3")).streams.map((s) => s.codec_type)).toEqual(["audio"]);
    },
    SLOW,
  );

  test(
    "audio-only HLS ladder with master.m3u8 + loudness normalisation at 48 kHz",
    async () => {
      const { ctx, promise } = run(corpusPath("audio-ogg-vorbis.ogg"), { hls: true, normalize: true, renditions: [{ codec: "aac", bitrateKbps: 96 }] });
      const r = await promise;
      const names = r.outputs.map((o) => o.name);
      for (const want of ["master.m3u8", "192k/index.m3u8", "128k/index.m3u8", "64k/index.m3u8", "audio-96k.m4a", "waveform.json"]) expect(names).toContain(want);
      const master = readFileSync(join(ctx.outDir, "master.m3u8"), "utf8");
      expect(master.match(/#EXT-X-STREAM-INF:BANDWIDTH=\d+,AVERAGE-BANDWIDTH=\d+,CODECS="mp4a\.40\.2"/g)).toHaveLength(3);
      const p = ffprobe(join(ctx.outDir, "master.m3u8"));
      expect(p.streams.filter((s) => s.codec_type === "audio")).toHaveLength(3);
      expect(ffprobe(join(ctx.outDir, "audio-96k.m4a")).streams[0]!.sample_rate).toBe("48000");
    },
    SLOW,
  );

  test(
    "the sound track of a video",
    async () => {
      const { ctx, promise } = run(corpusPath("video-webm-vp9-vorbis-6ch.webm"), { renditions: [{ codec: "opus", bitrateKbps: 64 }] });
      await promise;
      expect(ffprobe(join(ctx.outDir, "audio-64k.opus")).streams[0]!.channels).toBe(2);
    },
    SLOW,
  );

  test("a video without audio is UNSUPPORTED_MEDIA", async () => {
    await expect(run(corpusPath("video-h264-no-audio.mp4")).promise).rejects.toMatchObject({ code: "UNSUPPORTED_MEDIA" });
  });
});

describe("bad input fails with INVALID_INPUT or UNSUPPORTED_MEDIA", () => {
  test.each(corpusOf("bad").map((e) => [e.file] as const))(
    "%s",
    async (file) => {
      const err = await run(corpusPath(file)).promise.then(
        () => null,
        (e: unknown) => e as { code?: string },
      );
      expect(["INVALID_INPUT", "UNSUPPORTED_MEDIA"]).toContain(err?.code ?? "none");
    },
    SLOW,
  );
});
