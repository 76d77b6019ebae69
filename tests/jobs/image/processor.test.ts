// Every image of the corpus through the image pipeline (in process, real sharp), and every
// bad image to its error code.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { MedianodeError } from "../../../src/errors";
import { imagePlan } from "../../../src/jobs/image/args";
import { imageDefaults } from "../../../src/jobs/image/options";
import { imagePipeline } from "../../../src/jobs/image/processor";
import { resolveBinaries } from "../../../src/media/binaries";
import { MAX_PIXELS } from "../../../src/roles/serve";
import { byKind, corpus } from "../../helpers/corpus";
import { tempDir } from "../../helpers/tmp";

const dir = tempDir();
afterAll(() => dir.remove());
const media = { ...resolveBinaries({}), stallMs: 60_000, timeoutMs: 60_000, maxPixels: MAX_PIXELS };

async function run(file: string, options = imageDefaults({})) {
  const outDir = join(dir.path, file.replace(/\W/g, "_"));
  mkdirSync(outDir, { recursive: true });
  const out = await imagePipeline.run({
    jobId: "j_test",
    input: corpus(file).path,
    inputProtocols: "file",
    outDir,
    options,
    media,
    signal: new AbortController().signal,
    progress: () => {},
  });
  return { out, outDir };
}

describe("image plan", () => {
  test.each([
    [{}, ["thumb.webp", "preview.webp"]],
    [{ variants: [{ name: "a", size: 100, format: "jpeg" as const }] }, ["a.jpg"]],
    [{ variants: [{ name: "x", size: 100, format: "avif" as const, quality: 50 }, { name: "y", size: 50, format: "png" as const }] }, ["x.avif", "y.png"]],
  ])("%j → %j", (input, files) => {
    expect(imagePlan(imageDefaults(input)).map((p) => p.file)).toEqual(files);
  });
  test("duplicate variant names are refused", () => {
    expect(() => imagePlan(imageDefaults({ variants: [{ name: "a", size: 10 * 10 }, { name: "a", size: 20 }] }))).toThrow(/duplicate/);
  });
});

const HEIC = "image-heic-hevc-1080x1920.heic";

describe("every corpus image", () => {
  test.each(byKind("image").map((e) => e.file).filter((f) => f !== HEIC))("%s: variants oriented, sRGB, stripped, never enlarged", async (file) => {
    const { entry } = corpus(file);
    const want = entry.expect.autoOrient!;
    const { out, outDir } = await run(file);
    expect(out.result.width).toBe(want.width);
    expect(out.result.height).toBe(want.height);
    expect(typeof out.result.thumbhash).toBe("string");
    for (const o of out.outputs) {
      const longest = Math.max(o.width!, o.height!);
      const limit = o.name.startsWith("thumb") ? 256 : 1440;
      expect(longest).toBe(Math.min(limit, Math.max(want.width, want.height)));
      // Same orientation as the displayed source (landscape stays landscape).
      if (want.width !== want.height && longest > 8) expect(o.width! > o.height!).toBe(want.width > want.height);
      const m = await sharp(join(outDir, o.name)).metadata();
      expect(m.format).toBe("webp");
      expect(m.exif).toBeUndefined();
      expect(m.orientation ?? 1).toBe(1);
      expect(["srgb", "b-w"]).toContain(m.space ?? "srgb");
      expect(o.bytes).toBe(Bun.file(join(outDir, o.name)).size);
    }
  });

  test("HEIC on a node without libheif (heif-convert) fails clearly with UNSUPPORTED_MEDIA (tests/jobs/image/heic.test.ts decodes it)", async () => {
    const err = await run(HEIC).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MedianodeError);
    expect((err as MedianodeError).code).toBe("UNSUPPORTED_MEDIA");
  });
});

describe("bad images fail with a clear code", () => {
  test.each([
    ["bad-truncated.jpg", "INVALID_INPUT"],
    ["bad-truncated.png", "INVALID_INPUT"],
    ["bad-corrupt-header.jpg", ["INVALID_INPUT", "UNSUPPORTED_MEDIA"]],
    ["bad-json-as.webp", ["INVALID_INPUT", "UNSUPPORTED_MEDIA"]],
    ["bad-pixel-bomb-65536x65536.png", "INVALID_INPUT"],
    ["bad-pixel-limit-20000x14000.jpg", "INVALID_INPUT"],
  ] as const)("%s → %s", async (file, code) => {
    const err = await run(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MedianodeError);
    expect(([] as string[]).concat(code)).toContain((err as MedianodeError).code);
  });
});
