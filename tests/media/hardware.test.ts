// Hardware is advertised only where its device comes up: Debian's ffmpeg lists cuda, vaapi,
// h264_nvenc… on a machine with no GPU.
import { describe, expect, test } from "bun:test";
import { ffmpegEncoders, ffmpegHwaccels, resolveBinaries } from "../../src/media/binaries";
import { encoderDevice, hwDeviceProbeArgs, usableEncoders, usableHwaccels } from "../../src/media/hardware";

describe("pure parts", () => {
  test.each([
    ["h264_nvenc", "cuda"],
    ["hevc_qsv", "qsv"],
    ["av1_vaapi", "vaapi"],
    ["h264_videotoolbox", "videotoolbox"],
    ["h264_v4l2m2m", "v4l2m2m"],
    ["libx264", null],
    ["aac", null],
    ["libsvtav1", null],
  ] as const)("encoderDevice(%p) = %p", (enc, device) => expect(encoderDevice(enc)).toBe(device));

  test("hardware encoders stay only with their device; software ones always", () => {
    const built = ["libx264", "h264_nvenc", "hevc_nvenc", "h264_vaapi", "h264_qsv", "aac", "libopus"];
    expect(usableEncoders(built, [])).toEqual(["libx264", "aac", "libopus"]);
    expect(usableEncoders(built, ["cuda"])).toEqual(["libx264", "h264_nvenc", "hevc_nvenc", "aac", "libopus"]);
    expect(usableEncoders(built, ["vaapi", "qsv"])).toEqual(["libx264", "h264_vaapi", "h264_qsv", "aac", "libopus"]);
  });

  test("the device probe: one token per element, the method only in the device spec", () => {
    const argv = hwDeviceProbeArgs("/usr/bin/ffmpeg", "cuda");
    expect(argv[0]).toBe("/usr/bin/ffmpeg");
    expect(argv.slice(argv.indexOf("-init_hw_device"), argv.indexOf("-init_hw_device") + 2)).toEqual(["-init_hw_device", "cuda=probe"]);
    expect(argv.at(-1)).toBe("-");
  });
});

describe("this machine's ffmpeg", () => {
  const { ffmpeg } = resolveBinaries({});
  test("every method kept creates its device, every one dropped fails to", async () => {
    const listed = await ffmpegHwaccels(ffmpeg);
    // Debian's build is compiled with several; the check below is only meaningful with some.
    expect(listed.length).toBeGreaterThan(0);
    const usable = await usableHwaccels(ffmpeg, listed);
    for (const method of listed) {
      const p = Bun.spawn(hwDeviceProbeArgs(ffmpeg!, method), { stdout: "ignore", stderr: "pipe" });
      const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
      expect([method, code === 0]).toEqual([method, usable.includes(method)]);
      if (code !== 0) expect(err).toMatch(/Device creation failed|Cannot|Failed/i);
    }
  });

  test("the adverts' encoders: no hardware encoder without its device", async () => {
    const built = await ffmpegEncoders(ffmpeg);
    const usable = await usableHwaccels(ffmpeg, await ffmpegHwaccels(ffmpeg));
    const kept = usableEncoders(built, usable);
    expect(kept).toContain("libx264");
    for (const e of kept) {
      const device = encoderDevice(e);
      if (device) expect(usable).toContain(device);
    }
    // And what was dropped really cannot run here: one hardware encoder, tried for real.
    const dropped = built.find((e) => !kept.includes(e));
    if (dropped) {
      const p = Bun.spawn([ffmpeg!, "-v", "error", "-f", "lavfi", "-i", "nullsrc=s=64x64:d=0.04", "-frames:v", "1", "-c:v", dropped, "-f", "null", "-"], { stdout: "ignore", stderr: "ignore" });
      expect(await p.exited).not.toBe(0);
    }
  });
});
