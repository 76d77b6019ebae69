// The encoder table and the per-family builders (pure), table-driven: which encoder each
// (codec, hwaccel, usable hardware) gets, what a job requires, and each family's argv.
import { describe, expect, test } from "bun:test";
import { buildVideoPlan } from "../../../src/jobs/video/args";
import { chooseEncoder, CODECS, encoderFamily, videoRequirement, type RungEncode } from "../../../src/jobs/video/encoders";
import { videoDefaults, type HwaccelChoice, type ResolvedVideoOptions, type VideoCodec } from "../../../src/jobs/video/options";
import { resolveOptions } from "../../../src/jobs/registry";
import type { ProbeResult } from "../../../src/media/probe";
import { video1080p, video960x540, videoDolbyVision84, videoInterlaced } from "../../helpers/probe-fixtures";

const after = (args: string[], flag: string) => args[args.indexOf(flag) + 1];
const rung = { name: "720p", width: 1280, height: 720, videoKbps: 2800, maxrateKbps: 2800, bufsizeKbps: 5600, audioKbps: 128, copy: false };
const enc = (over: Partial<RungEncode> = {}): RungEncode => ({ index: 1, rung, keyint: 180, segmentSec: 6, crf: 23, preset: "veryfast", hdr: null, tagColor: false, ...over });

describe("choosing the encoder", () => {
  test.each<[VideoCodec, HwaccelChoice, string[], string]>([
    ["h264", "auto", [], "libx264"],
    ["h264", "auto", ["h264_vaapi"], "h264_vaapi"],
    ["h264", "auto", ["h264_vaapi", "h264_nvenc"], "h264_nvenc"],
    ["h264", "none", ["h264_nvenc"], "libx264"],
    ["hevc", "auto", ["h264_nvenc"], "libx265"],
    ["hevc", "auto", ["hevc_qsv"], "hevc_qsv"],
    ["av1", "auto", [], "libsvtav1"],
    ["av1", "nvenc", [], "av1_nvenc"],
    ["vp9", "auto", [], "libvpx-vp9"],
    ["vp9", "vaapi", [], "vp9_vaapi"],
    ["hevc", "qsv", [], "hevc_qsv"],
  ])("%s + hwaccel %s with usable %j → %s", (codec, hwaccel, usable, want) => {
    expect(chooseEncoder({ codec, hwaccel }, usable).encoder).toBe(want);
  });

  test("auto never picks hardware for kept 10-bit HDR (driver-dependent); explicit does", () => {
    expect(chooseEncoder({ codec: "hevc", hwaccel: "auto" }, ["hevc_vaapi"], true).encoder).toBe("libx265");
    expect(chooseEncoder({ codec: "hevc", hwaccel: "vaapi" }, [], true).encoder).toBe("hevc_vaapi");
  });

  test.each<[VideoCodec, HwaccelChoice, string[]]>([
    ["h264", "auto", []],
    ["h264", "none", []],
    ["hevc", "auto", ["libx265"]],
    ["av1", "none", ["libsvtav1"]],
    ["vp9", "auto", ["libvpx-vp9"]],
    ["h264", "nvenc", ["h264_nvenc"]],
    ["hevc", "vaapi", ["hevc_vaapi"]],
    ["av1", "qsv", ["av1_qsv"]],
  ])("%s + %s requires %j (joined to options.require)", (codec, hwaccel, want) => {
    expect(videoRequirement({ codec, hwaccel })).toEqual(want);
    const o = resolveOptions("video", { codec, hwaccel, require: ["gpu"] });
    expect(o.require).toEqual([...new Set(["gpu", ...want])].sort());
  });

  test("a default video job has no requirement (stays on the plain type queue)", () => {
    expect(resolveOptions("video", {}).require).toBeUndefined();
  });

  test.each([
    [{ codec: "vp9", hwaccel: "nvenc" }, "no vp9 encoder on nvenc"],
    [{ codec: "h264", hdr: "keep" }, "keep needs codec hevc or av1"],
    [{ codec: "vp9", hdr: "keep" }, "keep needs codec hevc or av1"],
    [{ codec: "mpeg2" }, ""],
    [{ hwaccel: "cuda" }, ""],
  ])("refused with 422: %j", (options, why) => {
    let err: unknown;
    try {
      resolveOptions("video", options);
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string }).code).toBe("INVALID_OPTIONS");
    if (why) expect(JSON.stringify((err as { details?: unknown }).details)).toContain(why);
  });
});

describe("family argv", () => {
  test.each<[string, Record<string, string>]>([
    ["libx264", { "-c:v:1": "libx264", "-crf:v:1": "23", "-maxrate:v:1": "2800k", "-profile:v:1": "high", "-sc_threshold:v:1": "0", "-g:v:1": "180" }],
    ["libx265", { "-c:v:1": "libx265", "-crf:v:1": "28", "-maxrate:v:1": "2800k", "-tag:v:1": "hvc1", "-profile:v:1": "main", "-g:v:1": "180" }],
    ["libsvtav1", { "-c:v:1": "libsvtav1", "-preset:v:1": "10", "-crf:v:1": "33", "-g:v:1": "180", "-svtav1-params:v:1": "scd=0:keyint=180" }],
    ["libvpx-vp9", { "-c:v:1": "libvpx-vp9", "-crf:v:1": "32", "-b:v:1": "2800k", "-row-mt:v:1": "1", "-deadline:v:1": "good" }],
    ["h264_nvenc", { "-c:v:1": "h264_nvenc", "-rc:v:1": "vbr", "-cq:v:1": "23", "-maxrate:v:1": "2800k", "-forced-idr:v:1": "1", "-preset:v:1": "p3" }],
    ["hevc_nvenc", { "-c:v:1": "hevc_nvenc", "-cq:v:1": "27", "-tag:v:1": "hvc1", "-profile:v:1": "main" }],
    ["av1_nvenc", { "-c:v:1": "av1_nvenc", "-rc:v:1": "vbr" }],
    ["h264_vaapi", { "-c:v:1": "h264_vaapi", "-rc_mode:v:1": "VBR", "-b:v:1": "2800k", "-maxrate:v:1": "2800k" }],
    ["hevc_vaapi", { "-c:v:1": "hevc_vaapi", "-tag:v:1": "hvc1" }],
    ["h264_qsv", { "-c:v:1": "h264_qsv", "-global_quality:v:1": "23", "-look_ahead:v:1": "0", "-forced_idr:v:1": "1" }],
    ["hevc_qsv", { "-c:v:1": "hevc_qsv", "-tag:v:1": "hvc1" }],
  ])("%s", (name, want) => {
    const args = encoderFamily(name).rungArgs(enc());
    for (const [flag, value] of Object.entries(want)) expect([flag, after(args, flag)]).toEqual([flag, value]);
    // Every rung forces a keyframe on each segment boundary, whatever the family.
    expect(after(args, "-force_key_frames:v:1")).toBe("expr:gte(t,n_forced*6)");
    // No colour tags unless asked (the source's pass through).
    expect(args).not.toContain("-color_trc:v:1");
    for (const a of args) expect(a.includes(" ")).toBe(false);
  });

  test("HDR kept with x265: main10, BT.2020/PQ tags, mastering display and MaxCLL in x265-params", () => {
    const args = encoderFamily("libx265").rungArgs(enc({
      tagColor: true,
      hdr: { transfer: "pq", metadata: { masteringDisplay: { red: [0.68, 0.32], green: [0.265, 0.69], blue: [0.15, 0.06], whitePoint: [0.3127, 0.329], minLuminance: 0.0001, maxLuminance: 1000 }, contentLight: { maxCll: 1000, maxFall: 400 } } },
    }));
    expect(after(args, "-profile:v:1")).toBe("main10");
    expect(after(args, "-color_trc:v:1")).toBe("smpte2084");
    expect(after(args, "-color_primaries:v:1")).toBe("bt2020");
    expect(after(args, "-colorspace:v:1")).toBe("bt2020nc");
    const p = after(args, "-x265-params:v:1")!;
    expect(p).toContain("master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)");
    expect(p).toContain("max-cll=1000,400");
    expect(p).toContain("hdr10=1");
  });

  test("HDR kept with SVT-AV1: mastering display and content light in svtav1-params", () => {
    const args = encoderFamily("libsvtav1").rungArgs(enc({ tagColor: true, hdr: { transfer: "hlg", metadata: { contentLight: { maxCll: 800, maxFall: 200 } } } }));
    expect(after(args, "-color_trc:v:1")).toBe("arib-std-b67");
    expect(after(args, "-svtav1-params:v:1")).toBe("scd=0:keyint=180:content-light=800,200");
  });
});

const plan = (p: ProbeResult, o: Partial<ResolvedVideoOptions>, hw: string[] = []) => buildVideoPlan(p, { ...videoDefaults({}), ...o }, "/in", "file", "/out", { hwEncoders: hw, hdrMetadata: {} });
const graph = (args: string[]) => after(args, "-filter_complex") ?? "";

describe("ladder plans per codec and hardware", () => {
  test.each<[VideoCodec, "mpegts" | "fmp4", string]>([
    ["h264", "mpegts", "seg_%03d.ts"],
    ["hevc", "fmp4", "seg_%03d.m4s"],
    ["av1", "fmp4", "seg_%03d.m4s"],
    ["vp9", "fmp4", "seg_%03d.m4s"],
  ])("%s: %s segments, every rung in the codec, bitrate caps scaled by the table", (codec, segments, pattern) => {
    const p = plan(video960x540, { codec });
    expect(after(p.args, "-hls_segment_type")).toBe(segments);
    expect(after(p.args, "-hls_segment_filename")).toBe(`/out/%v/${pattern}`);
    expect(p.args.includes("-hls_fmp4_init_filename")).toBe(segments === "fmp4");
    p.rungs.forEach((r, i) => expect(after(p.args, `-c:v:${i}`)).toBe(CODECS[codec].software));
    expect(p.rungs[0]!.maxrateKbps).toBe(Math.round((plan(video960x540, {}).rungs[0]!.maxrateKbps * CODECS[codec].bitrateFactor) / 10) * 10);
  });

  test("only h264 copies a fitting top rung (a copy would not be in the asked codec)", () => {
    expect(plan(video1080p, {}).rungs[0]!.copy).toBe(true);
    expect(plan(video1080p, { codec: "hevc" }).rungs[0]!.copy).toBe(false);
  });

  test("nvenc with a usable device: decode on the GPU, scale_cuda per rung, poster/storyboard downloaded", () => {
    const p = plan(video960x540, { hwaccel: "auto" }, ["h264_nvenc"]);
    expect(p.encoder).toBe("h264_nvenc");
    expect(p.hwDecode).toBe(true);
    expect(p.args.slice(0, p.args.indexOf("-protocol_whitelist"))).toEqual(["-loglevel", "error", "-init_hw_device", "cuda=hw", "-filter_hw_device", "hw", "-hwaccel", "cuda", "-hwaccel_device", "hw", "-hwaccel_output_format", "cuda"]);
    const g = graph(p.args);
    expect(g).toContain("[s_v0]scale_cuda=w=854:h=480:format=nv12[v0]");
    expect(g).toContain("trim=end_frame=1,hwdownload,format=nv12,scale=854:480");
    expect(g).toContain("eof_action=pass,hwdownload,format=nv12,scale=");
  });

  test("vaapi with an interlaced source: software decode + bwdif, then upload and scale_vaapi", () => {
    const p = plan(videoInterlaced, { hwaccel: "vaapi" });
    expect(p.hwDecode).toBe(false);
    expect(p.args).not.toContain("-hwaccel");
    expect(after(p.args, "-init_hw_device")).toBe("vaapi=hw:/dev/dri/renderD128");
    expect(graph(p.args)).toContain("format=nv12,hwupload,scale_vaapi=w=1280:h=720:format=nv12");
  });

  test("auto without usable hardware falls back to software, with no device flags", () => {
    const p = plan(video960x540, { codec: "hevc" }, []);
    expect(p.encoder).toBe("libx265");
    expect(p.hwaccel).toBeNull();
    expect(p.args).not.toContain("-init_hw_device");
  });

  test("HDR source on nvenc with tonemap: software decode (zscale/tonemap on the CPU), then upload", () => {
    const p = plan(videoDolbyVision84, { hwaccel: "nvenc" });
    expect(p.hwDecode).toBe(false);
    expect(graph(p.args)).toContain("tonemap=mobius");
    expect(graph(p.args)).toContain("hwupload_cuda,scale_cuda");
  });
});
