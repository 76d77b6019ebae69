// HDR detection, metadata parsing and the tone-mapping chain (pure), table-driven.
import { describe, expect, test } from "bun:test";
import { buildVideoPlan } from "../../src/jobs/video/args";
import { videoDefaults } from "../../src/jobs/video/options";
import { dolbyVisionWithoutBase, hdrInfo, parseHdrMetadata, peakNits, tonemapChain, x265MasterDisplay } from "../../src/media/hdr";
import { hevcCodecString, av1CodecString, vp9CodecString } from "../../src/media/mp4-codec";
import { parseProbe } from "../../src/media/probe";
import { video1080p, videoDolbyVision5, videoDolbyVision84, videoHdr10, videoHlg } from "../helpers/probe-fixtures";

const dv = (profile: number, compatibilityId: number) => ({ profile, level: 6, compatibilityId, baseLayer: true, enhancementLayer: false });

describe("hdrInfo", () => {
  test.each([
    ["SDR bt709", { colorTransfer: "bt709" }, null],
    ["untagged", {}, null],
    ["HDR10 (PQ)", { colorTransfer: "smpte2084" }, { transfer: "pq", format: "hdr10" }],
    ["HLG", { colorTransfer: "arib-std-b67" }, { transfer: "hlg", format: "hlg" }],
    ["Dolby Vision 8.4 (iPhone, HLG base)", { colorTransfer: "arib-std-b67", dolbyVision: dv(8, 4) }, { transfer: "hlg", format: "dolby-vision", dolbyVisionProfile: 8, dolbyVisionCompatibility: 4 }],
    ["Dolby Vision 8.1 (HDR10 base), untagged frames", { dolbyVision: dv(8, 1) }, { transfer: "pq", format: "dolby-vision", dolbyVisionProfile: 8 }],
    ["Dolby Vision 8.2 (SDR base): SDR to us", { colorTransfer: "bt709", dolbyVision: dv(8, 2) }, null],
    ["Dolby Vision 5 (no compatible base)", { dolbyVision: dv(5, 0) }, { format: "dolby-vision", dolbyVisionProfile: 5 }],
  ] as const)("%s", (_n, stream, want) => {
    const got = hdrInfo(stream as never);
    if (want === null) expect(got).toBeNull();
    else expect(got).toMatchObject(want);
  });

  test("Dolby Vision 5 is refused clearly (UNSUPPORTED_MEDIA naming the profile); 8.4 is tone-mapped", () => {
    expect(dolbyVisionWithoutBase(hdrInfo(videoDolbyVision5.streams[0]!))).toBe(true);
    let err: unknown;
    try {
      buildVideoPlan(videoDolbyVision5, videoDefaults({}), "/in", "file", "/out");
    } catch (e) {
      err = e;
    }
    expect((err as { code: string }).code).toBe("UNSUPPORTED_MEDIA");
    expect((err as Error).message).toContain("Dolby Vision profile 5");
    expect(buildVideoPlan(videoDolbyVision84, videoDefaults({}), "/in", "file", "/out").hdr).toBe("tonemap");
  });

  test("ffprobe JSON: colour fields and the DOVI record land in the probe", () => {
    const p = parseProbe({
      format: { format_name: "mov" },
      streams: [{ index: 0, codec_type: "video", codec_name: "hevc", width: 1280, height: 720, color_transfer: "arib-std-b67", color_primaries: "bt2020", color_space: "bt2020nc", color_range: "tv", profile: "Main 10",
        side_data_list: [{ side_data_type: "DOVI configuration record", dv_profile: 8, dv_level: 2, rpu_present_flag: 1, el_present_flag: 0, bl_present_flag: 1, dv_bl_signal_compatibility_id: 4 }] }],
    });
    expect(p.streams[0]).toMatchObject({ colorTransfer: "arib-std-b67", colorPrimaries: "bt2020", profile: "Main 10", dolbyVision: { profile: 8, compatibilityId: 4 } });
  });
});

describe("tone mapping", () => {
  test("peak: MaxCLL, else mastering max luminance, else 1000 nits; never below SDR white", () => {
    expect(peakNits({})).toBe(1000);
    expect(peakNits({ contentLight: { maxCll: 600, maxFall: 200 } })).toBe(600);
    expect(peakNits({ masteringDisplay: { red: [0, 0], green: [0, 0], blue: [0, 0], whitePoint: [0, 0], minLuminance: 0, maxLuminance: 4000 } })).toBe(4000);
    expect(peakNits({ contentLight: { maxCll: 50, maxFall: 10 } })).toBe(100);
  });

  test.each([
    ["pq", 1000, "zscale=tin=smpte2084:pin=bt2020:min=bt2020nc:t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=mobius:desat=0:peak=10,zscale=t=bt709:m=bt709:r=tv,format=yuv420p"],
    ["hlg", 1000, "zscale=tin=arib-std-b67:pin=bt2020:min=bt2020nc:t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=mobius:desat=0:peak=10,zscale=t=bt709:m=bt709:r=tv,format=yuv420p"],
    ["pq", 4000, "peak=40,"],
  ] as const)("%s at %d nits", (t, peak, want) => {
    expect(tonemapChain(t, peak)).toContain(want);
  });

  test.each([
    ["HDR10 1080p", videoHdr10],
    ["HLG 1080p", videoHlg],
  ])("%s, tonemap: one chain before the split, every rung tagged BT.709, no copy", (_n, probe) => {
    const p = buildVideoPlan(probe, videoDefaults({}), "/in", "file", "/out");
    const g = p.args[p.args.indexOf("-filter_complex") + 1]!;
    expect(g.split("tonemap=").length).toBe(2);
    expect(g.indexOf("tonemap=")).toBeLessThan(g.indexOf("split="));
    expect(p.rungs.every((r) => !r.copy)).toBe(true);
    p.rungs.forEach((_r, i) => expect(p.args[p.args.indexOf(`-color_trc:v:${i}`) + 1]).toBe("bt709"));
  });

  test("keep with hevc: no tone mapping on the rungs, 10-bit scale, tone-mapped poster and tiles only", () => {
    const p = buildVideoPlan(videoHdr10, videoDefaults({ codec: "hevc", hdr: "keep" }), "/in", "file", "/out");
    const g = p.args[p.args.indexOf("-filter_complex") + 1]!;
    expect(g.indexOf("tonemap=")).toBeGreaterThan(g.indexOf("split="));
    expect(g).toContain("format=yuv420p10le[v0]");
    expect(g).toMatch(/\[s_poster\][^;]*tonemap=mobius/);
    expect(g).toMatch(/\[s_sb\][^;]*tonemap=mobius/);
    expect(p.args[p.args.indexOf("-color_trc:v:0") + 1]).toBe("smpte2084");
  });

  test("an SDR source is untouched: no zscale, no colour tags (its own pass through)", () => {
    const p = buildVideoPlan(video1080p, videoDefaults({ remux: false }), "/in", "file", "/out");
    expect(p.args.join(" ")).not.toContain("zscale");
    expect(p.args).not.toContain("-color_trc:v:0");
  });

  test("mastering display from frame side data, and x265's form of it", () => {
    const m = parseHdrMetadata({ frames: [{ side_data_list: [
      { side_data_type: "Mastering display metadata", red_x: "34000/50000", red_y: "16000/50000", green_x: "13250/50000", green_y: "34500/50000", blue_x: "7500/50000", blue_y: "3000/50000", white_point_x: "15635/50000", white_point_y: "16450/50000", min_luminance: "1/10000", max_luminance: "10000000/10000" },
      { side_data_type: "Content light level metadata", max_content: 1000, max_average: 400 },
    ] }] });
    expect(m.contentLight).toEqual({ maxCll: 1000, maxFall: 400 });
    expect(x265MasterDisplay(m.masteringDisplay!)).toBe("G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)");
    expect(parseHdrMetadata({ frames: [] })).toEqual({});
    expect(parseHdrMetadata(null)).toEqual({});
  });
});

describe("fMP4 codec strings (pure, from config record bytes)", () => {
  test.each([
    // Main, compat flags 0x60000000, progressive+frame-only constraint (0x90), level 3.1 (93)
    ["hvc1 Main L93", hevcCodecString("hvc1", new Uint8Array([1, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 93])), "hvc1.1.6.L93.90"],
    // Main 10, high tier, level 5.1 (153)
    ["hev1 Main10 H153", hevcCodecString("hev1", new Uint8Array([1, 0x22, 0x20, 0, 0, 0, 0xb0, 0, 0, 0, 0, 0, 153])), "hev1.2.4.H153.B0"],
    ["av01 8-bit SDR", av1CodecString(new Uint8Array([0x81, 0x08, 0x0c, 0]), null), "av01.0.08M.08"],
    ["av01 10-bit PQ", av1CodecString(new Uint8Array([0x81, 0x08, 0x4c, 0]), { primaries: 9, transfer: 16, matrix: 9, fullRange: false }), "av01.0.08M.10.0.110.09.16.09.0"],
    ["vp09 profile 0 level 2.1 8-bit", vp9CodecString(new Uint8Array([1, 0, 0, 0, 0, 21, 0x82, 1])), "vp09.00.21.08"],
  ])("%s", (_n, got, want) => {
    expect(got).toBe(want);
  });
});
