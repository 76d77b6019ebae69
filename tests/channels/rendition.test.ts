import { expect, test } from "bun:test";
import { chooseCodec, commonCodecs, liveAacKbps, renditionFor } from "../../src/channels/rendition";
import type { ChannelTrack } from "../../src/channels/schema";

const track = (...r: [string, number][]): ChannelTrack => ({ jobId: "j", title: "t", durationSec: 5, renditions: r.map(([codec, bitrateKbps]) => ({ codec: codec as "opus" | "aac", bitrateKbps, name: `audio-${bitrateKbps}k` })) });

test("the codec every track has, closest to the asked bitrate; a tie goes to Opus", () => {
  const a = track(["opus", 96], ["aac", 128], ["opus", 48]);
  const b = track(["opus", 64], ["aac", 128]);
  expect(commonCodecs([a, b])).toEqual(["opus", "aac"]);
  expect(chooseCodec([a, b], 128)).toBe("aac");
  expect(chooseCodec([a, b], 50)).toBe("opus");
  expect(chooseCodec([track(["opus", 112], ["aac", 128])], 120)).toBe("opus");
  expect(chooseCodec([a, track(["aac", 64])], 96)).toBe("aac");
  expect(chooseCodec([track(["opus", 96]), track(["aac", 64])], 96)).toBeNull();
});

test("per track: the rendition of that codec closest to the asked bitrate", () => {
  const a = track(["opus", 96], ["aac", 128], ["opus", 48]);
  expect(renditionFor(a, "opus", 60)!.bitrateKbps).toBe(48);
  expect(renditionFor(a, "opus", 200)!.bitrateKbps).toBe(96);
  expect(renditionFor(track(["aac", 128]), "opus", 96)).toBeNull();
});

test("a broadcast is encoded to AAC only when every track has AAC, at the first track's highest AAC bitrate", () => {
  expect(liveAacKbps([track(["opus", 96], ["aac", 64], ["aac", 160]), track(["aac", 128])])).toBe(160);
  expect(liveAacKbps([track(["opus", 96], ["aac", 128]), track(["opus", 64])])).toBeNull();
  expect(liveAacKbps([track(["opus", 96])])).toBeNull();
});
