import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { thumbnailDefaults, type ResolvedThumbnailOptions, type ThumbnailOptionsInput } from "../../../src/jobs/thumbnail/options";
import { thumbnailPipeline } from "../../../src/jobs/thumbnail/processor";
import { corpusOf, corpusPath, ffprobe, makeCtx, tempDir } from "../../helpers/media";

const SLOW = 60_000;
const tmp = tempDir("mn-thumb-");
afterAll(() => tmp.cleanup());
let n = 0;
const run = (input: string, o: ThumbnailOptionsInput = {}) => {
  const dir = join(tmp.path, `out-${++n}`);
  mkdirSync(dir);
  const ctx = makeCtx<ResolvedThumbnailOptions>(input, thumbnailDefaults(o), dir);
  return { ctx, promise: thumbnailPipeline.run(ctx) };
};

describe("thumbnails from corpus videos", () => {
  test.each<[string, ThumbnailOptionsInput, number, string, [number, number]]>([
    ["video-h264-aac-faststart-960x540.mp4", {}, 3, "webp", [320, 180]],
    ["video-h264-aac-rotated90.mp4", { count: 2 }, 2, "webp", [180, 320]],
    ["video-hevc-10bit-dolbyvision-rotated-90.MOV", {}, 3, "webp", [180, 320]],
    ["video-mpegts-h264-ac3-1080i.mts", { times: [0.2, 0.6], format: "jpeg", size: 640 }, 2, "mjpeg", [640, 360]],
    ["video-h264-aac-long-363s-1080p.mp4", { everySec: 60, format: "png" }, 7, "png", [320, 180]],
    ["video-h264-aac-tiny-10x6.mp4", {}, 3, "webp", [10, 6]],
  ])(
    "%s",
    async (file, o, count, codec, [w, h]) => {
      const { ctx, promise } = run(corpusPath(file), o);
      const r = await promise;
      expect(r.outputs).toHaveLength(count);
      for (const out of r.outputs) {
        expect([out.width, out.height]).toEqual([w, h]);
        const p = ffprobe(join(ctx.outDir, out.name));
        expect(p.streams[0]!.codec_name).toBe(codec);
      }
      expect(existsSync(join(ctx.outDir, ".frames"))).toBe(false);
    },
    SLOW,
  );

  test("audio is not a video source", async () => {
    await expect(run(corpusPath("audio-mp3-id3v2-cover-art.mp3")).promise).rejects.toMatchObject({ code: "UNSUPPORTED_MEDIA" });
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
