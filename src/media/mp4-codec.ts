// RFC 6381 / ISO 14496-15 codec strings of an fMP4 rendition (hvc1/hev1, av01, vp09, avc1)
// read from its init segment's sample description, as avc-codec.ts does for H.264 in TS: the
// bytes the encoder wrote (profile, tier, level, bit depth), no ffprobe per rung.
import { readFile } from "node:fs/promises";

interface Box {
  type: string;
  /** Payload (after the header). */
  body: Uint8Array;
}

/** The boxes directly inside `buf`. Pure; stops at the first malformed size. */
export function readBoxes(buf: Uint8Array): Box[] {
  const out: Box[] = [];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off + 8 <= buf.length) {
    let size = dv.getUint32(off);
    const type = String.fromCharCode(buf[off + 4]!, buf[off + 5]!, buf[off + 6]!, buf[off + 7]!);
    let header = 8;
    if (size === 1) {
      if (off + 16 > buf.length) break;
      size = Number(dv.getBigUint64(off + 8));
      header = 16;
    } else if (size === 0) size = buf.length - off;
    if (size < header || off + size > buf.length) break;
    out.push({ type, body: buf.subarray(off + header, off + size) });
    off += size;
  }
  return out;
}

const child = (boxes: Box[], type: string) => boxes.find((b) => b.type === type);

/** The first sample entry of the first video track (or any track), with its child boxes. Pure. */
export function sampleEntries(init: Uint8Array): { type: string; children: Box[] }[] {
  const moov = child(readBoxes(init), "moov");
  if (!moov) return [];
  const out: { type: string; children: Box[] }[] = [];
  for (const trak of readBoxes(moov.body).filter((b) => b.type === "trak")) {
    const mdia = child(readBoxes(trak.body), "mdia");
    const minf = mdia && child(readBoxes(mdia.body), "minf");
    const stbl = minf && child(readBoxes(minf.body), "stbl");
    const stsd = stbl && child(readBoxes(stbl.body), "stsd");
    if (!stsd || stsd.body.length < 8) continue;
    // stsd: FullBox header (4) + entry_count (4), then the entries.
    for (const entry of readBoxes(stsd.body.subarray(8))) {
      const visual = ["avc1", "avc3", "hvc1", "hev1", "av01", "vp09"].includes(entry.type);
      // VisualSampleEntry: 78 bytes before its child boxes; AudioSampleEntry: 28.
      const skip = visual ? 78 : entry.type === "mp4a" ? 28 : -1;
      if (skip < 0 || entry.body.length < skip) continue;
      out.push({ type: entry.type, children: readBoxes(entry.body.subarray(skip)) });
    }
  }
  return out;
}

const hex = (n: number) => n.toString(16).toUpperCase();
const pad2 = (n: number) => String(n).padStart(2, "0");

/** hvc1.P.C.Tl.B… from an HEVCDecoderConfigurationRecord (ISO 14496-15 Annex E). Pure. */
export function hevcCodecString(entry: string, hvcC: Uint8Array): string | null {
  if (hvcC.length < 13) return null;
  const b1 = hvcC[1]!;
  const space = ["", "A", "B", "C"][b1 >> 6]!;
  const tier = (b1 >> 5) & 1 ? "H" : "L";
  const profile = b1 & 0x1f;
  const compat = ((hvcC[2]! << 24) | (hvcC[3]! << 16) | (hvcC[4]! << 8) | hvcC[5]!) >>> 0;
  // The 32 compatibility flags in reverse bit order, as hex without leading zeros.
  let rev = 0;
  for (let i = 0; i < 32; i++) if (compat & (1 << i)) rev |= 1 << (31 - i);
  const constraints = [...hvcC.subarray(6, 12)];
  while (constraints.length && constraints[constraints.length - 1] === 0) constraints.pop();
  const level = hvcC[12]!;
  return [`${entry}`, `${space}${profile}`, hex(rev >>> 0), `${tier}${level}`, ...constraints.map(hex)].join(".");
}

/** The nclx colour of a `colr` box, or null. Pure. */
export function nclxOf(children: Box[]): { primaries: number; transfer: number; matrix: number; fullRange: boolean } | null {
  const colr = children.find((b) => b.type === "colr" && String.fromCharCode(...b.body.subarray(0, 4)) === "nclx");
  if (!colr || colr.body.length < 11) return null;
  const dv = new DataView(colr.body.buffer, colr.body.byteOffset, colr.body.byteLength);
  return { primaries: dv.getUint16(4), transfer: dv.getUint16(6), matrix: dv.getUint16(8), fullRange: (colr.body[10]! & 0x80) !== 0 };
}

/**
 * av01.P.LLT.DD from an AV1CodecConfigurationRecord; with the colour fields appended when the
 * stream is not plain BT.709 (AV1 codec ISOBMFF binding §5: needed to tell HDR apart). Pure.
 */
export function av1CodecString(av1C: Uint8Array, colour: ReturnType<typeof nclxOf>): string | null {
  if (av1C.length < 4 || (av1C[0]! & 0x80) === 0) return null;
  const profile = av1C[1]! >> 5;
  const level = av1C[1]! & 0x1f;
  const tier = (av1C[2]! >> 7) & 1 ? "H" : "M";
  const high = (av1C[2]! >> 6) & 1;
  const twelve = (av1C[2]! >> 5) & 1;
  const depth = high ? (twelve ? 12 : 10) : 8;
  const base = `av01.${profile}.${pad2(level)}${tier}.${pad2(depth)}`;
  if (!colour || (colour.primaries === 1 && colour.transfer === 1 && colour.matrix === 1 && !colour.fullRange)) return base;
  const mono = (av1C[2]! >> 4) & 1;
  const sx = (av1C[2]! >> 3) & 1;
  const sy = (av1C[2]! >> 2) & 1;
  const pos = av1C[2]! & 3;
  return `${base}.${mono}.${sx}${sy}${sx && sy ? pos : 0}.${pad2(colour.primaries)}.${pad2(colour.transfer)}.${pad2(colour.matrix)}.${colour.fullRange ? 1 : 0}`;
}

/** vp09.PP.LL.DD from a VPCodecConfigurationRecord (vpcC, a FullBox). Pure. */
export function vp9CodecString(vpcC: Uint8Array): string | null {
  if (vpcC.length < 8) return null;
  const profile = vpcC[4]!;
  const level = vpcC[5]!;
  const depth = vpcC[6]! >> 4;
  return `vp09.${pad2(profile)}.${pad2(level)}.${pad2(depth)}`;
}

/** avc1.PPCCLL from an AVCDecoderConfigurationRecord. Pure. */
export function avcCodecFromAvcC(entry: string, avcC: Uint8Array): string | null {
  if (avcC.length < 4) return null;
  const h = (n: number) => n.toString(16).padStart(2, "0");
  return `${entry}.${h(avcC[1]!)}${h(avcC[2]!)}${h(avcC[3]!)}`;
}

/** The video codec string of an init segment, or null when it has none we know. Pure. */
export function videoCodecFromInit(init: Uint8Array): string | null {
  for (const e of sampleEntries(init)) {
    const cfg = (t: string) => e.children.find((b) => b.type === t)?.body;
    if (e.type === "hvc1" || e.type === "hev1") {
      const c = cfg("hvcC");
      if (c) return hevcCodecString(e.type, c);
    } else if (e.type === "av01") {
      const c = cfg("av1C");
      if (c) return av1CodecString(c, nclxOf(e.children));
    } else if (e.type === "vp09") {
      const c = cfg("vpcC");
      if (c) return vp9CodecString(c);
    } else if (e.type === "avc1" || e.type === "avc3") {
      const c = cfg("avcC");
      if (c) return avcCodecFromAvcC(e.type, c);
    }
  }
  return null;
}

/** videoCodecFromInit of an init segment file (a few KiB). */
export async function readInitVideoCodec(path: string): Promise<string | null> {
  return videoCodecFromInit(new Uint8Array(await readFile(path)));
}
