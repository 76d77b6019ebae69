import { expect, test } from "bun:test";
import { join } from "node:path";
import { CORPUS_DIR } from "../helpers/corpus";
import { createOggPageStream, sniffLiveInput } from "../../src/channels/live-input";
import { parseOggPages } from "../../src/channels/ogg";
import { liveRemuxArgs } from "../../src/media/live-remux";

const file = async (name: string) => new Uint8Array(await Bun.file(join(CORPUS_DIR, name)).arrayBuffer());

test("WebM/Opus and Ogg/Opus are told apart from their first bytes; anything else is refused", async () => {
  expect(sniffLiveInput(await file("audio-webm-opus-only.webm"))).toEqual({ container: "webm", opus: true });
  expect(sniffLiveInput(await file("audio-ogg-opus.opus"))).toEqual({ container: "ogg", opus: true });
  expect(sniffLiveInput(await file("audio-ogg-vorbis.ogg"))).toEqual({ container: "ogg", opus: false });
  expect(sniffLiveInput(new Uint8Array([0x1a, 0x45]))).toBeUndefined();
  expect(sniffLiveInput(await file("audio-wav-pcm-s16le.wav"))).toBeNull();
});

test("the page stream gives whole pages however the bytes are cut", async () => {
  const bytes = await file("audio-ogg-opus.opus");
  const want = parseOggPages(bytes).length;
  const s = createOggPageStream();
  let got = 0;
  for (let i = 0; i < bytes.length; i += 777) got += s.push(bytes.subarray(i, i + 777)).length;
  expect(got).toBe(want);
});

test("the remux copies Opus and transcodes anything else; small pages, pipes only", () => {
  const copy = liveRemuxArgs({ container: "webm", opus: true });
  expect(copy).toContain("copy");
  expect(copy.slice(copy.indexOf("-protocol_whitelist"), copy.indexOf("-protocol_whitelist") + 2)).toEqual(["-protocol_whitelist", "pipe"]);
  expect(copy.slice(copy.indexOf("-page_duration"), copy.indexOf("-page_duration") + 2)).toEqual(["-page_duration", "20000"]);
  const transcode = liveRemuxArgs({ container: "ogg", opus: false });
  expect(transcode).toContain("libopus");
  expect(transcode).not.toContain("copy");
  // The AAC listeners' encode: ADTS at the channel's AAC bitrate, sample rate and channels, flushed per frame.
  const aac = liveRemuxArgs({ container: "webm", opus: true, aac: { kbps: 128, sampleRate: 44100, channels: 2 } });
  expect(aac.slice(aac.indexOf("-c:a"), aac.indexOf("-c:a") + 4)).toEqual(["-c:a", "aac", "-b:a", "128k"]);
  expect(aac.slice(aac.indexOf("-ar"), aac.indexOf("-ar") + 2)).toEqual(["-ar", "44100"]);
  expect(aac.slice(aac.indexOf("-f", aac.indexOf("pipe:0")), aac.indexOf("-f", aac.indexOf("pipe:0")) + 2)).toEqual(["-f", "adts"]);
  expect(aac).toContain("-flush_packets");
  expect(aac).not.toContain("libopus");
});
