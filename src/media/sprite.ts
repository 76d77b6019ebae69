// Storyboard sprite: numbered JPEG tiles (written by ffmpeg) packed into one grid image
// with sharp. sharp is loaded through image.ts's loader (its one home).
import { loadSharp, sharpError } from "./image";

export interface SpriteResult {
  width: number;
  height: number;
  bytes: number;
}

/** Packs `tiles` (file paths, in order) into a `columns`-wide grid of tileWidth×tileHeight cells. */
export async function composeSprite(
  tiles: string[],
  output: string,
  layout: { columns: number; rows: number; tileWidth: number; tileHeight: number },
  quality = 75,
): Promise<SpriteResult> {
  const sharp = loadSharp();
  const { columns, rows, tileWidth, tileHeight } = layout;
  try {
    // Each tile is forced to the cell size, so a tile ffmpeg rounded differently cannot overlap its neighbour.
    const parts = await Promise.all(
      tiles.map(async (file, i) => ({
        input: await sharp(file).resize(tileWidth, tileHeight, { fit: "fill" }).toBuffer(),
        left: (i % columns) * tileWidth,
        top: Math.floor(i / columns) * tileHeight,
      })),
    );
    const info = await sharp({ create: { width: columns * tileWidth, height: rows * tileHeight, channels: 3, background: { r: 0, g: 0, b: 0 } } })
      .composite(parts)
      .jpeg({ quality, mozjpeg: true })
      .toFile(output);
    return { width: info.width, height: info.height, bytes: info.size };
  } catch (e) {
    throw sharpError(e);
  }
}
