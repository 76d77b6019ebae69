import { expect, test } from "bun:test";
import { aacCodecString, avcCodecString, masterPlaylist, parseMediaPlaylist } from "../../../src/media/hls";

test.each([
  ["High", 31, "avc1.64001f"],
  ["Main", 30, "avc1.4d401e"],
  ["Constrained Baseline", 30, "avc1.42e01e"],
  ["High", 40, "avc1.640028"],
] as const)("avcCodecString(%s, %d) = %s", (profile, level, s) => {
  expect(avcCodecString(profile, level)).toBe(s);
});

test.each([
  ["LC", "mp4a.40.2"],
  ["HE-AAC", "mp4a.40.5"],
  ["HE-AACv2", "mp4a.40.29"],
] as const)("aacCodecString(%s) = %s", (p, s) => expect(aacCodecString(p)).toBe(s));

test("master playlist carries BANDWIDTH, RESOLUTION and CODECS", () => {
  const text = masterPlaylist([
    { uri: "720p/index.m3u8", bandwidth: 3_000_000.4, averageBandwidth: 2_500_000, width: 1280, height: 720, frameRate: 29.97, codecs: ["avc1.64001f", "mp4a.40.2"] },
    { uri: "360p/index.m3u8", bandwidth: 900_000, width: 640, height: 360, codecs: ["avc1.64001e"] },
  ]);
  expect(text.split("\n")).toEqual([
    "#EXTM3U",
    "#EXT-X-VERSION:3",
    "#EXT-X-INDEPENDENT-SEGMENTS",
    '#EXT-X-STREAM-INF:BANDWIDTH=3000000,AVERAGE-BANDWIDTH=2500000,RESOLUTION=1280x720,FRAME-RATE=29.970,CODECS="avc1.64001f,mp4a.40.2"',
    "720p/index.m3u8",
    '#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=640x360,CODECS="avc1.64001e"',
    "360p/index.m3u8",
    "",
  ]);
});

test("parseMediaPlaylist", () => {
  const segs = parseMediaPlaylist("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.006000,\nseg_000.ts\n#EXTINF:2.5,\nseg_001.ts\n#EXT-X-ENDLIST\n");
  expect(segs).toEqual([
    { uri: "seg_000.ts", durationSec: 6.006 },
    { uri: "seg_001.ts", durationSec: 2.5 },
  ]);
});
