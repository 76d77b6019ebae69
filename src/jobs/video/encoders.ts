// Video encoders: one table (codec × method → ffmpeg encoder) and one builder per encoder
// family. A family turns (rung, GOP, quality, colour) into per-stream argv; families override
// the small parts that differ (rate control, GOP flags, colour/HDR, device and scaling), as
// Immich's codec classes do. Pure: no I/O, env or clock; every token is ours (SPEC §7).
import { InvalidOptionsError } from "../../errors";
import { hdrColorTags, svtMasterDisplay, x265MasterDisplay, type HdrMetadata, type HdrTransfer } from "../../media/hdr";
import type { Rung } from "./ladder";
import type { HwaccelChoice, VideoCodec, X264Preset } from "./options";

export type HwMethod = "nvenc" | "vaapi" | "qsv";
export const HW_METHODS: readonly HwMethod[] = ["nvenc", "qsv", "vaapi"];
/** The ffmpeg hwaccel (device type) a method runs on: what media/hardware.ts probes. */
export const HW_DEVICE: Record<HwMethod, string> = { nvenc: "cuda", vaapi: "vaapi", qsv: "qsv" };

export interface CodecRow {
  software: string;
  hardware: Partial<Record<HwMethod, string>>;
  /** HLS segment container: TS carries H.264 everywhere; the others need fMP4 (RFC 8216bis). */
  segments: "mpegts" | "fmp4";
  /** Share of the H.264 bitrate cap (ladder.ts) the codec needs for the same quality. */
  bitrateFactor: number;
}

/**
 * The codec table (README: "Codecs and the ladder"). Bitrate factors follow the usual
 * published comparisons (HEVC and VP9 ~30% below H.264, AV1 ~40–50%), kept conservative.
 * AV1 hardware encoders appear in ffmpeg 6+ builds; a node advertises only what it has.
 */
export const CODECS: Record<VideoCodec, CodecRow> = {
  h264: { software: "libx264", hardware: { nvenc: "h264_nvenc", vaapi: "h264_vaapi", qsv: "h264_qsv" }, segments: "mpegts", bitrateFactor: 1 },
  hevc: { software: "libx265", hardware: { nvenc: "hevc_nvenc", vaapi: "hevc_vaapi", qsv: "hevc_qsv" }, segments: "fmp4", bitrateFactor: 0.7 },
  av1: { software: "libsvtav1", hardware: { nvenc: "av1_nvenc", vaapi: "av1_vaapi", qsv: "av1_qsv" }, segments: "fmp4", bitrateFactor: 0.6 },
  vp9: { software: "libvpx-vp9", hardware: { vaapi: "vp9_vaapi", qsv: "vp9_qsv" }, segments: "fmp4", bitrateFactor: 0.7 },
};

/** HDR kept: the source's transfer and static metadata. Null for SDR output. */
export interface HdrOut {
  transfer: HdrTransfer;
  metadata: HdrMetadata;
}

export interface RungEncode {
  /** Output video stream index (the `:v:i` specifier). */
  index: number;
  rung: Rung;
  keyint: number;
  segmentSec: number;
  /** The x264-scale quality (16–35); each family maps it to its own scale. */
  crf: number;
  preset: X264Preset;
  hdr: HdrOut | null;
  /** Write colour tags: BT.709 after tone mapping, BT.2020/PQ|HLG when HDR is kept. Otherwise the source's own pass through. */
  tagColor: boolean;
}

const PRESET_RANK: Record<X264Preset, number> = { ultrafast: 0, superfast: 1, veryfast: 2, faster: 3, fast: 4, medium: 5, slow: 6 };

/** Software encoding of the whole ladder: the base every family starts from. */
export class SoftwareEncoder {
  constructor(
    readonly codec: VideoCodec,
    readonly encoder: string,
  ) {}
  readonly method: HwMethod | null = null;
  /** True when the family can take decoded frames on its device (no download). */
  readonly hwDecode: boolean = false;

  /** Global argv before the input: device creation, hardware decode. */
  inputArgs(_decodeOnDevice: boolean): string[] {
    return [];
  }
  /** The branch chain of one rung after the split. */
  scaleChain(w: number, h: number, tenBit: boolean, _framesOnDevice: boolean): string {
    return `scale=${w}:${h},setsar=1,format=${tenBit ? "yuv420p10le" : "yuv420p"}`;
  }
  /** Prefix a software branch (poster, storyboard) needs when frames are on the device. */
  downloadChain(_tenBit: boolean): string | null {
    return null;
  }
  rungArgs(e: RungEncode): string[] {
    const v = `:v:${e.index}`;
    return ["-c" + v, this.encoder, ...this.qualityArgs(e, v), ...this.gopArgs(e, v), ...this.colorArgs(e, v)];
  }
  protected qualityArgs(e: RungEncode, v: string): string[] {
    return ["-preset" + v, e.preset, "-crf" + v, String(e.crf), ...this.vbv(e, v)];
  }
  protected vbv(e: RungEncode, v: string): string[] {
    return ["-maxrate" + v, `${e.rung.maxrateKbps}k`, "-bufsize" + v, `${e.rung.bufsizeKbps}k`];
  }
  /** A fixed GOP of one segment, a keyframe forced on every boundary: every rung cuts at the same times. */
  protected gopArgs(e: RungEncode, v: string): string[] {
    return ["-g" + v, String(e.keyint), "-keyint_min" + v, String(e.keyint), "-force_key_frames" + v, `expr:gte(t,n_forced*${e.segmentSec})`];
  }
  protected colorArgs(e: RungEncode, v: string): string[] {
    if (!e.tagColor) return [];
    const c = e.hdr ? hdrColorTags(e.hdr.transfer) : { primaries: "bt709", trc: "bt709", matrix: "bt709" };
    return ["-color_primaries" + v, c.primaries, "-color_trc" + v, c.trc, "-colorspace" + v, c.matrix, "-color_range" + v, "tv"];
  }
}

export class X264Encoder extends SoftwareEncoder {
  constructor() {
    super("h264", "libx264");
  }
  protected override qualityArgs(e: RungEncode, v: string): string[] {
    return [...super.qualityArgs(e, v), "-profile" + v, "high"];
  }
  protected override gopArgs(e: RungEncode, v: string): string[] {
    return [...super.gopArgs(e, v), "-sc_threshold" + v, "0"];
  }
}

export class X265Encoder extends SoftwareEncoder {
  constructor() {
    super("hevc", "libx265");
  }
  /** x265's CRF 28 is about x264's 23. */
  protected override qualityArgs(e: RungEncode, v: string): string[] {
    return ["-preset" + v, e.preset, "-crf" + v, String(e.crf + 5), ...this.vbv(e, v), "-profile" + v, e.hdr ? "main10" : "main", "-tag" + v, "hvc1"];
  }
  protected override gopArgs(e: RungEncode, v: string): string[] {
    const params = ["log-level=error", "scenecut=0", "open-gop=0", `keyint=${e.keyint}`, `min-keyint=${e.keyint}`];
    const h = e.hdr;
    if (h) {
      const c = hdrColorTags(h.transfer);
      params.push(`colorprim=${c.primaries}`, `transfer=${c.trc}`, `colormatrix=${c.matrix}`, "repeat-headers=1");
      if (h.transfer === "pq") params.push("hdr10=1", "hdr10-opt=1");
      if (h.metadata.masteringDisplay) params.push(`master-display=${x265MasterDisplay(h.metadata.masteringDisplay)}`);
      if (h.metadata.contentLight) params.push(`max-cll=${h.metadata.contentLight.maxCll},${h.metadata.contentLight.maxFall}`);
    }
    return [...super.gopArgs(e, v), "-x265-params" + v, params.join(":")];
  }
}

export class SvtAv1Encoder extends SoftwareEncoder {
  constructor() {
    super("av1", "libsvtav1");
  }
  /** SVT-AV1 presets 0–13 (13 fastest); CRF 0–63, ~1.45× the x264 scale. No VBV cap in capped-CRF mode in this build: CRF alone. */
  protected override qualityArgs(e: RungEncode, v: string): string[] {
    return ["-preset" + v, String(12 - PRESET_RANK[e.preset]), "-crf" + v, String(Math.min(63, Math.round(e.crf * 1.45)))];
  }
  protected override gopArgs(e: RungEncode, v: string): string[] {
    const params = ["scd=0", `keyint=${e.keyint}`];
    const h = e.hdr;
    if (h?.metadata.masteringDisplay) params.push(`mastering-display=${svtMasterDisplay(h.metadata.masteringDisplay)}`);
    if (h?.metadata.contentLight) params.push(`content-light=${h.metadata.contentLight.maxCll},${h.metadata.contentLight.maxFall}`);
    return ["-g" + v, String(e.keyint), "-force_key_frames" + v, `expr:gte(t,n_forced*${e.segmentSec})`, "-svtav1-params" + v, params.join(":")];
  }
}

export class Vp9Encoder extends SoftwareEncoder {
  constructor() {
    super("vp9", "libvpx-vp9");
  }
  /** Constrained quality: CRF with the rung's cap as target (-b:v), row-multithreaded, "good" deadline. */
  protected override qualityArgs(e: RungEncode, v: string): string[] {
    return [
      "-deadline" + v, "good", "-cpu-used" + v, String(Math.max(1, 5 - Math.floor(PRESET_RANK[e.preset] / 2))), "-row-mt" + v, "1",
      "-crf" + v, String(Math.min(63, Math.round(e.crf * 1.4))), "-b" + v, `${e.rung.maxrateKbps}k`, ...this.vbv(e, v),
    ];
  }
}

/** Hardware families: frames uploaded to (or decoded on) the device, scaled there, encoded there. */
abstract class HardwareEncoder extends SoftwareEncoder {
  abstract override readonly method: HwMethod;
  override readonly hwDecode = true;
  protected abstract deviceArgs(): string[];
  protected abstract decodeArgs(): string[];
  protected abstract uploadChain(tenBit: boolean): string;
  protected abstract deviceScale(w: number, h: number, tenBit: boolean): string;
  override inputArgs(decodeOnDevice: boolean): string[] {
    return [...this.deviceArgs(), ...(decodeOnDevice ? this.decodeArgs() : [])];
  }
  override scaleChain(w: number, h: number, tenBit: boolean, framesOnDevice: boolean): string {
    return framesOnDevice ? this.deviceScale(w, h, tenBit) : `${this.uploadChain(tenBit)},${this.deviceScale(w, h, tenBit)}`;
  }
  override downloadChain(tenBit: boolean): string {
    return `hwdownload,format=${tenBit ? "p010le" : "nv12"}`;
  }
  protected tail(e: RungEncode, v: string): string[] {
    return this.codec === "hevc" ? ["-tag" + v, "hvc1"] : [];
  }
  override rungArgs(e: RungEncode): string[] {
    return [...super.rungArgs(e), ...this.tail(e, `:v:${e.index}`)];
  }
  protected override gopArgs(e: RungEncode, v: string): string[] {
    return ["-g" + v, String(e.keyint), "-force_key_frames" + v, `expr:gte(t,n_forced*${e.segmentSec})`];
  }
}

const nvPreset = (p: X264Preset) => `p${Math.min(7, 1 + PRESET_RANK[p])}`;

export class NvencEncoder extends HardwareEncoder {
  readonly method = "nvenc" as const;
  protected deviceArgs() {
    return ["-init_hw_device", "cuda=hw", "-filter_hw_device", "hw"];
  }
  protected decodeArgs() {
    return ["-hwaccel", "cuda", "-hwaccel_device", "hw", "-hwaccel_output_format", "cuda"];
  }
  protected uploadChain(tenBit: boolean) {
    return `format=${tenBit ? "p010le" : "nv12"},hwupload_cuda`;
  }
  protected deviceScale(w: number, h: number, tenBit: boolean) {
    return `scale_cuda=w=${w}:h=${h}:format=${tenBit ? "p010le" : "nv12"}`;
  }
  /** VBR with a CQ target (NVENC's constant-quality mode), capped by the rung's VBV; IDR on forced keyframes. */
  protected override qualityArgs(e: RungEncode, v: string): string[] {
    const profile = this.codec === "h264" ? ["-profile" + v, "high"] : this.codec === "hevc" ? ["-profile" + v, e.hdr ? "main10" : "main"] : [];
    return ["-preset" + v, nvPreset(e.preset), "-tune" + v, "hq", "-rc" + v, "vbr", "-cq" + v, String(e.crf + (this.codec === "h264" ? 0 : 4)), "-b" + v, `${e.rung.videoKbps}k`, ...this.vbv(e, v), ...profile, "-spatial-aq" + v, "1"];
  }
  protected override gopArgs(e: RungEncode, v: string): string[] {
    return [...super.gopArgs(e, v), "-forced-idr" + v, "1"];
  }
}

export class VaapiEncoder extends HardwareEncoder {
  readonly method = "vaapi" as const;
  protected deviceArgs() {
    return ["-init_hw_device", "vaapi=hw:/dev/dri/renderD128", "-filter_hw_device", "hw"];
  }
  protected decodeArgs() {
    return ["-hwaccel", "vaapi", "-hwaccel_device", "hw", "-hwaccel_output_format", "vaapi"];
  }
  protected uploadChain(tenBit: boolean) {
    return `format=${tenBit ? "p010le" : "nv12"},hwupload`;
  }
  protected deviceScale(w: number, h: number, tenBit: boolean) {
    return `scale_vaapi=w=${w}:h=${h}:format=${tenBit ? "p010" : "nv12"}`;
  }
  /** VBR to the rung's cap (most VA drivers lack QVBR/ICQ). */
  protected override qualityArgs(e: RungEncode, v: string): string[] {
    return ["-rc_mode" + v, "VBR", "-b" + v, `${e.rung.videoKbps}k`, ...this.vbv(e, v)];
  }
}

export class QsvEncoder extends HardwareEncoder {
  readonly method = "qsv" as const;
  protected deviceArgs() {
    return ["-init_hw_device", "qsv=hw", "-filter_hw_device", "hw"];
  }
  protected decodeArgs() {
    return ["-hwaccel", "qsv", "-hwaccel_device", "hw", "-hwaccel_output_format", "qsv"];
  }
  protected uploadChain(tenBit: boolean) {
    return `format=${tenBit ? "p010le" : "nv12"},hwupload=extra_hw_frames=64`;
  }
  protected deviceScale(w: number, h: number, tenBit: boolean) {
    return `scale_qsv=w=${w}:h=${h}:format=${tenBit ? "p010" : "nv12"}`;
  }
  /** ICQ-like quality target with the rung's VBV cap; lookahead off for speed. */
  protected override qualityArgs(e: RungEncode, v: string): string[] {
    return ["-preset" + v, e.preset === "ultrafast" || e.preset === "superfast" ? "veryfast" : e.preset, "-global_quality" + v, String(e.crf), ...this.vbv(e, v), "-look_ahead" + v, "0"];
  }
  protected override gopArgs(e: RungEncode, v: string): string[] {
    return [...super.gopArgs(e, v), "-idr_interval" + v, "0", "-forced_idr" + v, "1"];
  }
}

/** The family of an encoder name from the table. */
export function encoderFamily(encoder: string): SoftwareEncoder {
  for (const [codec, row] of Object.entries(CODECS) as [VideoCodec, CodecRow][]) {
    if (row.software === encoder) return codec === "h264" ? new X264Encoder() : codec === "hevc" ? new X265Encoder() : codec === "av1" ? new SvtAv1Encoder() : new Vp9Encoder();
    for (const [m, name] of Object.entries(row.hardware) as [HwMethod, string][]) {
      if (name !== encoder) continue;
      const F = m === "nvenc" ? NvencEncoder : m === "vaapi" ? VaapiEncoder : QsvEncoder;
      return new F(codec, name);
    }
  }
  throw new InvalidOptionsError(`unknown video encoder ${encoder}`);
}

/** The hardware encoder an explicit method means for a codec, or a 422 when that pair does not exist. */
export function hardwareEncoderFor(codec: VideoCodec, method: HwMethod): string {
  const name = CODECS[codec].hardware[method];
  if (!name) throw new InvalidOptionsError(`hwaccel ${method} has no ${codec} encoder (${codec} on: ${Object.keys(CODECS[codec].hardware).join(", ") || "software only"})`, { errors: [{ path: "/hwaccel", message: `no ${codec} encoder on ${method}` }] });
  return name;
}

/**
 * What a video job needs of the node that runs it (added to options.require): an explicit
 * method needs its encoder (advertised only where the device comes up), auto/none need the
 * software encoder for codecs Debian's ffmpeg may lack. H.264 in software needs nothing: every
 * node runs it, so default jobs stay on the plain type queue.
 */
export function videoRequirement(o: { codec: VideoCodec; hwaccel: HwaccelChoice }): string[] {
  if (o.hwaccel !== "auto" && o.hwaccel !== "none") return [hardwareEncoderFor(o.codec, o.hwaccel)];
  return o.codec === "h264" ? [] : [CODECS[o.codec].software];
}

/**
 * The encoder a worker uses: an explicit method's (the routing made sure it is here), else
 * with `auto` the first usable hardware encoder of the codec (nvenc, qsv, vaapi), else software.
 * `tenBitHdr`: VAAPI/QSV 10-bit HDR output depends on the GPU generation, so HDR kept uses
 * hardware only when asked for explicitly.
 */
export function chooseEncoder(o: { codec: VideoCodec; hwaccel: HwaccelChoice }, usableHw: readonly string[], tenBitHdr = false): SoftwareEncoder {
  const row = CODECS[o.codec];
  if (o.hwaccel === "none") return encoderFamily(row.software);
  if (o.hwaccel !== "auto") return encoderFamily(hardwareEncoderFor(o.codec, o.hwaccel));
  if (!tenBitHdr) {
    for (const m of HW_METHODS) {
      const name = row.hardware[m];
      if (name && usableHw.includes(name)) return encoderFamily(name);
    }
  }
  return encoderFamily(row.software);
}
