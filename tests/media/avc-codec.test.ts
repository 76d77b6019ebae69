import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { avcCodecFromTs, findSps, readSegmentAvcCodec, tsVideoPayload } from "../../src/media/avc-codec";
import { tempDir } from "../helpers/media";

const tmp = tempDir("mn-avc-");
afterAll(() => tmp.cleanup());

function sh(argv: string[]): string {
  const p = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${argv[0]} exited ${p.exitCode}: ${p.stderr.toString().slice(-500)}`);
  return p.stdout.toString() + p.stderr.toString();
}

/** The SPS fields as ffmpeg's own bitstream parser prints them (an oracle independent of our parser). */
function traced(ts: string): string {
  const out = sh(["ffmpeg", "-hide_banner", "-i", ts, "-map", "0:v:0", "-frames:v", "1", "-c", "copy", "-bsf:v", "trace_headers", "-f", "null", "-"]);
  const field = (name: string) => Number(new RegExp(`\\s${name}\\s+[01]+ = (\\d+)`).exec(out)![1]);
  const flags = [0, 1, 2, 3, 4, 5].reduce((acc, i) => acc | (field(`constraint_set${i}_flag`) << (7 - i)), 0);
  const hex = (n: number) => n.toString(16).padStart(2, "0");
  return `avc1.${hex(field("profile_idc"))}${hex(flags)}${hex(field("level_idc"))}`;
}

// Real x264 output in MPEG-TS (what the HLS muxer writes), with and without audio, across
// profiles and levels; each compared with ffmpeg's trace of the same SPS.
test.each([
  ["baseline", "320x240", "auto", "with audio"],
  ["main", "640x360", "3.0", "no audio"],
  ["high", "1280x720", "auto", "with audio"],
  ["high", "1920x1080", "4.2", "with audio"],
] as const)("avcCodecFromTs matches ffmpeg's SPS trace: %s %s, level %s, %s", async (profile, size, level, audio) => {
  const ts = join(tmp.path, `${profile}-${size}-${level}.ts`);
  sh([
    "ffmpeg", "-v", "error", "-y",
    "-f", "lavfi", "-i", `testsrc2=size=${size}:rate=25:duration=0.4`,
    ...(audio === "with audio" ? ["-f", "lavfi", "-i", "sine=duration=0.4", "-c:a", "aac"] : []),
    "-c:v", "libx264", "-preset", "ultrafast", "-profile:v", profile, ...(level !== "auto" ? ["-level", level] : []),
    "-f", "mpegts", ts,
  ]);
  const want = traced(ts);
  expect(avcCodecFromTs(readFileSync(ts))).toBe(want);
  expect(await readSegmentAvcCodec(ts)).toBe(want);
});

/** One 188-byte TS packet: header, an adaptation field stuffed to fill, then the payload. */
function packet(pid: number, pusi: boolean, payload: number[]): number[] {
  const afLen = 183 - payload.length;
  const head = [0x47, (pusi ? 0x40 : 0) | (pid >> 8), pid & 0xff, 0x30];
  const af = [afLen, ...(afLen > 0 ? [0x00, ...new Array<number>(afLen - 1).fill(0xff)] : [])];
  return [...head, ...af, ...payload];
}

test("an SPS split across two TS packets after a PES header is still found", () => {
  const pes = [0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5, 0x21, 0, 1, 0, 1];
  const nal = [0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x67, 0x64, 0x00, 0x29, 0xac];
  // Cut between profile_idc and the constraint flags.
  const first = [...pes, ...nal.slice(0, 12)];
  const second = nal.slice(12);
  const audio = packet(0x101, true, [0, 0, 1, 0xc0, 0, 0, 0x80, 0x80, 0, 0xff, 0xf1]);
  const ts = new Uint8Array([...audio, ...packet(0x100, true, first), ...packet(0x100, false, second)]);
  expect(avcCodecFromTs(ts)).toBe("avc1.640029");
});

test("not TS, no video stream, or no SPS: null", () => {
  expect(avcCodecFromTs(new Uint8Array(400))).toBeNull();
  const audioOnly = new Uint8Array(packet(0x101, true, [0, 0, 1, 0xc0, 0, 0, 0x80, 0x80, 0, 0xff, 0xf1]));
  expect(tsVideoPayload(audioOnly)).toBeNull();
  const noSps = new Uint8Array(packet(0x100, true, [0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 0, 0, 0, 1, 0x65, 0x88]));
  expect(avcCodecFromTs(noSps)).toBeNull();
  expect(findSps(new Uint8Array([0, 0, 1, 0x68, 0xce, 0x38, 0x80]))).toBeNull();
});
