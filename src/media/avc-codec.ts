// The RFC 6381 string of an H.264 rendition (avc1.PPCCLL) read straight from the SPS in the
// first bytes of its first MPEG-TS segment. Reading a few KiB in-process replaces one ffprobe
// per rung (≈60 ms each, several hundred ms under load) when the master playlist is written,
// and it reports the bytes x264 actually wrote: the level x264 picked, the constraint flags.
import { open } from "node:fs/promises";

const TS_PACKET = 188;
const TS_SYNC = 0x47;
const NAL_SPS = 7;
/** The SPS comes with the first IDR at the head of a segment; this bounds the read. */
export const SPS_SCAN_BYTES = 256 * 1024;

/**
 * The elementary-stream bytes of the first video PES stream (stream_id 0xE0–0xEF) in an
 * MPEG-TS buffer, PES headers removed. Pure. Null when the buffer is not TS.
 */
export function tsVideoPayload(ts: Uint8Array, maxBytes = SPS_SCAN_BYTES): Uint8Array | null {
  if (ts.length < TS_PACKET || ts[0] !== TS_SYNC) return null;
  const parts: Uint8Array[] = [];
  let size = 0;
  let videoPid = -1;
  for (let off = 0; off + TS_PACKET <= ts.length && size < maxBytes; off += TS_PACKET) {
    if (ts[off] !== TS_SYNC) return null;
    const pusi = (ts[off + 1]! & 0x40) !== 0;
    const pid = ((ts[off + 1]! & 0x1f) << 8) | ts[off + 2]!;
    const afc = (ts[off + 3]! >> 4) & 3;
    let p = off + 4;
    if (afc & 2) p += 1 + ts[p]!;
    if (!(afc & 1) || p >= off + TS_PACKET) continue;
    const end = off + TS_PACKET;
    if (pusi) {
      const isVideoPes = ts[p] === 0 && ts[p + 1] === 0 && ts[p + 2] === 1 && (ts[p + 3]! & 0xf0) === 0xe0;
      if (videoPid === -1 && isVideoPes) videoPid = pid;
      if (pid !== videoPid) continue;
      if (!isVideoPes) return null;
      // Fixed 9-byte PES header, then PES_header_data_length more.
      p += 9 + ts[p + 8]!;
      if (p >= end) continue;
    } else if (pid !== videoPid) continue;
    parts.push(ts.subarray(p, end));
    size += end - p;
  }
  if (videoPid === -1) return null;
  const out = new Uint8Array(size);
  let o = 0;
  for (const part of parts) {
    out.set(part, o);
    o += part.length;
  }
  return out;
}

/**
 * profile_idc, constraint flags and level_idc of the first SPS NAL unit in an Annex B byte
 * stream. Pure. These three bytes follow the NAL header directly, and no emulation-prevention
 * byte can fall among them (profile_idc is never 0, so no 00 00 pair precedes them).
 */
export function findSps(es: Uint8Array): { profileIdc: number; constraints: number; levelIdc: number } | null {
  for (let i = 0; i + 6 < es.length; i++) {
    if (es[i] !== 0 || es[i + 1] !== 0 || es[i + 2] !== 1) continue;
    const header = es[i + 3]!;
    if ((header & 0x80) === 0 && (header & 0x1f) === NAL_SPS) {
      const profileIdc = es[i + 4]!;
      if (profileIdc === 0) return null;
      return { profileIdc, constraints: es[i + 5]!, levelIdc: es[i + 6]! };
    }
    i += 2;
  }
  return null;
}

/** "avc1.PPCCLL" of the H.264 stream in a TS buffer, or null when no SPS is found. Pure. */
export function avcCodecFromTs(ts: Uint8Array): string | null {
  const es = tsVideoPayload(ts);
  const sps = es && findSps(es);
  if (!sps) return null;
  const hex = (n: number) => n.toString(16).padStart(2, "0");
  return `avc1.${hex(sps.profileIdc)}${hex(sps.constraints)}${hex(sps.levelIdc)}`;
}

/** avcCodecFromTs of the head of a segment file (reads at most SPS_SCAN_BYTES). */
export async function readSegmentAvcCodec(segment: string): Promise<string | null> {
  const fh = await open(segment, "r");
  try {
    const buf = new Uint8Array(SPS_SCAN_BYTES);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return avcCodecFromTs(buf.subarray(0, bytesRead - (bytesRead % TS_PACKET)));
  } finally {
    await fh.close();
  }
}
