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
import { open } from "node:fs/promises";
import { UnsupportedMediaError, InvalidInputError } from "../errors";
import { lastLine, runCapture } from "./ffmpeg";
import type { Nclx } from "./nclx";

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

// ftyp brands that say HEVC-coded HEIF (ISO/IEC 23008-12 Annex B): heic/heix stills, hevc/hevx sequences, and the multi-view ones.
const HEVC_BRANDS = new Set(["heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs"]);

/**
 * Whether a file's first bytes say HEVC-coded HEIF (so only a node with the heic capability
 * can decode it): an HEVC brand in ftyp, or a generic HEIF brand (mif1/msf1) whose head holds
 * an HEVC item or sample entry (hvc1/hev1 beside its hvcC). Pure; for URL sources sniffed at submit.
 */
export function headNeedsHeic(head: Uint8Array): boolean {
  const ftyp = boxes(head)[0];
  if (ftyp?.type !== "ftyp" || ftyp.body.length < 8) return false;
  const brands = [ftyp.body.subarray(0, 4), ...Array.from({ length: Math.floor((ftyp.body.length - 8) / 4) }, (_, i) => ftyp.body.subarray(8 + i * 4, 12 + i * 4))].map((b) => String.fromCharCode(...b));
  if (brands.some((b) => HEVC_BRANDS.has(b))) return true;
  if (!brands.includes("mif1") && !brands.includes("msf1")) return false;
  return Buffer.from(head.buffer, head.byteOffset, head.byteLength).includes("hvcC", 0, "latin1");
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

/** A colour box: nclx code points, or an ICC profile (which the decoder carries into its PNG). */
export type HeifColour = ({ type: "nclx" } & Nclx) | { type: "icc" } | null;

/**
 * An image sequence's first track (ftyp msf1/hevs...): `moov` → trak → stsd's visual sample
 * entry. Files with no primary item (pure sequences) are decoded from it, by ffmpeg.
 */
export interface HeifSequence {
  /** Sample entry type: hvc1/hev1 (HEVC), av01... */
  codec: string;
  width: number;
  height: number;
  colour: HeifColour;
}

export interface HeifLayout {
  /** ftyp major brand (heic, mif1, msf1...). */
  brand: string;
  /** A `meta` box with a primary item: a still image (heif-convert reads it). */
  hasPrimary: boolean;
  /** Rotation anticlockwise in degrees (irot) and mirror axis (imir) of the primary item. */
  rotation: number;
  mirror: "vertical" | "horizontal" | null;
  /** The primary item's colour box. */
  colour: HeifColour;
  /** The first picture track, when the file has one. */
  sequence: HeifSequence | null;
}

/** A `colr` box body (ISO/IEC 14496-12 §12.1.5). Pure. */
export function parseColr(body: Uint8Array): HeifColour {
  if (body.length < 4) return null;
  const type = String.fromCharCode(...body.subarray(0, 4));
  if (type === "prof" || type === "rICC") return { type: "icc" };
  if (type !== "nclx" || body.length < 11) return null;
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return { type: "nclx", primaries: dv.getUint16(4), transfer: dv.getUint16(6), matrix: dv.getUint16(8), fullRange: (body[10]! & 0x80) !== 0 };
}

const child = (list: Box[], type: string) => list.find((b) => b.type === type);

/** moov → first trak whose stsd has a visual sample entry we know. Pure. */
function firstPictureTrack(moov: Box): HeifSequence | null {
  for (const trak of boxes(moov.body).filter((b) => b.type === "trak")) {
    const mdia = child(boxes(trak.body), "mdia");
    const minf = mdia && child(boxes(mdia.body), "minf");
    const stbl = minf && child(boxes(minf.body), "stbl");
    const stsd = stbl && child(boxes(stbl.body), "stsd");
    if (!stsd || stsd.body.length < 8) continue;
    // FullBox header + entry_count, then sample entries.
    const entry = boxes(stsd.body.subarray(8))[0];
    if (!entry || !["hvc1", "hev1", "av01", "avc1"].includes(entry.type) || entry.body.length < 78) continue;
    const dv = new DataView(entry.body.buffer, entry.body.byteOffset, entry.body.byteLength);
    // VisualSampleEntry: 8 bytes SampleEntry, 16 pre-defined/reserved, then width, height; children after byte 78.
    const colr = child(boxes(entry.body.subarray(78)), "colr");
    return { codec: entry.type, width: dv.getUint16(24), height: dv.getUint16(26), colour: colr ? parseColr(colr.body) : null };
  }
  return null;
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
  const moov = top.find((b) => b.type === "moov");
  const sequence = moov ? firstPictureTrack(moov) : null;
  const none: HeifLayout = { brand, hasPrimary: false, rotation: 0, mirror: null, colour: null, sequence };
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
  let colour: HeifColour = null;
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
        // An ICC and an nclx box may both be there (libheif --enable-two-colr-boxes): the ICC wins.
        if (p?.type === "colr") {
          const c = parseColr(p.body);
          if (c && (colour === null || c.type === "icc")) colour = c;
        }
      }
    }
  }
  return { brand, hasPrimary: true, rotation, mirror, colour, sequence };
}

/** The top-level boxes heifLayout reads (ftyp, meta, moov) are bounded; mdat is skipped, never read. */
const LAYOUT_BOXES = new Set(["ftyp", "meta", "moov"]);
const LAYOUT_BOX_MAX = 8 * 1024 * 1024;

/**
 * Reads only the boxes heifLayout needs, wherever they are: a sequence written by a muxer
 * that puts `moov` after the media data has it at the end of the file.
 */
export async function readHeifLayout(path: string): Promise<HeifLayout> {
  const fh = await open(path, "r");
  try {
    const size = (await fh.stat()).size;
    const parts: Uint8Array[] = [];
    const head = Buffer.alloc(16);
    for (let off = 0, n = 0; off + 8 <= size && n < 64; n++) {
      const { bytesRead } = await fh.read(head, 0, 16, off);
      if (bytesRead < 8) break;
      let box = head.readUInt32BE(0);
      if (box === 1 && bytesRead === 16) box = Number(head.readBigUInt64BE(8));
      else if (box === 0) box = size - off;
      if (box < 8 || off + box > size) break;
      const type = head.toString("latin1", 4, 8);
      if (LAYOUT_BOXES.has(type) && box <= LAYOUT_BOX_MAX) {
        const b = Buffer.alloc(box);
        await fh.read(b, 0, box, off);
        parts.push(b);
      }
      off += box;
    }
    return heifLayout(new Uint8Array(Buffer.concat(parts)));
  } finally {
    await fh.close();
  }
}

/** A HEIF file with no primary item but a picture track: its first frame is the photo (decoded by ffmpeg). */
export function isPureSequence(layout: HeifLayout): boolean {
  return !layout.hasPrimary && layout.sequence !== null;
}

/** argv: the first frame of a HEIF image sequence as a PNG (ffmpeg reads the ISOBMFF track). Pure. */
export function sequenceFrameArgs(ffmpeg: string, input: string, outPng: string): string[] {
  return [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", input, "-map", "0:v:0", "-frames:v", "1", "-an", "-c:v", "png", "-f", "image2", outPng];
}

/** Decodes a pure sequence's first frame to `outPng`. */
export async function decodeSequenceFrame(ffmpeg: string | null | undefined, input: string, outPng: string, signal?: AbortSignal): Promise<void> {
  if (!ffmpeg) throw new UnsupportedMediaError("this node has no ffmpeg to decode a HEIF image sequence");
  const r = await runCapture(sequenceFrameArgs(ffmpeg, input, outPng), { signal, timeoutMs: 120_000 });
  if (r.killed) throw r.killed;
  if (r.code !== 0) throw new InvalidInputError(`ffmpeg could not decode the image sequence: ${lastLine(r.stderrTail) || "exit " + r.code}`, { stderrTail: r.stderrTail });
}

/** Decodes the primary image to `outPng`. A file libheif refuses is INVALID_INPUT (not retried). */
export async function decodeHeif(bin: string | null | undefined, input: string, outPng: string, signal?: AbortSignal): Promise<void> {
  if (!bin) throw new UnsupportedMediaError(`this node cannot decode HEIC/HEIF: ${HEIF_INSTALL_HINT}`);
  const r = await runCapture(heifConvertArgs(bin, input, outPng), { signal, timeoutMs: 120_000 });
  if (r.killed) throw r.killed;
  if (r.code !== 0) throw new InvalidInputError(`libheif could not decode the image: ${lastLine(r.stderrTail) || "exit " + r.code}`, { stderrTail: r.stderrTail });
}
