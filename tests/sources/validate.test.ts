// The intake check before a job is accepted: magic bytes, then a header read.
import { describe, expect, test } from "bun:test";
import { MedianodeError } from "../../src/errors";
import { resolveBinaries } from "../../src/media/binaries";
import { MAX_PIXELS } from "../../src/roles/serve";
import { inspectSource } from "../../src/sources/validate";
import { byKind, corpus } from "../helpers/corpus";

const deps = { ffprobe: resolveBinaries({}).ffprobe, maxPixels: MAX_PIXELS };
const code = (p: Promise<unknown>) => p.then(() => "accepted", (e: unknown) => (e as MedianodeError).code);

describe("inspectSource", () => {
  test.each(byKind("video").map((e) => e.file))("video %s is accepted as video", async (file) => {
    const { path } = corpus(file);
    expect((await inspectSource(path, ["video"], deps)).kind).toBe("video");
  });
  test.each(byKind("audio").map((e) => e.file))("audio %s is accepted as audio and refused as video", async (file) => {
    const { path } = corpus(file);
    expect((await inspectSource(path, ["audio"], deps)).kind).toBe("audio");
    expect(await code(inspectSource(path, ["video"], deps))).toBe("UNSUPPORTED_MEDIA");
  });
  test.each(byKind("image").map((e) => e.file))("image %s is accepted as image and refused as audio", async (file) => {
    const { path } = corpus(file);
    expect((await inspectSource(path, ["image"], deps)).kind).toBe("image");
    expect(await code(inspectSource(path, ["audio"], deps))).toBe("UNSUPPORTED_MEDIA");
  });
  test.each([
    ["bad-zero-bytes.mp4", "UNSUPPORTED_MEDIA"],
    ["bad-text-placeholder.mp4", "UNSUPPORTED_MEDIA"],
    ["bad-mp4-no-streams.mp4", "UNSUPPORTED_MEDIA"],
    ["bad-json-as.webp", "UNSUPPORTED_MEDIA"],
    ["bad-pixel-bomb-65536x65536.png", "PAYLOAD_TOO_LARGE"],
    ["bad-pixel-limit-20000x14000.jpg", "PAYLOAD_TOO_LARGE"],
    ["bad-avi-1x1-no-frames.avi", ["UNSUPPORTED_MEDIA", "accepted"]],
  ] as const)("%s → %s", async (file, want) => {
    const { path } = corpus(file);
    const accepts = file.endsWith(".png") || file.endsWith(".jpg") || file.endsWith(".webp") ? (["image"] as const) : (["video", "audio"] as const);
    expect(([] as string[]).concat(want)).toContain(await code(inspectSource(path, accepts, deps)));
  });
});
