// Issue #12 point 4: tiny files, huge work. A 1.4 KB video with timestamp gaps claims 7201 s
// (built here with ffmpeg, deterministically: three 32x32 frames an hour apart). It is refused
// at intake (and, as a URL source, fails INVALID_INPUT once, not retried); MEDIANODE_MAX_DURATION_SEC
// and MEDIANODE_MAX_FRAME_PIXELS bound duration and frame size; an encode that runs far past the
// probed duration is stopped; a TIMEOUT of a job that made no progress is not retried.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { InvalidInputError } from "../../src/errors";
import { runJobFfmpeg } from "../../src/media/job-ffmpeg";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";
import { tempDir } from "../helpers/tmp";

const work = tempDir();
const gap = join(work.path, "gap.mp4");
const small = join(work.path, "small.mp4");
const ff = (args: string[]) => {
  const r = Bun.spawnSync(["ffmpeg", "-v", "error", ...args], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
};
ff(["-f", "lavfi", "-i", "color=c=black:size=32x32:rate=1", "-frames:v", "3", "-vf", "setpts=N*3600/TB", "-fps_mode", "passthrough", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "51", "-bf", "0", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1", "-an", "-y", gap]);
ff(["-f", "lavfi", "-i", "testsrc2=size=64x64:rate=25", "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-y", small]);

// A local origin: the attack file, and a URL that never sends its body.
const origin = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(req) {
    if (new URL(req.url).pathname === "/gap.mp4") return new Response(readFileSync(gap), { headers: { "content-type": "video/mp4" } });
    return new Response(new ReadableStream({ start() {} }), { headers: { "content-type": "video/mp4", "content-length": "1000000" } });
  },
});
afterAll(() => {
  origin.stop(true);
  work.remove();
});

const errorOf = async (r: Response) => ((await r.json()) as { error: { code: string; message: string } }).error;

test("the attack file is what the issue describes: under 2 KB, claiming about 7200 s", () => {
  expect(statSync(gap).size).toBeLessThan(2048);
  const r = Bun.spawnSync(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", gap]);
  expect(Number(r.stdout.toString())).toBeGreaterThan(7000);
});

describe("default limits", () => {
  let t: TestNode;
  beforeAll(async () => {
    t = await startTestNode({ MEDIANODE_URL_ALLOWLIST: "127.0.0.1" });
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  test("an upload claiming hours in a few bytes is refused at intake (400 INVALID_INPUT)", async () => {
    const r = await t.api("/v1/jobs?type=video", { method: "POST", headers: { "content-type": "video/mp4" }, body: Bun.file(gap) });
    expect(r.status).toBe(400);
    const e = await errorOf(r);
    expect(e.code).toBe("INVALID_INPUT");
    expect(e.message).toContain("MEDIANODE_MIN_SOURCE_BYTES_PER_SEC");
  });

  test("as a URL source it fails INVALID_INPUT on its first attempt, not retried", async () => {
    const r = await t.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "video", source: { url: `http://127.0.0.1:${origin.port}/gap.mp4` }, attempts: 3 }) });
    expect(r.status).toBe(202);
    const j = (await waitForJob(t, ((await r.json()) as { id: string }).id)) as { status: string; attempts: number; error: { code: string } };
    expect(j.status).toBe("failed");
    expect(j.error.code).toBe("INVALID_INPUT");
    expect(j.attempts).toBe(1);
  });
});

describe("operator limits and timeouts", () => {
  let t: TestNode;
  beforeAll(async () => {
    t = await startTestNode({
      MEDIANODE_URL_ALLOWLIST: "127.0.0.1",
      MEDIANODE_MAX_DURATION_SEC: "3600",
      MEDIANODE_MAX_FRAME_PIXELS: "1500",
      MEDIANODE_MIN_SOURCE_BYTES_PER_SEC: "0",
      MEDIANODE_JOB_TIMEOUT_SEC: "2",
    });
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  test("MEDIANODE_MAX_DURATION_SEC and MEDIANODE_MAX_FRAME_PIXELS refuse at intake", async () => {
    const long = await t.api("/v1/jobs?type=video", { method: "POST", headers: { "content-type": "video/mp4" }, body: Bun.file(gap) });
    expect(long.status).toBe(400);
    expect((await errorOf(long)).message).toContain("MEDIANODE_MAX_DURATION_SEC");
    const big = await t.api("/v1/jobs?type=thumbnail", { method: "POST", headers: { "content-type": "video/mp4" }, body: Bun.file(small) });
    expect(big.status).toBe(400);
    expect((await errorOf(big)).message).toContain("MEDIANODE_MAX_FRAME_PIXELS");
  });

  test("a job that times out without any progress fails TIMEOUT once, not retried", async () => {
    const r = await t.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "probe", source: { url: `http://127.0.0.1:${origin.port}/hangs.mp4` }, attempts: 3 }) });
    expect(r.status).toBe(202);
    const j = (await waitForJob(t, ((await r.json()) as { id: string }).id, 60_000)) as { status: string; attempts: number; error: { code: string } };
    expect(j.status).toBe("failed");
    expect(j.error.code).toBe("TIMEOUT");
    expect(j.attempts).toBe(1);
  }, 90_000);
});

test("an encode running far past the probed duration is stopped with INVALID_INPUT", async () => {
  // 60 s of 32x32 frames while the probe said 1 s: stopped once past 1 × 1.25 + 30 s.
  const run = runJobFfmpeg({ bin: "ffmpeg", args: ["-v", "error", "-f", "lavfi", "-i", "color=size=32x32:rate=25:duration=60", "-f", "null", "-"], durationSec: 1, timeoutMs: 60_000 });
  const e = await run.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(InvalidInputError);
  expect((e as Error).message).toContain("past its probed 1 s");
});
