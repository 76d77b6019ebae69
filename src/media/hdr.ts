// HDR video: what a probe says about it, its static metadata (first frame's side data), and
// the tone-mapping chain. Pure, except probeHdrMetadata (one ffprobe of one frame).
//
// Tone mapping (zscale + tonemap, both in Debian's ffmpeg): linearise with a nominal peak
// luminance (npl) of 100 nits, so SDR white is 1.0; convert primaries to BT.709 in linear
// light; compress with `mobius` (linear up to a knee, then a smooth roll-off, desat=0 so
// highlights keep their colour); re-encode BT.709 transfer, limited range, 8-bit 4:2:0.
// Peak: the source's MaxCLL, else its mastering display's max luminance, else 1000 nits (the
// usual HDR10 grade, and HLG's nominal display peak), never below SDR white. Measured on a
// testsrc2 pattern taken to PQ and to HLG (reference white at 203 nits, BT.2408) against the
// SDR render of the same pattern, PSNR dB at peak 1000: mobius 25.2 / 25.2, hable 19.5 / 19.5,
// reinhard 24.0 / 24.1, clip 24.8 / 24.7, no tone mapping 14.7 / 17.6 (PQ / HLG); mobius
// also varied least with the assumed peak (25.2–26.5 dB over 203–1000 nits; hable 19.5–28.3).
import { Type as T, type Static } from "@sinclair/typebox";
import { FILE_ONLY_PROTOCOLS, MEDIA_DEMUXERS, runCapture } from "./ffmpeg";
import type { ProbeStream } from "./probe";

export type HdrTransfer = "pq" | "hlg";

export const HdrInfo = T.Object({
  transfer: T.Union([T.Literal("pq"), T.Literal("hlg")]),
  /** "hdr10" (PQ), "hlg", or "dolby-vision" (with its profile). */
  format: T.Union([T.Literal("hdr10"), T.Literal("hlg"), T.Literal("dolby-vision")]),
  dolbyVisionProfile: T.Optional(T.Integer()),
  /** Base-layer compatibility id of Dolby Vision (1 HDR10, 2 SDR, 4 HLG, 0 none). */
  dolbyVisionCompatibility: T.Optional(T.Integer()),
});
export type HdrInfo = Static<typeof HdrInfo>;

/** What the stream is: HDR10/PQ, HLG or Dolby Vision over one of them; null for SDR. Pure. */
export function hdrInfo(v: Pick<ProbeStream, "colorTransfer" | "dolbyVision">): HdrInfo | null {
  const dv = v.dolbyVision;
  // Profile 5 is IPTPQc2 with no compatible base layer: its transfer is PQ-like, tags absent.
  if (dv && dv.profile === 5) return { transfer: "pq", format: "dolby-vision", dolbyVisionProfile: 5, dolbyVisionCompatibility: dv.compatibilityId };
  const t = v.colorTransfer === "smpte2084" ? "pq" : v.colorTransfer === "arib-std-b67" ? "hlg" : null;
  if (dv && dv.profile > 0) {
    // 8.1 HDR10 base, 8.4 HLG base (iPhone); 8.2 is SDR base (not HDR to us).
    const transfer: HdrTransfer | null = t ?? (dv.compatibilityId === 1 ? "pq" : dv.compatibilityId === 4 ? "hlg" : null);
    if (!transfer) return null;
    return { transfer, format: "dolby-vision", dolbyVisionProfile: dv.profile, dolbyVisionCompatibility: dv.compatibilityId };
  }
  if (!t) return null;
  return { transfer: t, format: t === "pq" ? "hdr10" : "hlg" };
}

/** Dolby Vision with no base layer a decoder can show (profile 5; 7 is dual-layer BD). */
export function dolbyVisionWithoutBase(info: HdrInfo | null): boolean {
  return info?.format === "dolby-vision" && (info.dolbyVisionProfile === 5 || info.dolbyVisionCompatibility === 0);
}

export const HdrMetadata = T.Object({
  /** Chromaticities as CIE 1931 xy, luminance in cd/m². */
  masteringDisplay: T.Optional(
    T.Object({
      red: T.Tuple([T.Number(), T.Number()]),
      green: T.Tuple([T.Number(), T.Number()]),
      blue: T.Tuple([T.Number(), T.Number()]),
      whitePoint: T.Tuple([T.Number(), T.Number()]),
      minLuminance: T.Number(),
      maxLuminance: T.Number(),
    }),
  ),
  contentLight: T.Optional(T.Object({ maxCll: T.Integer(), maxFall: T.Integer() })),
});
export type HdrMetadata = Static<typeof HdrMetadata>;

type Raw = Record<string, unknown>;
function ratio(v: unknown): number | null {
  if (typeof v === "number") return v;
  if (typeof v !== "string") return null;
  const [a, b] = v.split("/").map(Number);
  if (!Number.isFinite(a) || !b) return null;
  return a! / b;
}

/** Mastering display and content light level from ffprobe's frame side data JSON. Pure. */
export function parseHdrMetadata(json: unknown): HdrMetadata {
  const frames = ((json as Raw | null)?.frames ?? []) as Raw[];
  const sides = (Array.isArray(frames) && frames[0] && Array.isArray(frames[0].side_data_list) ? frames[0].side_data_list : []) as Raw[];
  const out: HdrMetadata = {};
  const md = sides.find((s) => s.side_data_type === "Mastering display metadata");
  if (md) {
    const xy = (k: string): [number, number] | null => {
      const x = ratio(md[`${k}_x`]);
      const y = ratio(md[`${k}_y`]);
      return x === null || y === null ? null : [x, y];
    };
    const [r, g, b, w] = [xy("red"), xy("green"), xy("blue"), xy("white_point")];
    const min = ratio(md.min_luminance);
    const max = ratio(md.max_luminance);
    if (r && g && b && w && min !== null && max !== null && max > 0) out.masteringDisplay = { red: r, green: g, blue: b, whitePoint: w, minLuminance: min, maxLuminance: max };
  }
  const cl = sides.find((s) => s.side_data_type === "Content light level metadata");
  if (cl && typeof cl.max_content === "number" && cl.max_content > 0) out.contentLight = { maxCll: Math.round(cl.max_content), maxFall: Math.round(Number(cl.max_average) || 0) };
  return out;
}

/** ffprobe argv reading the first video frame's side data (pure). */
export function hdrMetadataArgs(ffprobe: string, input: string, videoIndex: number, protocols = FILE_ONLY_PROTOCOLS): string[] {
  return [
    ffprobe, "-v", "error", "-protocol_whitelist", protocols, "-format_whitelist", MEDIA_DEMUXERS,
    "-select_streams", String(videoIndex), "-read_intervals", "%+#1", "-show_frames", "-show_entries", "frame=side_data_list", "-of", "json", "-i", input,
  ];
}

/** The static HDR metadata of a source (empty when it has none or ffprobe fails: the job goes on without it). */
export async function probeHdrMetadata(ffprobe: string, input: string, videoIndex: number, o: { protocols?: string; signal?: AbortSignal } = {}): Promise<HdrMetadata> {
  const r = await runCapture(hdrMetadataArgs(ffprobe, input, videoIndex, o.protocols), { signal: o.signal, timeoutMs: 30_000 });
  if (r.killed) throw r.killed;
  try {
    return r.code === 0 ? parseHdrMetadata(JSON.parse(r.stdout)) : {};
  } catch {
    return {};
  }
}

/** Nits assumed when the source says nothing about its peak. */
export const DEFAULT_PEAK_NITS = 1000;
/** zscale's nominal peak luminance: SDR white. */
export const TONEMAP_NPL = 100;
export const TONEMAP_OPERATOR = "mobius";

/** The peak luminance the tone mapper compresses from (nits). Pure. */
export function peakNits(m: HdrMetadata): number {
  const p = m.contentLight?.maxCll ?? m.masteringDisplay?.maxLuminance ?? DEFAULT_PEAK_NITS;
  return Math.max(TONEMAP_NPL, Math.round(p));
}

/**
 * HDR (PQ/HLG, BT.2020) → SDR BT.709 8-bit 4:2:0, limited range, as one filter chain. The
 * input's transfer is named (tin) rather than read from the frame, so a Dolby Vision 8.4
 * stream whose frames lack tags still linearises as HLG. Pure.
 */
export function tonemapChain(transfer: HdrTransfer, peak: number): string {
  const tin = transfer === "pq" ? "smpte2084" : "arib-std-b67";
  const peakRel = Math.round((peak / TONEMAP_NPL) * 100) / 100;
  return [
    `zscale=tin=${tin}:pin=bt2020:min=bt2020nc:t=linear:npl=${TONEMAP_NPL}`,
    "format=gbrpf32le",
    "zscale=p=bt709",
    `tonemap=${TONEMAP_OPERATOR}:desat=0:peak=${peakRel}`,
    "zscale=t=bt709:m=bt709:r=tv",
    "format=yuv420p",
  ].join(",");
}

/** ffmpeg output colour tags of SDR BT.709 (after tone mapping). */
export const SDR_COLOR_ARGS = ["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-color_range", "tv"];

/** ffmpeg's names of a kept HDR stream's signalling. */
export function hdrColorTags(transfer: HdrTransfer): { primaries: string; trc: string; matrix: string } {
  return { primaries: "bt2020", trc: transfer === "pq" ? "smpte2084" : "arib-std-b67", matrix: "bt2020nc" };
}

/** x265's master-display string: G(x,y)B(x,y)R(x,y)WP(x,y)L(max,min), chromaticity in 0.00002 units, luminance in 0.0001 cd/m². Pure. */
export function x265MasterDisplay(m: NonNullable<HdrMetadata["masteringDisplay"]>): string {
  const c = ([x, y]: [number, number]) => `(${Math.round(x * 50000)},${Math.round(y * 50000)})`;
  return `G${c(m.green)}B${c(m.blue)}R${c(m.red)}WP${c(m.whitePoint)}L(${Math.round(m.maxLuminance * 10000)},${Math.round(m.minLuminance * 10000)})`;
}

/** SVT-AV1's mastering-display string: G(x,y)B(x,y)R(x,y)WP(x,y)L(max,min) in plain numbers. Pure. */
export function svtMasterDisplay(m: NonNullable<HdrMetadata["masteringDisplay"]>): string {
  const f = (n: number) => String(Math.round(n * 10000) / 10000);
  const c = ([x, y]: [number, number]) => `(${f(x)},${f(y)})`;
  return `G${c(m.green)}B${c(m.blue)}R${c(m.red)}WP${c(m.whitePoint)}L(${f(m.maxLuminance)},${f(m.minLuminance)})`;
}
