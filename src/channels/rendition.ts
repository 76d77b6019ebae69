// Which rendition a listener gets (SPEC §12: the one closest to the asked bitrate). One codec
// per stream from start to end, so the concatenation stays decodable. Pure.
import type { ChannelTrack, StreamRendition } from "./schema";
import { STREAM_CODECS, type StreamCodec } from "./track";

export const DEFAULT_STREAM_KBPS = 96;

export function commonCodecs(tracks: readonly ChannelTrack[]): StreamCodec[] {
  return STREAM_CODECS.filter((c) => tracks.length > 0 && tracks.every((t) => t.renditions.some((r) => r.codec === c)));
}

/** The codec of the rendition closest to `kbps` among the codecs every track has (a tie goes to Opus). */
export function chooseCodec(tracks: readonly ChannelTrack[], kbps: number): StreamCodec | null {
  const codecs = commonCodecs(tracks);
  let best: { codec: StreamCodec; d: number } | null = null;
  for (const t of tracks.slice(0, 1))
    for (const r of t.renditions) {
      if (!codecs.includes(r.codec)) continue;
      const d = Math.abs(r.bitrateKbps - kbps);
      if (!best || d < best.d || (d === best.d && r.codec === "opus")) best = { codec: r.codec, d };
    }
  return best?.codec ?? null;
}

/** The track's rendition of `codec` closest to `kbps`. */
export function renditionFor(track: ChannelTrack, codec: StreamCodec, kbps: number): StreamRendition | null {
  let best: StreamRendition | null = null;
  for (const r of track.renditions) if (r.codec === codec && (!best || Math.abs(r.bitrateKbps - kbps) < Math.abs(best.bitrateKbps - kbps))) best = r;
  return best;
}

/**
 * The AAC a broadcast is encoded to for the channel's AAC listeners (one encode per broadcast,
 * shared by all of them): the highest AAC bitrate of the first track, or null when AAC is not
 * a codec every track has (then no listener streams AAC).
 */
export function liveAacKbps(tracks: readonly ChannelTrack[]): number | null {
  if (!commonCodecs(tracks).includes("aac")) return null;
  const rates = tracks[0]!.renditions.filter((r) => r.codec === "aac").map((r) => r.bitrateKbps);
  return rates.length ? Math.max(...rates) : null;
}
