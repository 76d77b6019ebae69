// One listener's Ogg Opus stream: one logical stream (one serial), pages numbered from 0 and
// a granule that counts the samples sent, whatever files, positions and skips the packets come
// from, so the concatenation of every audio.data message is one decodable .opus stream.
import { lacingOf, OGG_BOS, opusTags, writeOggPage, concat } from "./ogg";
import type { TrackFrame } from "./track";

/** Packets per page: ~100 ms of 20 ms Opus frames, so pages follow the pacer's ticks closely. */
const PACKETS_PER_PAGE = 5;

export interface OggOpusWriter {
  /** The two header pages (OpusHead, OpusTags): first thing a listener gets. */
  headers(opusHead: Uint8Array): Uint8Array;
  /** Audio pages holding `frames` (whole packets only). */
  pages(frames: readonly TrackFrame[]): Uint8Array;
}

export function createOggOpusWriter(serial: number, vendor = "medianode"): OggOpusWriter {
  let seq = 0;
  let granule = 0n;
  return {
    headers(opusHead) {
      const v = new DataView(opusHead.buffer, opusHead.byteOffset, opusHead.byteLength);
      // The granule counts from the pre-skip, so the first page's position is never below it.
      granule = BigInt(v.getUint16(10, true));
      const head = writeOggPage({ flags: OGG_BOS, granule: 0n, serial, seq: seq++, packets: [opusHead] });
      const tags = writeOggPage({ flags: 0, granule: 0n, serial, seq: seq++, packets: [opusTags(vendor)] });
      return concat([head, tags]);
    },
    pages(frames) {
      const out: Uint8Array[] = [];
      let group: Uint8Array[] = [];
      let lacing = 0;
      // A page's granule is the sample count at the end of its last packet.
      const flush = () => {
        if (!group.length) return;
        out.push(writeOggPage({ flags: 0, granule, serial, seq: seq++, packets: group }));
        group = [];
        lacing = 0;
      };
      for (const f of frames) {
        const l = lacingOf(f.data);
        if (group.length >= PACKETS_PER_PAGE || lacing + l > 255) flush();
        group.push(f.data);
        lacing += l;
        granule += BigInt(f.samples);
      }
      flush();
      return out.length === 0 ? new Uint8Array(0) : concat(out);
    },
  };
}
