// A broadcaster's stream (SPEC §12: WebM/Opus or Ogg/Opus, as MediaRecorder makes): what it is
// from its first bytes, and the Ogg pages of ffmpeg's remux as they arrive. Pure.
import { concat, OggError, parseOggPages, type OggPage } from "./ogg";

export interface LiveInput {
  container: "webm" | "ogg";
  /** Opus already: remux only. Otherwise ffmpeg transcodes to Opus. */
  opus: boolean;
}

const has = (b: Uint8Array, text: string) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).includes(text, 0, "latin1");

/** null: not WebM or Ogg (refused); undefined: too few bytes to tell yet. */
export function sniffLiveInput(b: Uint8Array): LiveInput | null | undefined {
  if (b.length < 4) return undefined;
  if (b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) {
    // EBML header; the codec id is in the Tracks element, a few hundred bytes in.
    if (has(b, "A_OPUS")) return { container: "webm", opus: true };
    if (b.length < 4096) return undefined;
    return { container: "webm", opus: false };
  }
  if (b[0] === 0x4f && b[1] === 0x67 && b[2] === 0x67 && b[3] === 0x53) {
    if (b.length < 40) return undefined;
    return { container: "ogg", opus: has(b.subarray(0, 64), "OpusHead") };
  }
  return null;
}

/** Splits a byte stream into whole Ogg pages (a page may arrive in pieces). */
export function createOggPageStream(): { push(b: Uint8Array): OggPage[] } {
  let pending: Uint8Array = new Uint8Array(0);
  return {
    push(b) {
      pending = pending.length ? concat([pending, b]) : b;
      let end = 0;
      // Whole pages only: walk headers to find how far complete pages reach.
      while (pending.length - end >= 27) {
        const nseg = pending[end + 26]!;
        if (pending.length - end < 27 + nseg) break;
        let body = 0;
        for (let i = 0; i < nseg; i++) body += pending[end + 27 + i]!;
        if (pending.length - end < 27 + nseg + body) break;
        end += 27 + nseg + body;
      }
      if (end === 0) return [];
      const pages = parseOggPages(pending.subarray(0, end));
      pending = pending.slice(end);
      return pages;
    },
  };
}

export { OggError };
