// nclx colour (H.273 code points) → an ICC profile in the decoded PNG (media/nclx.ts), and
// the HEIF head checks (media/heif.ts) that route and decode phone photos. Pure functions;
// the profiles are checked by what libvips (lcms) makes of them, against colour math done
// here independently and against libvips's own Display P3 profile.
import { describe, expect, test } from "bun:test";
import sharp from "sharp";
import { headNeedsHeic, heifLayout, parseColr, sequenceFrameArgs } from "../../src/media/heif";
import { iccFromNclx, nclxIsSrgbLike, pngWithIcc, rgbToXyz } from "../../src/media/nclx";

const P3 = { primaries: 12, transfer: 13, matrix: 6, fullRange: true };
const srgbDecode = (v: number) => (v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4));
const srgbEncode = (v: number) => (v <= 0.0031308 ? v * 12.92 : 1.055 * Math.pow(v, 1 / 2.4) - 0.055);

async function flatPng(rgb: [number, number, number]): Promise<Uint8Array> {
  return new Uint8Array(await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toBuffer());
}
async function asSrgb(png: Uint8Array): Promise<number[]> {
  return [...(await sharp(png).toColourspace("srgb").raw().toBuffer()).subarray(0, 3)];
}
const dist = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));

describe("rgbToXyz", () => {
  test("BT.709 primaries with D65 give the sRGB matrix of IEC 61966-2-1", () => {
    const m = rgbToXyz({ r: [0.64, 0.33], g: [0.3, 0.6], b: [0.15, 0.06], white: [0.3127, 0.329], name: "" });
    const want = [0.4124, 0.3576, 0.1805, 0.2126, 0.7152, 0.0722, 0.0193, 0.1192, 0.9505];
    m.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(0.0005));
  });
});

describe("iccFromNclx", () => {
  test("sRGB-like code points need no profile; HDR transfers and unknown primaries get none", () => {
    expect(nclxIsSrgbLike({ primaries: 1, transfer: 13, matrix: 6, fullRange: true })).toBe(true);
    expect(iccFromNclx({ primaries: 2, transfer: 2, matrix: 2, fullRange: true })).toBeNull();
    expect(iccFromNclx({ primaries: 9, transfer: 16, matrix: 9, fullRange: true })).toBeNull(); // PQ
    expect(iccFromNclx({ primaries: 9, transfer: 18, matrix: 9, fullRange: true })).toBeNull(); // HLG
    expect(iccFromNclx({ primaries: 99, transfer: 13, matrix: 6, fullRange: true })).toBeNull();
  });

  test("a well-formed ICC v2 display profile: size, signature, tag table", () => {
    const icc = iccFromNclx(P3)!;
    const dv = new DataView(icc.buffer, icc.byteOffset, icc.byteLength);
    expect(dv.getUint32(0)).toBe(icc.length);
    expect(String.fromCharCode(...icc.subarray(36, 40))).toBe("acsp");
    expect(String.fromCharCode(...icc.subarray(12, 24))).toBe("mntrRGB XYZ ");
    const tags = Array.from({ length: dv.getUint32(128) }, (_, i) => String.fromCharCode(...icc.subarray(132 + i * 12, 136 + i * 12)));
    expect(tags.sort()).toEqual(["bTRC", "bXYZ", "cprt", "desc", "gTRC", "gXYZ", "rTRC", "rXYZ", "wtpt"]);
  });

  // Independent of the module: primaries → XYZ (white D65 for both, so no adaptation) → linear sRGB.
  const XYZ_TO_SRGB = [3.2406, -1.5372, -0.4986, -0.9689, 1.8758, 0.0415, 0.0557, -0.204, 1.057];
  function expected(rgb: number[], prim: { r: [number, number]; g: [number, number]; b: [number, number] }, decode: (v: number) => number): number[] {
    const toXyz = rgbToXyz({ ...prim, white: [0.3127, 0.329], name: "" });
    const lin = rgb.map((v) => decode(v / 255));
    const X = [0, 1, 2].map((i) => toXyz[i * 3]! * lin[0]! + toXyz[i * 3 + 1]! * lin[1]! + toXyz[i * 3 + 2]! * lin[2]!);
    return [0, 1, 2].map((i) => Math.round(255 * srgbEncode(Math.min(1, Math.max(0, XYZ_TO_SRGB[i * 3]! * X[0]! + XYZ_TO_SRGB[i * 3 + 1]! * X[1]! + XYZ_TO_SRGB[i * 3 + 2]! * X[2]!)))));
  }

  test("Display P3 values → sRGB: as the colour math says, and as libvips's own P3 profile does", async () => {
    const p3: [number, number, number] = [200, 100, 50];
    const got = await asSrgb(pngWithIcc(await flatPng(p3), iccFromNclx(P3)!)!);
    expect(dist(got, expected(p3, { r: [0.68, 0.32], g: [0.265, 0.69], b: [0.15, 0.06] }, srgbDecode))).toBeLessThanOrEqual(2);
    const vipsP3 = (await sharp(await flatPng(p3)).withIccProfile("p3").png().toBuffer().then((b) => sharp(b).metadata())).icc!;
    expect(dist(got, await asSrgb(pngWithIcc(await flatPng(p3), new Uint8Array(vipsP3))!))).toBeLessThanOrEqual(2);
    // Read as sRGB (what happened before), the colour is visibly off: the check can fail.
    expect(dist(await asSrgb(await flatPng(p3)), got)).toBeGreaterThan(10);
  });

  test("BT.2020 primaries with the BT.709 transfer → sRGB, as the colour math says", async () => {
    const rgb: [number, number, number] = [120, 150, 110];
    const bt709Decode = (v: number) => (v < 0.081 ? v / 4.5 : Math.pow((v + 0.099) / 1.099, 1 / 0.45));
    const got = await asSrgb(pngWithIcc(await flatPng(rgb), iccFromNclx({ primaries: 9, transfer: 1, matrix: 9, fullRange: true })!)!);
    const want = expected(rgb, { r: [0.708, 0.292], g: [0.17, 0.797], b: [0.131, 0.046] }, bt709Decode);
    expect(dist(got, want)).toBeLessThanOrEqual(2);
    expect(dist(got, rgb)).toBeGreaterThan(10);
  });
});

describe("pngWithIcc", () => {
  test("adds a chunk libpng accepts (CRC right) carrying the profile byte for byte", async () => {
    const icc = iccFromNclx(P3)!;
    const out = pngWithIcc(await flatPng([1, 2, 3]), icc)!;
    const m = await sharp(out).metadata();
    expect(Buffer.compare(m.icc!, Buffer.from(icc))).toBe(0);
  });

  test("leaves a PNG that already says its colour, and refuses what is not a PNG", async () => {
    const icc = iccFromNclx(P3)!;
    const once = pngWithIcc(await flatPng([1, 2, 3]), icc)!;
    expect(pngWithIcc(once, icc)).toBeNull();
    expect(pngWithIcc(new TextEncoder().encode("not a png at all, just some text here"), icc)).toBeNull();
  });
});

describe("HEIF boxes", () => {
  const box = (type: string, body: number[] | Uint8Array) => {
    const b = new Uint8Array(8 + body.length);
    new DataView(b.buffer).setUint32(0, b.length);
    b.set(new TextEncoder().encode(type), 4);
    b.set(body, 8);
    return b;
  };
  const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
  const ftyp = (major: string, ...compat: string[]) => box("ftyp", [...new TextEncoder().encode(major), 0, 0, 0, 0, ...compat.flatMap((c) => [...new TextEncoder().encode(c)])]);

  test("parseColr: nclx code points and range, ICC kinds, junk", () => {
    expect(parseColr(new Uint8Array([...new TextEncoder().encode("nclx"), 0, 12, 0, 13, 0, 6, 0x80]))).toEqual({ type: "nclx", primaries: 12, transfer: 13, matrix: 6, fullRange: true });
    expect(parseColr(new Uint8Array([...new TextEncoder().encode("nclx"), 0, 9, 0, 16, 0, 9, 0]))).toMatchObject({ fullRange: false, transfer: 16 });
    expect(parseColr(new TextEncoder().encode("prof...."))).toEqual({ type: "icc" });
    expect(parseColr(new Uint8Array([1, 2]))).toBeNull();
  });

  test("headNeedsHeic: HEVC brands, a generic brand with an HEVC item, AVIF and MP4 not", () => {
    expect(headNeedsHeic(ftyp("heic", "mif1", "heic"))).toBe(true);
    expect(headNeedsHeic(ftyp("msf1", "msf1", "hevc"))).toBe(true);
    expect(headNeedsHeic(cat(ftyp("mif1", "mif1"), box("meta", [0, 0, 0, 0, ...box("hvcC", [1])])))).toBe(true);
    expect(headNeedsHeic(cat(ftyp("avif", "mif1", "avif"), box("meta", [0, 0, 0, 0, ...box("av1C", [1])])))).toBe(false);
    expect(headNeedsHeic(ftyp("isom", "mp41"))).toBe(false);
    expect(headNeedsHeic(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]))).toBe(false);
  });

  test("heifLayout finds a pure sequence's track: size, codec, colour", () => {
    // moov → trak → mdia → minf → stbl → stsd → hvc1 (78-byte visual sample entry + colr).
    const entry = new Uint8Array(78);
    new DataView(entry.buffer).setUint16(24, 640);
    new DataView(entry.buffer).setUint16(26, 480);
    const colr = box("colr", [...new TextEncoder().encode("nclx"), 0, 12, 0, 13, 0, 6, 0x80]);
    const stsd = box("stsd", [0, 0, 0, 0, 0, 0, 0, 1, ...box("hvc1", cat(entry, box("hvcC", [1]), colr))]);
    const moov = box("moov", box("trak", box("mdia", box("minf", box("stbl", stsd)))));
    const l = heifLayout(cat(ftyp("msf1", "msf1", "hevc"), moov));
    expect(l).toMatchObject({ brand: "msf1", hasPrimary: false, sequence: { codec: "hvc1", width: 640, height: 480, colour: { type: "nclx", primaries: 12 } } });
  });

  test("sequenceFrameArgs: the first frame of the first video stream, PNG", () => {
    const a = sequenceFrameArgs("ffmpeg", "in.heics", "out.png");
    expect(a.slice(a.indexOf("-map"), a.indexOf("-map") + 4)).toEqual(["-map", "0:v:0", "-frames:v", "1"]);
    expect(a.at(-1)).toBe("out.png");
  });
});
