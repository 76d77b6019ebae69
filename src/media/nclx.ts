// HEIF colour given as nclx (ISO/IEC 23091-2 / ITU-T H.273 code points: primaries, transfer,
// matrix) instead of an ICC profile. libheif turns the YCbCr into RGB with the matrix, but the
// PNG it writes carries no colour information, so a Display P3 or BT.2020 photo would be read
// as if it were sRGB (dull and shifted). Phones that write nclx (Android, some iPhone modes)
// mostly use P3. We write an ICC v2 matrix/TRC profile for the nclx primaries and transfer
// into the decoded PNG (an iCCP chunk), and libvips converts it to sRGB as it does any
// embedded profile. All pure: code points in, bytes out.
import { deflateSync } from "node:zlib";

export interface Nclx {
  primaries: number;
  transfer: number;
  matrix: number;
  fullRange: boolean;
}

type Xy = readonly [number, number];
interface Primaries {
  r: Xy;
  g: Xy;
  b: Xy;
  white: Xy;
  name: string;
}

const D65: Xy = [0.3127, 0.329];
// H.273 Table 2 (colour primaries). 2 (unspecified) is read as BT.709 by every decoder.
const PRIMARIES: Record<number, Primaries> = {
  1: { r: [0.64, 0.33], g: [0.3, 0.6], b: [0.15, 0.06], white: D65, name: "BT.709" },
  4: { r: [0.67, 0.33], g: [0.21, 0.71], b: [0.14, 0.08], white: [0.31, 0.316], name: "BT.470 M" },
  5: { r: [0.64, 0.33], g: [0.29, 0.6], b: [0.15, 0.06], white: D65, name: "BT.601 625" },
  6: { r: [0.63, 0.34], g: [0.31, 0.595], b: [0.155, 0.07], white: D65, name: "BT.601 525" },
  7: { r: [0.63, 0.34], g: [0.31, 0.595], b: [0.155, 0.07], white: D65, name: "SMPTE 240M" },
  9: { r: [0.708, 0.292], g: [0.17, 0.797], b: [0.131, 0.046], white: D65, name: "BT.2020" },
  11: { r: [0.68, 0.32], g: [0.265, 0.69], b: [0.15, 0.06], white: [0.314, 0.351], name: "DCI-P3" },
  12: { r: [0.68, 0.32], g: [0.265, 0.69], b: [0.15, 0.06], white: D65, name: "Display P3" },
  22: { r: [0.63, 0.34], g: [0.295, 0.605], b: [0.155, 0.077], white: D65, name: "EBU 3213" },
};

/** Transfer (H.273 Table 3) as an EOTF-like decode from code value to linear light; null: not an SDR curve we model. */
function transferCurve(code: number): ((v: number) => number) | null {
  switch (code) {
    case 1:
    case 2: // unspecified: as BT.709
    case 6:
    case 14:
    case 15:
      // Inverse of the BT.709 OETF (what colour-managed browsers apply to nclx stills).
      return (v) => (v < 0.081 ? v / 4.5 : Math.pow((v + 0.099) / 1.099, 1 / 0.45));
    case 13:
      return (v) => (v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4));
    case 4:
      return (v) => Math.pow(v, 2.2);
    case 5:
      return (v) => Math.pow(v, 2.8);
    case 8:
      return (v) => v;
    default:
      // PQ (16), HLG (18) and the rest: HDR stills need tone mapping, not a profile.
      return null;
  }
}

/** True when the nclx already means sRGB-like colour: nothing to convert (BT.709 primaries, an SDR gamma). */
export function nclxIsSrgbLike(n: Nclx): boolean {
  return (n.primaries === 1 || n.primaries === 2) && [1, 2, 6, 13, 14, 15].includes(n.transfer);
}

type Mat = [number, number, number, number, number, number, number, number, number];
const mul = (a: Mat, b: Mat): Mat => {
  const o = new Array(9).fill(0) as Mat;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) o[i * 3 + j] = o[i * 3 + j]! + a[i * 3 + k]! * b[k * 3 + j]!;
  return o;
};
const mulVec = (a: Mat, v: readonly number[]): [number, number, number] => [0, 1, 2].map((i) => a[i * 3]! * v[0]! + a[i * 3 + 1]! * v[1]! + a[i * 3 + 2]! * v[2]!) as [number, number, number];
function inv(m: Mat): Mat {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [A / det, -(b * i - c * h) / det, (b * f - c * e) / det, B / det, (a * i - c * g) / det, -(a * f - c * d) / det, C / det, -(a * h - b * g) / det, (a * e - b * d) / det];
}
const xyz = ([x, y]: Xy): [number, number, number] => [x / y, 1, (1 - x - y) / y];

/** RGB (linear) → XYZ for primaries and their white (SMPTE RP 177). Pure. */
export function rgbToXyz(p: Primaries): Mat {
  const [r, g, b] = [xyz(p.r), xyz(p.g), xyz(p.b)];
  const m: Mat = [r[0], g[0], b[0], r[1], g[1], b[1], r[2], g[2], b[2]];
  const s = mulVec(inv(m), xyz(p.white));
  return [m[0] * s[0], m[1] * s[1], m[2] * s[2], m[3] * s[0], m[4] * s[1], m[5] * s[2], m[6] * s[0], m[7] * s[1], m[8] * s[2]];
}

const D50_XYZ = [0.9642, 1, 0.8249] as const;
const BRADFORD: Mat = [0.8951, 0.2664, -0.1614, -0.7502, 1.7135, 0.0367, 0.0389, -0.0685, 1.0296];

/** The Bradford chromatic adaptation from `white` to D50 (the ICC PCS). Pure. */
function adaptToD50(white: Xy): Mat {
  const src = mulVec(BRADFORD, xyz(white));
  const dst = mulVec(BRADFORD, D50_XYZ);
  const scale: Mat = [dst[0] / src[0], 0, 0, 0, dst[1] / src[1], 0, 0, 0, dst[2] / src[2]];
  return mul(inv(BRADFORD), mul(scale, BRADFORD));
}

class Writer {
  readonly parts: Uint8Array[] = [];
  length = 0;
  push(b: Uint8Array): void {
    this.parts.push(b);
    this.length += b.length;
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}
const ascii = (s: string) => new TextEncoder().encode(s);
function be32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0);
  return b;
}
const s15f16 = (v: number) => be32(Math.round(v * 65536) | 0);

function xyzTag(v: readonly number[]): Uint8Array {
  const w = new Writer();
  w.push(ascii("XYZ "));
  w.push(new Uint8Array(4));
  for (const c of v) w.push(s15f16(c));
  return w.bytes();
}

function curvTag(decode: (v: number) => number): Uint8Array {
  const n = 1024;
  const b = new Uint8Array(12 + n * 2);
  const dv = new DataView(b.buffer);
  b.set(ascii("curv"), 0);
  dv.setUint32(8, n);
  for (let i = 0; i < n; i++) dv.setUint16(12 + i * 2, Math.round(Math.min(1, Math.max(0, decode(i / (n - 1)))) * 65535));
  return b;
}

function descTag(text: string): Uint8Array {
  const a = ascii(text);
  const b = new Uint8Array(12 + a.length + 1 + 4 + 4 + 2 + 1 + 67);
  const dv = new DataView(b.buffer);
  b.set(ascii("desc"), 0);
  dv.setUint32(8, a.length + 1);
  b.set(a, 12);
  return b;
}

function textTag(text: string): Uint8Array {
  const a = ascii(text);
  const b = new Uint8Array(8 + a.length + 1);
  b.set(ascii("text"), 0);
  b.set(a, 8);
  return b;
}

/**
 * An ICC v2 display profile (matrix/TRC) for nclx primaries + transfer; null when the nclx
 * is sRGB-like already or outside what a matrix profile can say (HDR transfers, unknown codes).
 */
export function iccFromNclx(n: Nclx): Uint8Array | null {
  if (nclxIsSrgbLike(n)) return null;
  const p = PRIMARIES[n.primaries === 2 ? 1 : n.primaries];
  const decode = transferCurve(n.transfer);
  if (!p || !decode) return null;
  const m = mul(adaptToD50(p.white), rgbToXyz(p));
  const tags: [string, Uint8Array][] = [
    ["desc", descTag(`${p.name} (nclx ${n.primaries}/${n.transfer}/${n.matrix})`)],
    ["cprt", textTag("No copyright, use freely")],
    ["wtpt", xyzTag(D50_XYZ)],
    ["rXYZ", xyzTag([m[0], m[3], m[6]])],
    ["gXYZ", xyzTag([m[1], m[4], m[7]])],
    ["bXYZ", xyzTag([m[2], m[5], m[8]])],
    ["rTRC", curvTag(decode)],
  ];
  const tableSize = 4 + (tags.length + 2) * 12;
  let offset = 128 + tableSize;
  const entries: [string, number, number][] = [];
  const data = new Writer();
  for (const [sig, body] of tags) {
    entries.push([sig, offset, body.length]);
    const padded = new Uint8Array(Math.ceil(body.length / 4) * 4);
    padded.set(body);
    data.push(padded);
    offset += padded.length;
  }
  // One curve for the three channels: tags may share their data.
  const trc = entries.find((e) => e[0] === "rTRC")!;
  entries.push(["gTRC", trc[1], trc[2]], ["bTRC", trc[1], trc[2]]);
  const size = offset;
  const head = new Uint8Array(128);
  const hv = new DataView(head.buffer);
  hv.setUint32(0, size);
  hv.setUint32(8, 0x02100000);
  head.set(ascii("mntrRGB XYZ "), 12);
  [2026, 1, 1, 0, 0, 0].forEach((v, i) => hv.setUint16(24 + i * 2, v));
  head.set(ascii("acsp"), 36);
  D50_XYZ.forEach((v, i) => hv.setInt32(68 + i * 4, Math.round(v * 65536)));
  const table = new Writer();
  table.push(be32(entries.length));
  for (const [sig, off, len] of entries) {
    table.push(ascii(sig));
    table.push(be32(off));
    table.push(be32(len));
  }
  const out = new Writer();
  out.push(head);
  out.push(table.bytes());
  out.push(data.bytes());
  return out.bytes();
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
/** Chunks that already say what the colour is: a PNG having one is left as it is. */
const COLOUR_CHUNKS = new Set(["iCCP", "sRGB", "cICP"]);

/**
 * The PNG with an iCCP chunk holding `icc` right after IHDR (PNG spec: before PLTE/IDAT);
 * null when it is not a PNG or already says its colour. Pure.
 */
export function pngWithIcc(png: Uint8Array, icc: Uint8Array, name = "nclx"): Uint8Array | null {
  if (png.length < 33 || PNG_SIGNATURE.some((v, i) => png[i] !== v)) return null;
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  for (let off = 8; off + 8 <= png.length; ) {
    const len = dv.getUint32(off);
    const type = String.fromCharCode(...png.subarray(off + 4, off + 8));
    if (COLOUR_CHUNKS.has(type)) return null;
    if (type === "IDAT" || type === "IEND") break;
    off += 12 + len;
  }
  const ihdrEnd = 8 + 12 + dv.getUint32(8);
  const body = new Uint8Array([...ascii("iCCP"), ...ascii(name), 0, 0, ...deflateSync(icc)]);
  const chunk = new Uint8Array(4 + body.length + 4);
  const cv = new DataView(chunk.buffer);
  cv.setUint32(0, body.length - 4);
  chunk.set(body, 4);
  cv.setUint32(4 + body.length, crc32(body));
  const out = new Uint8Array(png.length + chunk.length);
  out.set(png.subarray(0, ihdrEnd), 0);
  out.set(chunk, ihdrEnd);
  out.set(png.subarray(ihdrEnd), ihdrEnd + chunk.length);
  return out;
}

/** ffprobe's colour primaries / transfer names → H.273 code points (HEIF sequences' tracks). */
export const FFMPEG_PRIMARIES: Record<string, number> = { bt709: 1, bt470m: 4, bt470bg: 5, smpte170m: 6, smpte240m: 7, bt2020: 9, smpte431: 11, smpte432: 12, jedec_p22: 22 };
export const FFMPEG_TRANSFER: Record<string, number> = { bt709: 1, gamma22: 4, gamma28: 5, smpte170m: 6, linear: 8, "iec61966-2-1": 13, "bt2020-10": 14, "bt2020-12": 15, smpte2084: 16, "arib-std-b67": 18 };
