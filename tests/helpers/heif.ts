// HEIC files made at test time with libheif's heif-enc (libheif-examples), and a patcher
// that gives one an irot/imir transform (heif-enc 1.15 writes none: it keeps a JPEG's EXIF
// orientation as it is), the way iPhones store orientation.
import { readFileSync, writeFileSync } from "node:fs";

export function heifEnc(input: string, output: string): string {
  // x265's fastest preset: the test needs a valid HEIC, not a small one.
  const r = Bun.spawnSync(["heif-enc", "-q", "60", "-p", "preset=ultrafast", input, "-o", output], { stderr: "pipe", stdout: "pipe", stdin: "ignore" });
  if (r.exitCode !== 0) throw new Error(`heif-enc failed: ${r.stderr.toString()}`);
  return output;
}

interface At {
  type: string;
  start: number;
  header: number;
  size: number;
}
function list(buf: Buffer, from: number, to: number): At[] {
  const out: At[] = [];
  for (let off = from; off + 8 <= to; ) {
    const size = buf.readUInt32BE(off);
    if (size < 8) break;
    out.push({ type: buf.toString("latin1", off + 4, off + 8), start: off, header: 8, size });
    off += size;
  }
  return out;
}

/**
 * Adds an `irot` (angle × 90° anticlockwise) or `imir` property to the primary item: the
 * property is appended to ipco, associated in ipma, every enclosing size grows, and iloc's
 * file offsets move past the inserted bytes when the media data follows the meta box.
 */
export function addTransform(path: string, out: string, t: { irot?: number; imir?: 0 | 1 }): string {
  const prop = t.irot !== undefined ? Buffer.from([0, 0, 0, 9, ...Buffer.from("irot"), t.irot & 3]) : Buffer.from([0, 0, 0, 9, ...Buffer.from("imir"), t.imir ?? 0]);
  return addProperty(path, out, prop);
}

/**
 * Adds a `colr` property of type nclx (H.273 code points) to the primary item: heif-enc 1.15
 * ignores its --colour_primaries options for PNG input and writes no colour box at all.
 */
export function addNclx(path: string, out: string, n: { primaries: number; transfer: number; matrix: number; fullRange?: boolean }): string {
  const prop = Buffer.alloc(19);
  prop.writeUInt32BE(19, 0);
  prop.write("colrnclx", 4, "latin1");
  prop.writeUInt16BE(n.primaries, 12);
  prop.writeUInt16BE(n.transfer, 14);
  prop.writeUInt16BE(n.matrix, 16);
  prop[18] = n.fullRange === false ? 0 : 0x80;
  return addProperty(path, out, prop);
}

/** Appends one property box to ipco and associates it with the primary item (see addTransform). */
export function addProperty(path: string, out: string, prop: Buffer): string {
  let buf = Buffer.from(readFileSync(path));
  const top = list(buf, 0, buf.length);
  const meta = top.find((b) => b.type === "meta")!;
  const inner = list(buf, meta.start + 12, meta.start + meta.size);
  const pitm = inner.find((b) => b.type === "pitm")!;
  const primary = buf[pitm.start + 8] === 0 ? buf.readUInt16BE(pitm.start + 12) : buf.readUInt32BE(pitm.start + 12);
  const iprp = inner.find((b) => b.type === "iprp")!;
  const kids = list(buf, iprp.start + 8, iprp.start + iprp.size);
  const ipco = kids.find((b) => b.type === "ipco")!;
  const ipma = kids.find((b) => b.type === "ipma")!;
  const propIndex = list(buf, ipco.start + 8, ipco.start + ipco.size).length + 1;
  // ipma entry of the primary item: version 0, 1-byte associations (flags bit 0 clear).
  if (buf[ipma.start + 8] !== 0 || (buf[ipma.start + 11]! & 1) !== 0) throw new Error("ipma layout not handled by this test helper");
  let off = ipma.start + 16;
  const count = buf.readUInt32BE(ipma.start + 12);
  let assocAt = -1;
  for (let i = 0; i < count; i++) {
    const id = buf.readUInt16BE(off);
    const n = buf[off + 2]!;
    if (id === primary) {
      buf[off + 2] = n + 1;
      assocAt = off + 3 + n;
    }
    off += 3 + n;
  }
  if (assocAt < 0) throw new Error("primary item has no ipma entry");
  const grow = prop.length + 1;
  const ipcoEnd = ipco.start + ipco.size;
  // Insert the association byte first (it lies after ipco), then the property at the end of ipco.
  buf = Buffer.concat([buf.subarray(0, assocAt), Buffer.from([0x80 | propIndex]), buf.subarray(assocAt)]);
  buf = Buffer.concat([buf.subarray(0, ipcoEnd), prop, buf.subarray(ipcoEnd)]);
  const bump = (at: number, by: number) => buf.writeUInt32BE(buf.readUInt32BE(at) + by, at);
  bump(ipco.start, prop.length);
  bump(ipma.start + prop.length, 1);
  bump(iprp.start, grow);
  bump(meta.start, grow);
  // iloc: every extent offset (construction method 0) that points past the meta box moves.
  const iloc = list(buf, meta.start + 12, meta.start + meta.size + grow).find((b) => b.type === "iloc")!;
  const v = buf[iloc.start + 8]!;
  const offSize = buf[iloc.start + 12]! >> 4;
  const lenSize = buf[iloc.start + 12]! & 15;
  const baseSize = buf[iloc.start + 13]! >> 4;
  const idxSize = v >= 1 ? buf[iloc.start + 13]! & 15 : 0;
  let p = iloc.start + 14;
  const items = v < 2 ? buf.readUInt16BE(p) : buf.readUInt32BE(p);
  p += v < 2 ? 2 : 4;
  const metaEnd = meta.start + meta.size; // before growing: data at or after it moved
  const read = (at: number, n: number) => (n === 4 ? buf.readUInt32BE(at) : n === 8 ? Number(buf.readBigUInt64BE(at)) : 0);
  const write = (at: number, n: number, val: number) => (n === 4 ? buf.writeUInt32BE(val, at) : n === 8 ? buf.writeBigUInt64BE(BigInt(val), at) : 0);
  for (let i = 0; i < items; i++) {
    p += v < 2 ? 2 : 4;
    const method = v >= 1 ? buf.readUInt16BE(p) & 15 : 0;
    if (v >= 1) p += 2;
    p += 2; // data_reference_index
    const base = read(p, baseSize);
    const baseAt = p;
    p += baseSize;
    const extents = buf.readUInt16BE(p);
    p += 2;
    if (method === 0 && baseSize && base >= metaEnd) write(baseAt, baseSize, base + grow);
    for (let e = 0; e < extents; e++) {
      p += idxSize;
      const o = read(p, offSize);
      if (method === 0 && !baseSize && o >= metaEnd) write(p, offSize, o + grow);
      p += offSize + lenSize;
    }
  }
  writeFileSync(out, buf);
  return out;
}
