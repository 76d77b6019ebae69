// HEIC/HEIF photos. Prebuilt sharp has no HEVC decoder and Debian's ffmpeg 5.1 cannot open
// HEIF, so the image is decoded by libheif's own CLI, Debian's heif-convert (libheif-examples,
// libde265 inside), into a lossless PNG that sharp then reads as any other source.
// Why this route (bench/heic.ts): per 12 MP photo heif-convert → PNG took ~1.05 s and 95 MiB,
// its y4m output 0.6 s (no PNG deflate) but YUV that would need our own colour conversion, and
// the libheif-js WebAssembly build (npm heic-decode) 0.5–0.8 s and 190–240 MiB in the worker's
// heap. heif-convert keeps the colour profile (an ICC `prof` goes into the PNG's iCCP, which
// sharp converts to sRGB), runs outside the worker (a decoder crash on a hostile file is an
// exit code, not a dead thread) and is patched by Debian's security updates.
//
// Orientation: libheif applies the primary image's irot/imir (HEIF's own transforms). The EXIF
// copy it writes into the PNG still says the camera's orientation, which would rotate a second
// time; per ISO/IEC 23008-12 the transforms win, so EXIF orientation is ignored when the file
// has any, and applied (sharp autoOrient) when it has none (writers that only set EXIF).
import { UnsupportedMediaError, InvalidInputError } from "../errors";
import { lastLine, runCapture } from "./ffmpeg";

export const HEIF_INSTALL_HINT = "install libheif-examples (apt-get install -y libheif-examples) for HEIC/HEIF photos";
/** The capability a node advertises when it can decode HEIC/HEIF (options.require, routing). */
export const HEIC_CAPABILITY = "heic";
export const HEIF_MIMES = new Set(["image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence"]);

/** heif-convert on PATH (or the configured one), null when missing. */
export function findHeifConvert(): string | null {
  return Bun.which("heif-convert");
}

/** argv: decode the primary image to PNG (EXIF kept beside it in the PNG). Pure. */
export function heifConvertArgs(bin: string, input: string, outPng: string): string[] {
  return [bin, "--quiet", input, outPng];
}

interface Box {
  type: string;
  body: Uint8Array;
}

function boxes(buf: Uint8Array): Box[] {
  const out: Box[] = [];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off + 8 <= buf.length) {
    let size = dv.getUint32(off);
    let header = 8;
    if (size === 1 && off + 16 <= buf.length) {
      size = Number(dv.getBigUint64(off + 8));
      header = 16;
    } else if (size === 0) size = buf.length - off;
    if (size < header || off + size > buf.length) break;
    out.push({ type: String.fromCharCode(...buf.subarray(off + 4, off + 8)), body: buf.subarray(off + header, off + size) });
    off += size;
  }
  return out;
}

export interface HeifLayout {
  /** ftyp major brand (heic, mif1, msf1...). */
  brand: string;
  /** A `meta` box with a primary item: a still image (heif-convert reads it). */
  hasPrimary: boolean;
  /** Rotation anticlockwise in degrees (irot) and mirror axis (imir) of the primary item. */
  rotation: number;
  mirror: "vertical" | "horizontal" | null;
}

/**
 * The transforms of the primary item: meta → pitm (primary id), iprp → ipco (properties)
 * and ipma (which property indexes each item has). Pure; reads boxes only.
 */
export function heifLayout(file: Uint8Array): HeifLayout {
  const top = boxes(file);
  const ftyp = top.find((b) => b.type === "ftyp");
  const brand = ftyp ? String.fromCharCode(...ftyp.body.subarray(0, 4)) : "";
  const meta = top.find((b) => b.type === "meta");
  const none: HeifLayout = { brand, hasPrimary: false, rotation: 0, mirror: null };
  if (!meta || meta.body.length < 4) return none;
  const inner = boxes(meta.body.subarray(4)); // FullBox header
  const pitm = inner.find((b) => b.type === "pitm");
  if (!pitm) return none;
  const pv = new DataView(pitm.body.buffer, pitm.body.byteOffset, pitm.body.byteLength);
  const primary = pitm.body[0] === 0 ? pv.getUint16(4) : pv.getUint32(4);
  const iprp = inner.find((b) => b.type === "iprp");
  const kids = iprp ? boxes(iprp.body) : [];
  const ipco = kids.find((b) => b.type === "ipco");
  const props = ipco ? boxes(ipco.body) : [];
  let rotation = 0;
  let mirror: HeifLayout["mirror"] = null;
  for (const ipma of kids.filter((b) => b.type === "ipma")) {
    const b = ipma.body;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const version = b[0]!;
    const wide = (b[3]! & 1) === 1;
    let off = 4;
    const count = dv.getUint32(off);
    off += 4;
    for (let i = 0; i < count && off < b.length; i++) {
      const id = version < 1 ? dv.getUint16(off) : dv.getUint32(off);
      off += version < 1 ? 2 : 4;
      const n = b[off++]!;
      for (let j = 0; j < n; j++) {
        const index = wide ? dv.getUint16(off) & 0x7fff : b[off]! & 0x7f;
        off += wide ? 2 : 1;
        if (id !== primary || index === 0) continue;
        const p = props[index - 1];
        if (p?.type === "irot") rotation = (p.body[0]! & 3) * 90;
        if (p?.type === "imir") mirror = (p.body[0]! & 1) === 0 ? "vertical" : "horizontal";
      }
    }
  }
  return { brand, hasPrimary: true, rotation, mirror };
}

export async function readHeifLayout(path: string): Promise<HeifLayout> {
  // The meta box sits at the head of every file we accept; 1 MiB bounds the read.
  const fh = Bun.file(path);
  return heifLayout(new Uint8Array(await fh.slice(0, 1024 * 1024).arrayBuffer()));
}

/** Decodes the primary image to `outPng`. A file libheif refuses is INVALID_INPUT (not retried). */
export async function decodeHeif(bin: string | null | undefined, input: string, outPng: string, signal?: AbortSignal): Promise<void> {
  if (!bin) throw new UnsupportedMediaError(`this node cannot decode HEIC/HEIF: ${HEIF_INSTALL_HINT}`);
  const r = await runCapture(heifConvertArgs(bin, input, outPng), { signal, timeoutMs: 120_000 });
  if (r.killed) throw r.killed;
  if (r.code !== 0) throw new InvalidInputError(`libheif could not decode the image: ${lastLine(r.stderrTail) || "exit " + r.code}`, { stderrTail: r.stderrTail });
}
