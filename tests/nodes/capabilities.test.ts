// The pure decisions behind options.require: what a node covers, which nodes can run a job,
// the waiting marker, how a requirement is checked and stored, and MEDIANODE_CAPABILITIES.
import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../../src/config/load";
import { InvalidOptionsError } from "../../src/errors";
import { resolveOptions } from "../../src/jobs/registry";
import type { NodeAdvert } from "../../src/nodes/advert";
import { capableNodes, covers, MAX_REQUIRE, nodeCapabilities, normalizeRequire, requirementOf, waitingFor } from "../../src/nodes/capabilities";

const advert = (id: string, o: Partial<NodeAdvert> = {}): NodeAdvert => ({
  id,
  host: "h",
  roles: ["worker"],
  concurrency: { image: 2, video: 1 },
  activeJobs: 0,
  version: "0",
  ffmpegVersion: "6",
  encoders: ["libx264", "aac"],
  hwaccels: ["vaapi"],
  labels: [],
  freeDiskBytes: 1,
  startedAt: "",
  lastSeen: "",
  ...o,
});

describe("matching", () => {
  const caps = nodeCapabilities({ encoders: ["libx264", "libsvtav1"], hwaccels: ["cuda"], labels: ["gpu"] });
  test.each([
    [[], true],
    [["libx264"], true],
    [["cuda"], true],
    [["gpu", "libsvtav1"], true],
    [["gpu", "fast-disk"], false],
    [["h264_nvenc"], false],
  ] as [string[], boolean][])("covers %j → %p", (require, expected) => {
    expect(covers(caps, require)).toBe(expected);
  });

  test("an advert without labels (an older node) offers its encoders and hwaccels", () => {
    const { labels: _, ...old } = advert("old");
    expect([...nodeCapabilities(old)].sort()).toEqual(["aac", "libx264", "vaapi"]);
  });

  test("capable nodes: worker role, a slot for the type, and every capability", () => {
    const nodes = [
      advert("gpu", { labels: ["gpu"] }),
      advert("api-with-gpu-label", { roles: ["api"], labels: ["gpu"] }),
      advert("no-video-slots", { labels: ["gpu"], concurrency: { image: 2, video: 0 } }),
      advert("plain"),
    ];
    expect(capableNodes(nodes, "video", ["gpu"]).map((n) => n.id)).toEqual(["gpu"]);
    expect(capableNodes(nodes, "image", ["gpu"]).map((n) => n.id)).toEqual(["gpu", "no-video-slots"]);
    expect(capableNodes(nodes, "video", []).map((n) => n.id)).toEqual(["gpu", "plain"]);
    expect(capableNodes(nodes, "image", ["gpu", "libsvtav1"])).toEqual([]);
  });

  test("waiting marker: set only when no online node can run the job; keeps its first time", () => {
    const since = "2026-01-01T00:00:00.000Z";
    expect(waitingFor([advert("a")], "image", [], since)).toBeNull();
    expect(waitingFor([advert("a", { labels: ["gpu"] })], "image", ["gpu"], since)).toBeNull();
    const w = waitingFor([advert("a")], "image", ["gpu", "libsvtav1"], since);
    expect(w).toEqual({ reason: "NO_CAPABLE_NODE", require: ["gpu", "libsvtav1"], since, message: expect.stringContaining("gpu, libsvtav1") });
    expect(waitingFor([], "image", ["libx264"], since)?.reason).toBe("NO_CAPABLE_NODE");
  });
});

describe("options.require on every job type", () => {
  test.each(["probe", "image", "video", "audio", "thumbnail"] as const)("%s: accepted, stored sorted without repeats, defaults still filled", (type) => {
    const r = resolveOptions(type, { require: ["libx264", "gpu", "gpu"] });
    expect(r.require).toEqual(["gpu", "libx264"]);
    expect(requirementOf(r)).toEqual(["gpu", "libx264"]);
    expect(Object.keys(r).length).toBeGreaterThanOrEqual(1);
  });

  test("no require: the options are as before, and the requirement is empty", () => {
    const r = resolveOptions("image", {});
    expect("require" in r).toBe(false);
    expect(requirementOf(r)).toEqual([]);
  });

  const tooMany = Array.from({ length: MAX_REQUIRE + 1 }, (_, i) => `cap${i}`);
  test.each([
    ["an empty list", []],
    ["not a list", "gpu"],
    ["an empty name", [""]],
    ["upper case", ["GPU"]],
    ["a separator", ["gpu,fast"]],
    ["a colon", ["a:b"]],
    ["a space", ["fast disk"]],
    ["a number", [1]],
    ["too long a name", ["x".repeat(65)]],
    [`more than ${MAX_REQUIRE}`, tooMany],
  ])("refused with 422: %s", (_, require) => {
    let err: unknown;
    try {
      resolveOptions("image", { require });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidOptionsError);
    expect((err as InvalidOptionsError).status).toBe(422);
    expect((err as InvalidOptionsError).message).toContain("options.require");
  });

  test("unknown keys are still refused beside require", () => {
    expect(() => resolveOptions("image", { require: ["gpu"], bogus: 1 })).toThrow(InvalidOptionsError);
  });

  test("normalizeRequire sorts and dedupes", () => {
    expect(normalizeRequire(["b", "a", "b"])).toEqual(["a", "b"]);
  });
});

describe("MEDIANODE_CAPABILITIES", () => {
  const load = (v: string) => loadConfig({ env: { MEDIANODE_CAPABILITIES: v }, file: "/nonexistent" });
  test("a comma list of labels, sorted without repeats; default none", () => {
    expect(load("gpu, fast-disk,gpu").capabilities).toEqual(["fast-disk", "gpu"]);
    expect(loadConfig({ env: {}, file: "/nonexistent" }).capabilities).toEqual([]);
  });
  test.each(["GPU", "fast disk", "a:b", "x@y"])("a bad label (%p) stops start-up naming the variable", (v) => {
    expect(() => load(v)).toThrow(ConfigError);
    expect(() => load(v)).toThrow(/^MEDIANODE_CAPABILITIES: invalid capability/);
  });
});
