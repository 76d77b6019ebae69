// HEIC/HEIF photos decoded for real (libheif's heif-convert, media/heif.ts): the corpus iPhone-
// style HEIC, and files made here with heif-enc for orientation (EXIF only; irot/imir with a
// camera EXIF that must not rotate twice) and colour (a Display P3 ICC profile → sRGB).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { MedianodeError } from "../../../src/errors";
import { imageSourceRequirement } from "../../../src/jobs/image/args";
import { imageDefaults } from "../../../src/jobs/image/options";
import { imagePipeline } from "../../../src/jobs/image/processor";
import { resolveBinaries } from "../../../src/media/binaries";
import { findHeifConvert, heifLayout } from "../../../src/media/heif";
import { pngWithIcc } from "../../../src/media/nclx";
import { MAX_PIXELS } from "../../../src/roles/serve";
import { inspectSource } from "../../../src/sources/validate";
import { corpus } from "../../helpers/corpus";
import { addNclx, addTransform, heifEnc } from "../../helpers/heif";
import { psnr } from "../../helpers/hdr";
import { tempDir } from "../../helpers/tmp";

const dir = tempDir();
afterAll(() => dir.remove());
const heifConvert = findHeifConvert();
const media = { ...resolveBinaries({}), stallMs: 60_000, timeoutMs: 60_000, maxPixels: MAX_PIXELS, heifConvert };
let n = 0;

async function run(input: string, options = imageDefaults({}), m = media) {
  const outDir = join(dir.path, `out-${++n}`);
  mkdirSync(outDir, { recursive: true });
  const out = await imagePipeline.run({ jobId: "j_heic", input, inputProtocols: "file", outDir, options, media: m, signal: new AbortController().signal, progress: () => {} });
  return { out, outDir, file: (name: string) => join(outDir, name) };
}
const HEIC = corpus("image-heic-hevc-1080x1920.heic").path;
let JPEG6 = "";
let JPEG1 = "";
// Small copies of the corpus camera JPEGs (stored pixels resized, EXIF orientation kept): HEVC encodes of 2 MP photos take seconds here.
beforeAll(async () => {
  JPEG6 = join(dir.path, "orient6-small.jpg");
  JPEG1 = join(dir.path, "orient1-small.jpg");
  await sharp(corpus("image-jpeg-exif-orient6.jpg").path).resize(300, 450).withMetadata().jpeg({ quality: 95 }).toFile(JPEG6);
  await sharp(corpus("image-jpeg-exif-orient1.jpg").path).resize(450, 300).jpeg({ quality: 95 }).toFile(JPEG1);
  expect((await sharp(JPEG6).metadata()).orientation).toBe(6);
});

test("heif-convert is installed (scripts/setup.sh installs libheif-examples)", () => {
  expect(heifConvert).not.toBeNull();
});

describe("the corpus HEIC", () => {
  test("decodes into the usual variants and a thumbhash, portrait kept, sRGB, no metadata left", async () => {
    const { out, file } = await run(HEIC);
    expect(out.result).toMatchObject({ width: 1080, height: 1920, format: "heif" });
    expect(typeof out.result.thumbhash).toBe("string");
    expect(out.outputs.map((o) => [o.name, o.width, o.height])).toEqual([["thumb.webp", 144, 256], ["preview.webp", 810, 1440]]);
    for (const o of out.outputs) {
      const m = await sharp(file(o.name)).metadata();
      expect([m.format, m.exif, m.orientation ?? 1]).toEqual(["webp", undefined, 1]);
      // Real pixels, not a blank: the photo has detail (its channels vary).
      const st = await sharp(file(o.name)).stats();
      expect(st.channels[0]!.stdev).toBeGreaterThan(5);
    }
    // No decoder temp file is left among the outputs.
    expect(require("node:fs").readdirSync(join(dir.path, `out-${n}`)).sort()).toEqual(["preview.webp", "thumb.webp"]);
  });

  test("the upload check marks it HEIC: the job then requires the heic capability", async () => {
    const i = await inspectSource(HEIC, ["image"], { ffprobe: media.ffprobe, maxPixels: MAX_PIXELS });
    expect(i.heic).toBe(true);
    expect(imageSourceRequirement(i)).toEqual(["heic"]);
    const jpeg = await inspectSource(JPEG6, ["image"], { ffprobe: media.ffprobe, maxPixels: MAX_PIXELS });
    expect(imageSourceRequirement(jpeg)).toEqual([]);
  });

  test("a node without heif-convert: UNSUPPORTED_MEDIA naming the package", async () => {
    const err = await run(HEIC, imageDefaults({}), { ...media, heifConvert: null }).catch((e: unknown) => e);
    expect((err as MedianodeError).code).toBe("UNSUPPORTED_MEDIA");
    expect((err as MedianodeError).message).toContain("libheif-examples");
  });

  test("a truncated HEIC fails with a clear code and no output", async () => {
    const bad = join(dir.path, "truncated.heic");
    writeFileSync(bad, readFileSync(HEIC).subarray(0, 20_000));
    const err = await run(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MedianodeError);
    expect(["INVALID_INPUT", "UNSUPPORTED_MEDIA"]).toContain((err as MedianodeError).code);
  });
});

describe("orientation", () => {
  // The reference: the same camera JPEG (EXIF orientation 6) through the usual sharp path.
  const reference = async () => (await run(JPEG6, imageDefaults({ variants: [{ name: "p", size: 450, format: "png" }] }))).file("p.png");
  const heicVariant = async (src: string) => {
    const r = await run(src, imageDefaults({ variants: [{ name: "p", size: 450, format: "png" }] }));
    return { r, png: r.file("p.png") };
  };

  test("EXIF orientation only (no irot): applied, same picture as the JPEG", async () => {
    const h = heifEnc(JPEG6, join(dir.path, "exif6.heic"));
    expect(heifLayout(new Uint8Array(readFileSync(h)))).toMatchObject({ hasPrimary: true, rotation: 0, mirror: null });
    const { r, png } = await heicVariant(h);
    expect([r.out.result.width, r.out.result.height]).toEqual([450, 300]);
    expect(psnr(png, await reference())).toBeGreaterThan(30);
  });

  test("irot (90° clockwise) with the camera's EXIF orientation 6 beside it: rotated once, not twice", async () => {
    const h = addTransform(heifEnc(JPEG6, join(dir.path, "exif6b.heic")), join(dir.path, "irot3.heic"), { irot: 3 });
    expect(heifLayout(new Uint8Array(readFileSync(h))).rotation).toBe(270);
    const { r, png } = await heicVariant(h);
    expect([r.out.result.width, r.out.result.height]).toEqual([450, 300]);
    expect(psnr(png, await reference())).toBeGreaterThan(30);
  });

  test("imir (mirror): the picture flipped as the file says", async () => {
    const plain = heifEnc(JPEG1, join(dir.path, "o1.heic"));
    const h = addTransform(plain, join(dir.path, "imir.heic"), { imir: 1 });
    expect(heifLayout(new Uint8Array(readFileSync(h))).mirror).toBe("horizontal");
    const flipped = join(dir.path, "ref-flop.png");
    await sharp(JPEG1).flop().png().toFile(flipped);
    const { png } = await heicVariant(h);
    expect(psnr(png, flipped)).toBeGreaterThan(30);
  });
});

test("colour: a Display P3 ICC profile is converted to sRGB (not read as if it were sRGB)", async () => {
  // An sRGB colour written as P3 values with the P3 profile attached.
  const want = { r: 40, g: 200, b: 60 };
  const p3 = join(dir.path, "p3.png");
  await sharp({ create: { width: 64, height: 64, channels: 3, background: want } }).withIccProfile("p3").png().toFile(p3);
  const stored = await sharp(p3).pipelineColourspace("rgb16").toColourspace("srgb").raw().toBuffer();
  const h = heifEnc(p3, join(dir.path, "p3.heic"));
  const { file } = await run(h, imageDefaults({ variants: [{ name: "p", size: 64, format: "png" }] }));
  const got = await sharp(file("p.png")).raw().toBuffer();
  const dist = (a: ArrayLike<number>, b: number[]) => Math.max(...b.map((x, i) => Math.abs(a[i]! - x)));
  expect(dist(got, [want.r, want.g, want.b])).toBeLessThanOrEqual(4);
  // The P3 values read as sRGB would be far off: the check can fail.
  expect(dist(stored, [want.r, want.g, want.b])).toBeGreaterThan(20);
});

test("colour: nclx code points (Display P3, no ICC) are converted to sRGB as well", async () => {
  // The same sRGB colour as P3 values, stored without a profile; the HEIC then says P3 in nclx only.
  const want = { r: 40, g: 200, b: 60 };
  const p3 = join(dir.path, "p3-icc.png");
  await sharp({ create: { width: 64, height: 64, channels: 3, background: want } }).withIccProfile("p3").png().toFile(p3);
  const bare = join(dir.path, "p3-bare.png");
  // The stored P3 values (sharp would otherwise convert them to sRGB on the way out).
  const { data, info } = await sharp(p3).pipelineColourspace("rgb16").toColourspace("srgb").raw().toBuffer({ resolveWithObject: true });
  await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } }).png().toFile(bare);
  expect((await sharp(bare).metadata()).icc).toBeUndefined();
  const plain = heifEnc(bare, join(dir.path, "p3-plain.heic"));
  const tagged = addNclx(plain, join(dir.path, "p3-nclx.heic"), { primaries: 12, transfer: 13, matrix: 6 });
  expect(heifLayout(new Uint8Array(readFileSync(tagged))).colour).toEqual({ type: "nclx", primaries: 12, transfer: 13, matrix: 6, fullRange: true });
  const opts = imageDefaults({ variants: [{ name: "p", size: 64, format: "png" }] });
  const dist = (a: ArrayLike<number>, b: number[]) => Math.max(...b.map((x, i) => Math.abs(a[i]! - x)));
  const got = await sharp((await run(tagged, opts)).file("p.png")).raw().toBuffer();
  expect(dist(got, [want.r, want.g, want.b])).toBeLessThanOrEqual(5);
  // Without the nclx box the same pixels come out as P3 values read as sRGB: far off.
  const untagged = await sharp((await run(plain, opts)).file("p.png")).raw().toBuffer();
  expect(dist(untagged, [want.r, want.g, want.b])).toBeGreaterThan(20);
});

describe("HEIF image sequences (no primary item): the first frame is the photo", () => {
  // ffmpeg muxes an HEVC track as an msf1 file with moov after the media data, the layout a
  // streaming writer makes; libheif (and so sharp) refuses it: "No or invalid primary item".
  const sequence = (name: string, lavfi: string, extra: string[] = []) => {
    const out = join(dir.path, name);
    const r = Bun.spawnSync(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", lavfi, "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-pix_fmt", "yuv420p", ...extra, "-tag:v", "hvc1", "-brand", "msf1", "-f", "mp4", out]);
    if (r.exitCode !== 0) throw new Error(r.stderr.toString());
    return out;
  };

  test("decodes into variants with the track's size; the upload check marks it HEIC", async () => {
    const seq = sequence("seq.heics", "testsrc2=s=320x240:d=0.5:r=10");
    const layout = await (await import("../../../src/media/heif")).readHeifLayout(seq);
    expect(layout).toMatchObject({ brand: "msf1", hasPrimary: false, sequence: { codec: "hvc1", width: 320, height: 240 } });
    const i = await inspectSource(seq, ["image"], { ffprobe: media.ffprobe, maxPixels: MAX_PIXELS });
    expect(imageSourceRequirement(i)).toEqual(["heic"]);
    const { out, file } = await run(seq, imageDefaults({ variants: [{ name: "p", size: 320, format: "png" }] }));
    expect([out.result.width, out.result.height]).toEqual([320, 240]);
    // The reference: ffmpeg's own first frame of the same file.
    const ref = join(dir.path, "seq-ref.png");
    expect(Bun.spawnSync(["ffmpeg", "-v", "error", "-y", "-i", seq, "-frames:v", "1", ref]).exitCode).toBe(0);
    expect(psnr(file("p.png"), ref)).toBeGreaterThan(35);
  });

  test("a track tagged Display P3 is converted to sRGB", async () => {
    const tags = ["-color_primaries", "smpte432", "-color_trc", "iec61966-2-1", "-colorspace", "bt709"];
    const seq = sequence("seq-p3.heics", "color=c=0xC86432:s=64x64:d=0.2:r=10", tags);
    expect((await (await import("../../../src/media/heif")).readHeifLayout(seq)).sequence?.colour).toMatchObject({ type: "nclx", primaries: 12, transfer: 13 });
    const { file } = await run(seq, imageDefaults({ variants: [{ name: "p", size: 64, format: "png" }] }));
    const got = [...(await sharp(file("p.png")).raw().toBuffer()).subarray(0, 3)];
    // The reference: ffmpeg's own first frame (the P3 values, YUV rounding included) read
    // through libvips's built-in Display P3 profile, not the profile the module writes.
    const frame = join(dir.path, "seq-p3-frame.png");
    expect(Bun.spawnSync(["ffmpeg", "-v", "error", "-y", "-i", seq, "-frames:v", "1", frame]).exitCode).toBe(0);
    const vipsP3 = (await sharp({ create: { width: 2, height: 2, channels: 3, background: "#888" } }).withIccProfile("p3").png().toBuffer().then((b) => sharp(b).metadata())).icc!;
    const framePng = new Uint8Array(readFileSync(frame));
    const want = [...(await sharp(pngWithIcc(framePng, new Uint8Array(vipsP3))!).toColourspace("srgb").raw().toBuffer()).subarray(0, 3)];
    const asIs = [...(await sharp(framePng).raw().toBuffer()).subarray(0, 3)];
    const dist = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
    expect(dist(got, want)).toBeLessThanOrEqual(2);
    expect(dist(got, asIs)).toBeGreaterThan(8);
  });

  test("a sequence on a node without libheif: UNSUPPORTED_MEDIA, as for a still", async () => {
    const seq = sequence("seq-b.heics", "testsrc2=s=160x120:d=0.3:r=10");
    const err = await run(seq, imageDefaults({}), { ...media, heifConvert: null }).catch((e: unknown) => e);
    expect((err as MedianodeError).code).toBe("UNSUPPORTED_MEDIA");
  });
});
