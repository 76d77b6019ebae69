import { describe, expect, test } from "bun:test";
import { buildAudioPlan, describeAudioSource, escapeFfmetadata, tagsFile } from "../../../src/jobs/audio/args";
import { audioDefaults, type AudioOptionsInput } from "../../../src/jobs/audio/options";
import { PeakFolder } from "../../../src/jobs/audio/waveform";
import type { ProbeResult } from "../../../src/media/probe";
import { audioFlacPicture, audioMp3Cover, audioOpus, audioWavMono, video60fps6ch, videoNoAudio, withTags } from "../../helpers/probe-fixtures";

const plan = (p: ProbeResult, o: AudioOptionsInput = {}) => buildAudioPlan(p, audioDefaults(o), "/in/source", "file", "/out");
const after = (args: string[], flag: string) => args[args.indexOf(flag) + 1];
const graph = (args: string[]) => after(args, "-filter_complex") ?? "";

describe("buildAudioPlan", () => {
  test("defaults: aac 128k .m4a, mp3 192k .mp3, opus 96k .opus + waveform from ONE input and ONE asplit", () => {
    const p = plan(audioWavMono);
    expect(p.files.map((f) => [f.name, f.codec, f.bitrateKbps])).toEqual([
      ["audio-128k.m4a", "aac", 128],
      ["audio-192k.mp3", "mp3", 192],
      ["audio-96k.opus", "opus", 96],
    ]);
    expect(p.args.filter((a) => a === "-i")).toHaveLength(1);
    expect(graph(p.args)).toContain("asplit=4");
    expect(p.args).toContain("libmp3lame");
    expect(p.args).toContain("libopus");
    expect(p.args).toContain("/out/.waveform.pcm");
  });

  test.each<[string, ProbeResult, AudioOptionsInput, string[], string[]]>([
    ["mono stays mono at 48 kHz", audioWavMono, {}, ["aresample=48000", "channel_layouts=mono"], ["loudnorm"]],
    ["5.1 is downmixed to stereo", video60fps6ch, {}, ["channel_layouts=stereo"], []],
    ["loudnorm, then back to a sane rate (it upsamples to 192 kHz)", audioOpus, { normalize: true, loudnessLufs: -23 }, ["loudnorm=I=-23:TP=-1.5:LRA=11,aresample=48000"], []],
    ["44.1 kHz output: opus branch resampled to 48 kHz", audioOpus, { sampleRate: 44100 }, ["aresample=44100", "[s_a2]aresample=48000[a2]"], []],
    ["no waveform: no PCM branch", audioOpus, { waveform: false }, ["asplit=3"], ["s16"]],
  ])("%s", (_n, probe, o, present, absent) => {
    const g = graph(plan(probe, o).args);
    for (const f of present) expect(g).toContain(f);
    for (const f of absent) expect(g).not.toContain(f);
  });

  test.each<[string, ProbeResult, AudioOptionsInput, boolean[]]>([
    ["mp3 cover kept in m4a and mp3, never in opus", audioMp3Cover, {}, [true, true, false]],
    ["flac PNG picture kept", audioFlacPicture, {}, [true, true, false]],
    ["cover dropped on purpose", audioMp3Cover, { coverArt: "drop" }, [false, false, false]],
    ["no cover", audioWavMono, {}, [false, false, false]],
  ])("cover art: %s", (_n, probe, o, covers) => {
    const p = plan(probe, o);
    expect(p.files.map((f) => f.withCover)).toEqual(covers);
    const coverMaps = p.args.filter((a, i) => p.args[i - 1] === "-map" && a === "0:1");
    expect(coverMaps).toHaveLength(covers.filter(Boolean).length);
  });

  test("tags keep: title/artist/album go through an ffmetadata file (input 1), never into argv; the rest is stripped", () => {
    const p = plan(audioMp3Cover, { tags: "keep" });
    expect(p.tagsText).toBe(";FFMETADATA1\ntitle=Test title\nartist=Test Artist\nalbum=Test Album\n");
    expect(p.args.join("\n")).not.toContain("Test title");
    expect(p.args.join("\n")).not.toContain("Gorpcore");
    expect(p.args.filter((a) => a === "-i")).toHaveLength(2);
    expect(after(p.args, "-map_metadata")).toBe("1");
    expect(p.args).toContain("-map_chapters");
  });

  test("tags strip (the default): no tags file even when the source has title/artist; global, stream and chapter metadata cleared", () => {
    const p = plan(audioMp3Cover);
    expect(p.tagsText).toBeNull();
    expect(p.args.filter((a) => a === "-i")).toHaveLength(1);
    const outs = p.args.filter((a) => a.startsWith("/out/audio-"));
    expect(outs.length).toBeGreaterThan(0);
    // Every rendition's options carry the full strip set.
    for (const out of outs) {
      const i = p.args.indexOf(out);
      const mine = p.args.slice(Math.max(0, ...outs.map((o) => p.args.indexOf(o)).filter((j) => j < i)), i);
      expect(mine.join(" ")).toContain("-map_metadata -1 -map_metadata:s -1 -map_chapters -1");
    }
  });

  test("no kept tags: metadata cleared, one input", () => {
    const p = plan(withTags(audioWavMono, { comment: "x", encoder: "y" }));
    expect(p.tagsText).toBeNull();
    expect(after(p.args, "-map_metadata")).toBe("-1");
    expect(p.args.filter((a) => a === "-i")).toHaveLength(1);
  });

  test("audio-only HLS ladder: AAC rungs, var_stream_map, no master from ffmpeg", () => {
    const p = plan(audioOpus, { hls: true, hlsBitratesKbps: [64, 128] });
    expect(p.hlsRungs.map((r) => r.name)).toEqual(["128k", "64k"]);
    expect(after(p.args, "-var_stream_map")).toBe("a:0,name:128k a:1,name:64k");
    expect(after(p.args, "-b:a:1")).toBe("64k");
    expect(p.args).not.toContain("-master_pl_name");
    expect(graph(p.args)).toContain("asplit=6");
  });

  test("a video without audio is UNSUPPORTED_MEDIA", () => {
    expect(() => describeAudioSource(videoNoAudio)).toThrow(expect.objectContaining({ code: "UNSUPPORTED_MEDIA" }));
  });

  test("duplicate renditions are refused", () => {
    expect(() => audioDefaults({ renditions: [{ codec: "aac", bitrateKbps: 128 }, { codec: "aac", bitrateKbps: 128 }] })).toThrow(expect.objectContaining({ code: "INVALID_OPTIONS" }));
  });
});

test.each([
  ["a=b", "a\\=b"],
  ["x;y#z", "x\\;y\\#z"],
  ["line1\nline2", "line1\\\nline2"],
  ["back\\slash", "back\\\\slash"],
])("escapeFfmetadata(%p)", (i, o) => expect(escapeFfmetadata(i)).toBe(o));

test("tagsFile keeps only title/artist/album", () => {
  expect(tagsFile({ title: "T", genre: "G", artist: "A" })).toBe(";FFMETADATA1\ntitle=T\nartist=A\n");
  expect(tagsFile(undefined)).toBeNull();
});

test("PeakFolder: min/max per bucket, 8-bit, audiowaveform shape", () => {
  const f = new PeakFolder(8, 4);
  f.push(new Int16Array([0, 32767, -32768, 256]));
  f.push(new Int16Array([-512, 512, 0, 0]));
  expect(f.toJson(8000)).toEqual({ version: 2, channels: 1, sample_rate: 8000, samples_per_pixel: 2, bits: 8, length: 4, data: [0, 127, -128, 1, -2, 2, 0, 0] });
});
