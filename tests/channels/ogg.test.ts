import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { CORPUS_DIR } from "../helpers/corpus";
import { OGG_BOS, oggCrc, oggPackets, OggError, opusPacketSamples, parseOggPages, parseOpusHead, writeOggPage } from "../../src/channels/ogg";
import { createOggOpusWriter } from "../../src/channels/ogg-stream";
import { opusTrack, TrackError } from "../../src/channels/track";

const corpusOpus = async () => new Uint8Array(await Bun.file(join(CORPUS_DIR, "audio-ogg-opus.opus")).arrayBuffer());

describe("Ogg pages", () => {
  test("CRC of the empty input is 0 and of 'OggS' is stable", () => {
    expect(oggCrc(new Uint8Array(0))).toBe(0);
    expect(oggCrc(new TextEncoder().encode("OggS"))).toBe(oggCrc(new TextEncoder().encode("OggS")));
  });

  test("a written page parses back with its fields, packets and a valid CRC", () => {
    const big = new Uint8Array(600).fill(7);
    const page = writeOggPage({ flags: OGG_BOS, granule: 12345n, serial: 0xdeadbeef, seq: 3, packets: [new Uint8Array([1, 2, 3]), big, new Uint8Array(255)] });
    const [p] = parseOggPages(page);
    expect(p!.flags).toBe(OGG_BOS);
    expect(p!.granule).toBe(12345n);
    expect(p!.serial).toBe(0xdeadbeef);
    expect(p!.seq).toBe(3);
    const packets = oggPackets([p!]);
    expect(packets.map((x) => x.data.length)).toEqual([3, 600, 255]);
  });

  test("a flipped byte fails the CRC; garbage and truncation are OggErrors", () => {
    const page = writeOggPage({ flags: 0, granule: 1n, serial: 1, seq: 0, packets: [new Uint8Array([9, 9, 9])] });
    const bad = page.slice();
    bad[bad.length - 1]! ^= 0xff;
    expect(() => parseOggPages(bad)).toThrow(/CRC/);
    expect(() => parseOggPages(new Uint8Array(40))).toThrow(OggError);
    expect(() => parseOggPages(page.subarray(0, page.length - 1))).toThrow(/truncated/);
  });

  test("Opus TOC durations (RFC 6716 §3.1)", () => {
    expect(opusPacketSamples(new Uint8Array([(31 << 3) | 0]))).toBe(960); // CELT 20 ms, 1 frame
    expect(opusPacketSamples(new Uint8Array([(28 << 3) | 1]))).toBe(240); // CELT 2.5 ms × 2
    expect(opusPacketSamples(new Uint8Array([(3 << 3) | 3, 3]))).toBe(2880 * 3); // SILK 60 ms × 3
    expect(opusPacketSamples(new Uint8Array([(13 << 3) | 0]))).toBe(960); // hybrid 20 ms
    expect(opusPacketSamples(new Uint8Array(0))).toBe(0);
  });

  test("a real Ogg Opus file: OpusHead, packets spanning pages, durations adding up to its granule", async () => {
    const bytes = await corpusOpus();
    const pages = parseOggPages(bytes);
    const packets = oggPackets(pages);
    const head = parseOpusHead(packets[0]!.data)!;
    expect(head.channels).toBeGreaterThan(0);
    const t = opusTrack(bytes);
    const lastGranule = Number(pages[pages.length - 1]!.granule);
    // The last page's granule trims the end; the packets' sum is at most one frame longer.
    expect(Math.abs(t.durationSec * 48000 - (lastGranule - head.preSkip) - head.preSkip)).toBeLessThan(48000 * 0.125);
    expect(t.frames[1]!.startSec).toBeCloseTo(t.frames[0]!.durSec, 6);
    expect(() => opusTrack(new Uint8Array([1, 2, 3]))).toThrow(TrackError);
  });

  test("the listener writer: one serial, pages numbered from 0, granule counting samples from the pre-skip", async () => {
    const t = opusTrack(await corpusOpus());
    const w = createOggOpusWriter(42);
    const out = [w.headers(t.opusHead!), w.pages(t.frames.slice(100, 112)), w.pages(t.frames.slice(0, 3))];
    const pages = parseOggPages(Uint8Array.from(out.flatMap((b) => [...b])));
    expect(pages.map((p) => p.seq)).toEqual(pages.map((_, i) => i));
    expect(new Set(pages.map((p) => p.serial))).toEqual(new Set([42]));
    expect(pages[0]!.flags & OGG_BOS).toBe(OGG_BOS);
    const samples = [...t.frames.slice(100, 112), ...t.frames.slice(0, 3)].reduce((s, f) => s + f.samples, 0);
    expect(Number(pages[pages.length - 1]!.granule)).toBe(t.preSkip + samples);
    for (let i = 3; i < pages.length; i++) expect(pages[i]!.granule).toBeGreaterThan(pages[i - 1]!.granule);
    expect(w.pages([]).length).toBe(0);
  });
});
