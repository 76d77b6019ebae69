// waveform.json in the BBC audiowaveform JSON format (what peaks.js and wavesurfer read):
// min/max pairs per bucket, 8-bit. Computed from a low-rate mono s16le decode that the
// rendition run writes as one more output, so it costs no extra decode.
import type { BunFile } from "bun";

export interface Waveform {
  version: 2;
  channels: 1;
  sample_rate: number;
  samples_per_pixel: number;
  bits: 8;
  length: number;
  data: number[];
}

/** Folds 16-bit samples into `points` min/max buckets. Pure, and incremental so a long file streams. */
export class PeakFolder {
  private readonly mins: Int16Array;
  private readonly maxs: Int16Array;
  private seen = 0;
  readonly samplesPerPixel: number;
  constructor(
    readonly totalSamples: number,
    points: number,
  ) {
    this.samplesPerPixel = Math.max(1, Math.ceil(totalSamples / Math.max(1, points)));
    const n = Math.max(1, Math.ceil(totalSamples / this.samplesPerPixel));
    this.mins = new Int16Array(n);
    this.maxs = new Int16Array(n);
  }
  push(samples: Int16Array): void {
    for (let i = 0; i < samples.length; i++, this.seen++) {
      const b = Math.min(this.mins.length - 1, Math.floor(this.seen / this.samplesPerPixel));
      const v = samples[i]!;
      if (v < this.mins[b]!) this.mins[b] = v;
      if (v > this.maxs[b]!) this.maxs[b] = v;
    }
  }
  toJson(sampleRate: number): Waveform {
    const data: number[] = [];
    const to8 = (v: number) => Math.max(-128, Math.min(127, Math.round(v / 256)));
    for (let i = 0; i < this.mins.length; i++) data.push(to8(this.mins[i]!), to8(this.maxs[i]!));
    return { version: 2, channels: 1, sample_rate: sampleRate, samples_per_pixel: this.samplesPerPixel, bits: 8, length: this.mins.length, data };
  }
}

/** Reads a mono s16le file in chunks and folds it. */
export async function waveformFromPcm(file: BunFile, sampleRate: number, points: number): Promise<Waveform> {
  const folder = new PeakFolder(Math.floor(file.size / 2), points);
  let carry: Uint8Array | null = null;
  for await (const chunk of file.stream()) {
    let bytes: Uint8Array = chunk;
    if (carry) {
      const merged = new Uint8Array(carry.length + chunk.length);
      merged.set(carry);
      merged.set(chunk, carry.length);
      bytes = merged;
      carry = null;
    }
    const even = bytes.length - (bytes.length % 2);
    if (even < bytes.length) carry = bytes.slice(even);
    // Copy to an aligned buffer: chunk offsets are not guaranteed to be 2-byte aligned.
    const aligned = new Int16Array(even / 2);
    new Uint8Array(aligned.buffer).set(bytes.subarray(0, even));
    folder.push(aligned);
  }
  return folder.toJson(sampleRate);
}
