import { MEDIA_DEMUXERS } from "../../../src/media/ffmpeg";
import { describe, expect, test } from "bun:test";
import { buildVideoPlan, DEINTERLACE_FILTER, mp4RemuxArgs, varStreamMap } from "../../../src/jobs/video/args";
import { videoDefaults, type ResolvedVideoOptions } from "../../../src/jobs/video/options";
import type { ProbeResult } from "../../../src/media/probe";
import { video1080p, video240p, video960x540, videoAudioFirst, videoBogusFps, videoHevc10bitRotatedMinus90, videoInterlaced, videoNoAudio, videoRotated90 } from "../../helpers/probe-fixtures";

const IN = "/in/source";
const OUT = "/out";
const plan = (p: ProbeResult, o: Partial<ResolvedVideoOptions> = {}) => buildVideoPlan(p, { ...videoDefaults({}), ...o }, IN, "file", OUT);
/** The value after a flag (first occurrence). */
const after = (args: string[], flag: string) => args[args.indexOf(flag) + 1];
const graph = (args: string[]) => after(args, "-filter_complex") ?? "";

describe("buildVideoPlan", () => {
  test("one input, opened through the protocol whitelist, one filter_complex, one HLS muxer", () => {
    const { args } = plan(video960x540);
    expect(args.filter((a) => a === "-i")).toHaveLength(1);
    expect(args.slice(args.indexOf("-protocol_whitelist"), args.indexOf("-i") + 2)).toEqual(["-protocol_whitelist", "file", "-format_whitelist", MEDIA_DEMUXERS, "-i", IN]);
    // No playlist or script demuxer for the user's file.
    for (const f of ["hls", "concat", "dash", "ffmetadata", "lavfi", "sdp"]) expect(MEDIA_DEMUXERS.split(",")).not.toContain(f);
    expect(args.filter((a) => a === "-filter_complex")).toHaveLength(1);
    expect(args.filter((a) => a === "hls")).toHaveLength(1);
    // One token per element: no element is a shell string with a space-separated flag.
    for (const a of args) expect(a.startsWith("-") && a.includes(" ")).toBe(false);
  });

  test.each<[string, ProbeResult, Partial<ResolvedVideoOptions>, string, string[]]>([
    ["960x540 source: split into 2 rungs + poster + storyboard", video960x540, {}, "split=4", ["scale=854:480", "scale=640:360"]],
    ["1080p copy top rung: 3 encoded rungs + poster + storyboard", video1080p, {}, "split=5", ["scale=1280:720", "scale=854:480", "scale=640:360"]],
    ["no poster, no storyboard", video960x540, { poster: false, storyboard: false }, "split=2", ["scale=854:480"]],
    ["keyframe storyboard is not a branch of the ladder run", video960x540, { storyboardMethod: "keyframe" }, "split=3", ["scale=854:480"]],
    ["rotated: sizes on the displayed (portrait) frame", videoRotated90, { renditions: [720, 360] }, "split=4", ["scale=720:1280", "scale=360:640"]],
  ])("%s", (_n, probe, o, split, scales) => {
    const g = graph(plan(probe, o).args);
    expect(g).toContain(split);
    for (const s of scales) expect(g).toContain(s);
  });

  test.each([
    ["interlaced (tt) → bwdif before the split", videoInterlaced, DEINTERLACE_FILTER, true],
    ["progressive → no deinterlacer", video960x540, "bwdif", false],
    ["bogus 1000 fps (mkv) → capped with fps=60", videoBogusFps, "fps=60,", true],
    ["29.97 fps → no fps filter before the split", video960x540, "fps=60", false],
  ] as const)("%s", (_n, probe, fragment, present) => {
    expect(graph(plan(probe).args).includes(fragment)).toBe(present);
  });

  test("fixed GOP aligned to the segment: keyint = fps × segment, no scene cuts, forced keyframes", () => {
    const p = plan(video1080p, { segmentSec: 4 });
    expect(p.keyint).toBe(120);
    // 1080p is copied (v:0); the encoded rungs are v:1..v:3.
    for (const i of [1, 2, 3]) {
      expect(after(p.args, `-g:v:${i}`)).toBe("120");
      expect(after(p.args, `-keyint_min:v:${i}`)).toBe("120");
      expect(after(p.args, `-sc_threshold:v:${i}`)).toBe("0");
      expect(after(p.args, `-force_key_frames:v:${i}`)).toBe("expr:gte(t,n_forced*4)");
    }
    expect(p.args).not.toContain("-g:v:0");
    expect(after(p.args, "-hls_time")).toBe("4");
  });

  test("capped CRF per rung: crf + per-stream maxrate/bufsize", () => {
    const { args, rungs } = plan(video960x540, { crf: 21, preset: "ultrafast" });
    expect(after(args, "-crf:v:0")).toBe("21");
    expect(after(args, "-preset:v:1")).toBe("ultrafast");
    expect(after(args, "-maxrate:v:0")).toBe(`${rungs[0]!.maxrateKbps}k`);
    expect(after(args, "-bufsize:v:1")).toBe(`${rungs[1]!.bufsizeKbps}k`);
    expect(after(args, "-c:v:0")).toBe("libx264");
  });

  test.each([
    ["with audio", video960x540, "v:0,a:0,name:480p v:1,a:1,name:360p"],
    ["without audio: no audio in var_stream_map", videoNoAudio, "v:0,name:720p v:1,name:480p v:2,name:360p"],
  ] as const)("var_stream_map %s", (_n, probe, map) => {
    const { args } = plan(probe);
    expect(after(args, "-var_stream_map")).toBe(map);
    expect(args.includes("-c:a:0")).toBe(probe !== videoNoAudio);
  });

  test("maps by absolute stream index (audio before video in the .mov)", () => {
    const { args } = plan(videoAudioFirst, { renditions: [360] });
    expect(graph(args).startsWith("[0:1]")).toBe(true);
    expect(args).toContain("0:0");
  });

  test("remux: the top rung is the source copied, video.mp4 written in the same run", () => {
    const p = plan(video240p);
    expect(p.rungs[0]!.copy).toBe(true);
    expect(p.mp4).toBe("inline");
    expect(after(p.args, "-c:v:0")).toBe("copy");
    expect(after(p.args, "-c:a:0")).toBe("copy");
    expect(p.args).toContain(`${OUT}/video.mp4`);
    expect(p.args.some((a) => a.startsWith("-force_key_frames") || a.startsWith("-profile"))).toBe(false);
  });

  test("encoded top rung: video.mp4 is a remux of its segments afterwards (no second encode)", () => {
    const p = plan(video960x540);
    expect(p.mp4).toBe("remux");
    expect(p.args).not.toContain(`${OUT}/video.mp4`);
    const r = mp4RemuxArgs(`${OUT}/480p/index.m3u8`, `${OUT}/video.mp4`);
    expect(r).toContain("copy");
    expect(after(r, "-movflags")).toBe("+faststart");
    expect(r).not.toContain("libx264");
  });

  test("HLS VOD, segments and playlists per rung folder", () => {
    const { args } = plan(video960x540);
    expect(after(args, "-hls_playlist_type")).toBe("vod");
    expect(after(args, "-hls_segment_filename")).toBe(`${OUT}/%v/seg_%03d.ts`);
    expect(args).toContain(`${OUT}/%v/index.m3u8`);
    expect(args).not.toContain("-master_pl_name");
  });

  test("10-bit source → format=yuv420p on each rung", () => {
    const g = graph(plan(videoHevc10bitRotatedMinus90, { renditions: [360] }).args);
    expect(g).toContain("format=yuv420p");
  });

  test("every rung copied + keyframe storyboard: the ladder run decodes nothing; the poster is a fast-seek run", () => {
    const p = plan(video240p, { storyboardMethod: "keyframe" });
    expect(p.args).not.toContain("-filter_complex");
    expect(p.posterArgs!.indexOf("-ss")).toBeLessThan(p.posterArgs!.indexOf("-i"));
    expect(p.posterArgs).toContain(`${OUT}/poster.jpg`);
    expect(plan(video240p).posterArgs).toBeNull();
  });

  test("poster from the same decode, 10% in (at most 10 s)", () => {
    expect(plan(video960x540).posterAtSec).toBeCloseTo(0.51, 2);
    expect(plan(video1080p).posterAtSec).toBe(10);
    // The second trim ends the branch after its one frame, so no later frame is scaled.
    expect(graph(plan(video1080p).args)).toContain("trim=start=10,trim=end_frame=1,scale=1920:1080");
  });
});

test("varStreamMap", () => {
  const r = { width: 2, height: 2, videoKbps: 1, maxrateKbps: 1, bufsizeKbps: 2, audioKbps: 96, copy: false };
  expect(varStreamMap([{ ...r, name: "720p" }, { ...r, name: "360p" }], true)).toBe("v:0,a:0,name:720p v:1,a:1,name:360p");
});

/** The options of the output written to `file`: everything after the previous output file. */
function optionsOf(args: string[], file: string): string {
  const i = args.indexOf(file);
  const outputs = args.map((a, j) => (a.startsWith(OUT + "/") && j < i && args[j - 1] !== "-hls_segment_filename" ? j : -1)).filter((j) => j >= 0);
  return args.slice(outputs.length ? Math.max(...outputs) + 1 : 0, i).join(" ");
}

describe("metadata is stripped from every video output (issue #12 point 11)", () => {
  const STRIP = "-map_metadata -1 -map_metadata:s -1 -map_chapters -1";
  test.each([
    ["HLS ladder, encoded", video1080p, `${OUT}/%v/index.m3u8`],
    ["HLS ladder, copied", video240p, `${OUT}/%v/index.m3u8`],
    ["inline video.mp4", video240p, `${OUT}/video.mp4`],
  ])("%s", (_n, probe, file) => {
    expect(optionsOf(plan(probe).args, file)).toContain(STRIP);
  });
  test("remuxed video.mp4", () => {
    expect(mp4RemuxArgs(`${OUT}/480p/index.m3u8`, `${OUT}/video.mp4`).join(" ")).toContain(STRIP);
  });
});
