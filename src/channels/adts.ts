// ADTS AAC frames (ISO/IEC 13818-7 / 14496-3 §1.A.2): each frame carries its own header, so a
// listener's stream is just whole frames one after another, cut at frame boundaries. Pure.

export const ADTS_SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350] as const;

export interface AdtsFrame {
  offset: number;
  length: number;
  sampleRate: number;
  channels: number;
  /** PCM samples per channel (1024 per raw data block). */
  samples: number;
}

export class AdtsError extends Error {
  override name = "AdtsError";
}

/** Every ADTS frame of `b`; a lost sync word or a truncated frame throws AdtsError. */
export function parseAdtsFrames(b: Uint8Array): AdtsFrame[] {
  const frames: AdtsFrame[] = [];
  let at = 0;
  while (at < b.length) {
    if (b.length - at < 7) throw new AdtsError(`truncated ADTS header at byte ${at}`);
    if (b[at] !== 0xff || (b[at + 1]! & 0xf6) !== 0xf0) throw new AdtsError(`no ADTS sync word at byte ${at}`);
    const rateIndex = (b[at + 2]! >> 2) & 0x0f;
    const sampleRate = ADTS_SAMPLE_RATES[rateIndex];
    if (!sampleRate) throw new AdtsError(`bad ADTS sample rate index ${rateIndex} at byte ${at}`);
    const channels = ((b[at + 2]! & 1) << 2) | (b[at + 3]! >> 6);
    const length = ((b[at + 3]! & 3) << 11) | (b[at + 4]! << 3) | (b[at + 5]! >> 5);
    const headerLen = b[at + 1]! & 1 ? 7 : 9;
    if (length < headerLen) throw new AdtsError(`ADTS frame length ${length} shorter than its header at byte ${at}`);
    if (b.length - at < length) throw new AdtsError(`truncated ADTS frame at byte ${at}`);
    const blocks = (b[at + 6]! & 3) + 1;
    frames.push({ offset: at, length, sampleRate, channels, samples: 1024 * blocks });
    at += length;
  }
  return frames;
}

/** Splits a byte stream into whole ADTS frames (a frame may arrive in pieces; ffmpeg's pipe cuts anywhere). */
export function createAdtsFrameStream(): { push(b: Uint8Array): { data: Uint8Array; frame: AdtsFrame }[] } {
  let pending: Uint8Array = new Uint8Array(0);
  return {
    push(b) {
      pending = pending.length ? Buffer.concat([pending, b]) : b;
      let end = 0;
      while (pending.length - end >= 7) {
        const length = ((pending[end + 3]! & 3) << 11) | (pending[end + 4]! << 3) | (pending[end + 5]! >> 5);
        if (length < 7) throw new AdtsError(`ADTS frame length ${length} at byte ${end} of the stream`);
        if (pending.length - end < length) break;
        end += length;
      }
      if (end === 0) return [];
      const whole = pending.subarray(0, end);
      pending = pending.slice(end);
      return parseAdtsFrames(whole).map((f) => ({ data: whole.subarray(f.offset, f.offset + f.length), frame: f }));
    },
  };
}
