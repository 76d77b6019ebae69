// The node's image pipeline written out by hand with sharp, for the "raw tool" side of the
// image benchmarks (image, bucket-workers).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { rgbaToThumbHash } from "thumbhash";

/**
 * One decode, auto-orient, sRGB, resize to the largest variant as raw pixels, then webp 1440
 * q82, a 256 px webp q80 from the same pixels, and a thumbhash from a 100 px reduction
 * (src/media/image.ts renderVariants).
 */
export async function directImage(file: string, outDir: string): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const raw = await sharp(file, { failOn: "warning" })
    .autoOrient()
    .toColourspace("srgb")
    .resize({ width: 1440, height: 1440, fit: "inside", withoutEnlargement: true })
    .raw({ depth: "uchar" })
    .toBuffer({ resolveWithObject: true });
  const { width, height, channels } = raw.info;
  const input = { raw: { width, height, channels: channels as 3 } };
  await sharp(raw.data, input).webp({ quality: 82 }).toFile(join(outDir, "preview.webp"));
  await sharp(raw.data, input).resize({ width: 256, height: 256, fit: "inside" }).webp({ quality: 80 }).toFile(join(outDir, "thumb.webp"));
  const small = await sharp(raw.data, input).resize({ width: 100, height: 100, fit: "inside" }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  rgbaToThumbHash(small.info.width, small.info.height, small.data);
}
