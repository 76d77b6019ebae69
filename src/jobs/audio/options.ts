// Options of the `audio` job (SPEC §2): enums and bounded numbers only (SPEC §7).
import { Type as T, type Static } from "@sinclair/typebox";
import { InvalidOptionsError } from "../../errors";

export const AUDIO_CODECS = ["aac", "mp3", "opus"] as const;
export type AudioCodec = (typeof AUDIO_CODECS)[number];

export const AudioRendition = T.Object(
  {
    codec: T.Union(AUDIO_CODECS.map((c) => T.Literal(c)), { description: "aac (.m4a), mp3 (.mp3) or opus (.opus)" }),
    bitrateKbps: T.Integer({ minimum: 32, maximum: 320, description: "Target bitrate" }),
  },
  { additionalProperties: false },
);
export type AudioRendition = Static<typeof AudioRendition>;

export const DEFAULT_AUDIO_RENDITIONS: AudioRendition[] = [
  { codec: "aac", bitrateKbps: 128 },
  { codec: "mp3", bitrateKbps: 192 },
  { codec: "opus", bitrateKbps: 96 },
];

export const AudioOptions = T.Object(
  {
    renditions: T.Optional(T.Array(AudioRendition, { minItems: 1, maxItems: 8, default: DEFAULT_AUDIO_RENDITIONS, description: "Files to write, all from one decode" })),
    normalize: T.Optional(T.Boolean({ default: false, description: "EBU R128 loudness normalisation (single-pass loudnorm)" })),
    loudnessLufs: T.Optional(T.Integer({ minimum: -31, maximum: -5, default: -16, description: "Integrated loudness target when normalize is on" })),
    sampleRate: T.Optional(T.Union([T.Literal(44100), T.Literal(48000)], { default: 48000, description: "Output sample rate (opus is always 48000); loudnorm would otherwise upsample to 192 kHz" })),
    hls: T.Optional(T.Boolean({ default: false, description: "Also write an audio-only HLS ladder (AAC) with master.m3u8" })),
    hlsBitratesKbps: T.Optional(T.Array(T.Integer({ minimum: 32, maximum: 320 }), { minItems: 1, maxItems: 5, uniqueItems: true, default: [64, 128, 192], description: "AAC rungs of the HLS ladder" })),
    segmentSec: T.Optional(T.Integer({ minimum: 2, maximum: 10, default: 6, description: "HLS segment length" })),
    waveform: T.Optional(T.Boolean({ default: true, description: "Write waveform.json (audiowaveform/peaks.js format, 8-bit min/max pairs)" })),
    waveformPoints: T.Optional(T.Integer({ minimum: 50, maximum: 20000, default: 1000, description: "Number of min/max pairs in waveform.json" })),
    coverArt: T.Optional(T.Union([T.Literal("keep"), T.Literal("drop")], { default: "keep", description: "keep: re-attach the source's cover picture to .mp3 and .m4a (Ogg Opus cannot carry it); drop: remove it" })),
    tags: T.Optional(T.Union([T.Literal("strip"), T.Literal("keep")], { default: "strip", description: "strip: no tags in the renditions (no location, comment, encoder…); keep: copy title, artist and album" })),
  },
  { additionalProperties: false },
);
export type AudioOptionsInput = Static<typeof AudioOptions>;
export interface ResolvedAudioOptions {
  renditions: AudioRendition[];
  normalize: boolean;
  loudnessLufs: number;
  sampleRate: 44100 | 48000;
  hls: boolean;
  hlsBitratesKbps: number[];
  segmentSec: number;
  waveform: boolean;
  waveformPoints: number;
  coverArt: "keep" | "drop";
  tags: "strip" | "keep";
}

export function audioDefaults(input: AudioOptionsInput): ResolvedAudioOptions {
  const renditions = input.renditions ?? DEFAULT_AUDIO_RENDITIONS;
  const seen = new Set<string>();
  for (const r of renditions) {
    const key = `${r.codec}-${r.bitrateKbps}`;
    if (seen.has(key)) throw new InvalidOptionsError(`rendition ${r.codec} ${r.bitrateKbps}k is listed twice`);
    seen.add(key);
  }
  return {
    renditions: renditions.map((r) => ({ ...r })),
    normalize: input.normalize ?? false,
    loudnessLufs: input.loudnessLufs ?? -16,
    sampleRate: input.sampleRate ?? 48000,
    hls: input.hls ?? false,
    hlsBitratesKbps: [...(input.hlsBitratesKbps ?? [64, 128, 192])].sort((a, b) => b - a),
    segmentSec: input.segmentSec ?? 6,
    waveform: input.waveform ?? true,
    waveformPoints: input.waveformPoints ?? 1000,
    coverArt: input.coverArt ?? "keep",
    tags: input.tags ?? "strip",
  };
}
