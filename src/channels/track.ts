// A rendition file as the channel streams it: a list of frames (Opus packets or ADTS frames)
// with their start times, read once per file and shared by every listener. Pure: bytes in.
import { AdtsError, parseAdtsFrames } from "./adts";
import { OggError, oggPackets, opusPacketSamples, parseOggPages, parseOpusHead } from "./ogg";

export const STREAM_CODECS = ["opus", "aac"] as const;
export type StreamCodec = (typeof STREAM_CODECS)[number];

export interface TrackFrame {
  data: Uint8Array;
  startSec: number;
  durSec: number;
  /** Samples at the stream's granule rate (48 kHz for Opus, the sample rate for AAC). */
  samples: number;
}

export interface StreamTrack {
  codec: StreamCodec;
  sampleRate: number;
  channels: number;
  durationSec: number;
  frames: TrackFrame[];
  /** Opus only: the file's OpusHead packet and its pre-skip. */
  opusHead: Uint8Array | null;
  preSkip: number;
}

export class TrackError extends Error {
  override name = "TrackError";
}

/** An Ogg Opus file (one logical stream: OpusHead, OpusTags, then audio packets). */
export function opusTrack(bytes: Uint8Array): StreamTrack {
  let packets;
  try {
    packets = oggPackets(parseOggPages(bytes));
  } catch (e) {
    if (e instanceof OggError) throw new TrackError(`not a readable Ogg file: ${e.message}`);
    throw e;
  }
  const head = packets[0] ? parseOpusHead(packets[0].data) : null;
  if (!head) throw new TrackError("the Ogg file does not start with OpusHead");
  const frames: TrackFrame[] = [];
  let samples = 0;
  for (const p of packets.slice(2)) {
    const n = opusPacketSamples(p.data);
    if (n === 0) continue;
    frames.push({ data: p.data, startSec: samples / 48000, durSec: n / 48000, samples: n });
    samples += n;
  }
  return { codec: "opus", sampleRate: 48000, channels: head.channels, durationSec: samples / 48000, frames, opusHead: packets[0]!.data, preSkip: head.preSkip };
}

/** An ADTS AAC file. */
export function aacTrack(bytes: Uint8Array): StreamTrack {
  let parsed;
  try {
    parsed = parseAdtsFrames(bytes);
  } catch (e) {
    if (e instanceof AdtsError) throw new TrackError(`not a readable ADTS file: ${e.message}`);
    throw e;
  }
  if (!parsed.length) throw new TrackError("the ADTS file has no frames");
  const frames: TrackFrame[] = [];
  let t = 0;
  for (const f of parsed) {
    const durSec = f.samples / f.sampleRate;
    frames.push({ data: bytes.subarray(f.offset, f.offset + f.length), startSec: t, durSec, samples: f.samples });
    t += durSec;
  }
  return { codec: "aac", sampleRate: parsed[0]!.sampleRate, channels: parsed[0]!.channels, durationSec: t, frames, opusHead: null, preSkip: 0 };
}

/** Index of the frame playing at `sec` (the last frame starting at or before it). */
export function frameIndexAt(t: Pick<StreamTrack, "frames">, sec: number): number {
  let lo = 0;
  let hi = t.frames.length - 1;
  if (hi < 0 || sec <= 0) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (t.frames[mid]!.startSec <= sec) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
