// Ogg pages (RFC 3533) and Opus packet durations (RFC 6716 §3.1, RFC 7845): the parser reads
// a rendition file into packets; the writer re-pages them into one continuous logical stream
// per listener (one serial, page sequence from 0, granule counting the samples sent), so a
// listener's concatenated audio.data is one valid Ogg Opus stream whatever it joined at,
// however many tracks it spans and however often it was skipped forward. Pure: no I/O.

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let j = 0; j < 8; j++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

/** Ogg's CRC-32 (poly 0x04c11db7, unreflected, init 0, no final xor). */
export function oggCrc(b: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < b.length; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ b[i]!) & 0xff]!) >>> 0;
  return crc >>> 0;
}

export const OGG_CONTINUED = 0x01;
export const OGG_BOS = 0x02;
export const OGG_EOS = 0x04;

export interface OggPage {
  flags: number;
  /** -1n: no packet ends on this page. */
  granule: bigint;
  serial: number;
  seq: number;
  /** Packet pieces in order; the last is unfinished when `lastOpen`. */
  pieces: Uint8Array[];
  lastOpen: boolean;
  /** Bytes of the page in the input. */
  size: number;
}

export class OggError extends Error {
  override name = "OggError";
}

/** Every page of `b` in order; a bad capture pattern, CRC or a truncated page throws OggError. */
export function parseOggPages(b: Uint8Array): OggPage[] {
  const pages: OggPage[] = [];
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let at = 0;
  while (at < b.length) {
    if (b.length - at < 27) throw new OggError(`truncated Ogg page header at byte ${at}`);
    if (b[at] !== 0x4f || b[at + 1] !== 0x67 || b[at + 2] !== 0x67 || b[at + 3] !== 0x53) throw new OggError(`no OggS capture pattern at byte ${at}`);
    if (b[at + 4] !== 0) throw new OggError(`unknown Ogg version ${b[at + 4]} at byte ${at}`);
    const nseg = b[at + 26]!;
    const headerLen = 27 + nseg;
    if (b.length - at < headerLen) throw new OggError(`truncated lacing table at byte ${at}`);
    let bodyLen = 0;
    for (let i = 0; i < nseg; i++) bodyLen += b[at + 27 + i]!;
    const size = headerLen + bodyLen;
    if (b.length - at < size) throw new OggError(`truncated Ogg page at byte ${at}`);
    const page = b.slice(at, at + size);
    const stored = v.getUint32(at + 22, true);
    page[22] = page[23] = page[24] = page[25] = 0;
    if (oggCrc(page) !== stored) throw new OggError(`bad Ogg CRC at byte ${at}`);
    const pieces: Uint8Array[] = [];
    let off = at + headerLen;
    let start = off;
    let lastOpen = false;
    for (let i = 0; i < nseg; i++) {
      const l = b[at + 27 + i]!;
      off += l;
      if (l < 255) {
        pieces.push(b.subarray(start, off));
        start = off;
        lastOpen = false;
      } else lastOpen = true;
    }
    if (lastOpen) pieces.push(b.subarray(start, off));
    pages.push({ flags: b[at + 5]!, granule: v.getBigInt64(at + 6, true), serial: v.getUint32(at + 14, true), seq: v.getUint32(at + 18, true), pieces, lastOpen, size });
    at += size;
  }
  return pages;
}

export interface OggPacket {
  data: Uint8Array;
  /** Granule of the page this packet ends on (-1n never happens for an ending packet's page). */
  pageGranule: bigint;
}

/** Packets of one logical stream, joined across pages. */
export function oggPackets(pages: OggPage[]): OggPacket[] {
  const out: OggPacket[] = [];
  let open: Uint8Array[] = [];
  for (const p of pages) {
    p.pieces.forEach((piece, i) => {
      open.push(piece);
      const ends = !(p.lastOpen && i === p.pieces.length - 1);
      if (ends) {
        out.push({ data: concat(open), pageGranule: p.granule });
        open = [];
      }
    });
  }
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One page holding whole packets (≤ 255 lacing values in all). */
export function writeOggPage(o: { flags: number; granule: bigint; serial: number; seq: number; packets: Uint8Array[] }): Uint8Array {
  const lacing: number[] = [];
  for (const p of o.packets) {
    let n = p.length;
    while (n >= 255) (lacing.push(255), (n -= 255));
    lacing.push(n);
  }
  if (lacing.length > 255) throw new OggError(`${lacing.length} lacing values do not fit one page`);
  const body = o.packets.reduce((s, p) => s + p.length, 0);
  const page = new Uint8Array(27 + lacing.length + body);
  const v = new DataView(page.buffer);
  page.set([0x4f, 0x67, 0x67, 0x53, 0, o.flags]);
  v.setBigInt64(6, o.granule, true);
  v.setUint32(14, o.serial >>> 0, true);
  v.setUint32(18, o.seq >>> 0, true);
  page[26] = lacing.length;
  page.set(lacing, 27);
  let at = 27 + lacing.length;
  for (const p of o.packets) (page.set(p, at), (at += p.length));
  v.setUint32(22, oggCrc(page), true);
  return page;
}

/** Lacing values a packet needs (for grouping packets into pages). */
export const lacingOf = (p: Uint8Array) => Math.floor(p.length / 255) + 1;

const FRAME_MS_SILK = [10, 20, 40, 60];
const FRAME_MS_CELT = [2.5, 5, 10, 20];

/** Samples at 48 kHz in one Opus packet, from its TOC byte (RFC 6716 §3.1); 0 if malformed. */
export function opusPacketSamples(p: Uint8Array): number {
  if (p.length < 1) return 0;
  const config = p[0]! >> 3;
  const ms = config < 12 ? FRAME_MS_SILK[config & 3]! : config < 16 ? (config & 1 ? 20 : 10) : FRAME_MS_CELT[config & 3]!;
  const code = p[0]! & 3;
  const frames = code === 0 ? 1 : code < 3 ? 2 : p.length > 1 ? p[1]! & 0x3f : 0;
  return Math.round(ms * 48) * frames;
}

export interface OpusHeadInfo {
  channels: number;
  preSkip: number;
  inputRate: number;
}

/** OpusHead's fields (RFC 7845 §5.1), or null when the packet is not one. */
export function parseOpusHead(p: Uint8Array): OpusHeadInfo | null {
  if (p.length < 19 || new TextDecoder().decode(p.subarray(0, 8)) !== "OpusHead") return null;
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  return { channels: p[9]!, preSkip: v.getUint16(10, true), inputRate: v.getUint32(12, true) };
}

/** A minimal OpusTags packet (vendor only, no comments): a listener's stream carries no file's tags. */
export function opusTags(vendor: string): Uint8Array {
  const vend = new TextEncoder().encode(vendor);
  const p = new Uint8Array(8 + 4 + vend.length + 4);
  p.set(new TextEncoder().encode("OpusTags"));
  new DataView(p.buffer).setUint32(8, vend.length, true);
  p.set(vend, 12);
  return p;
}
