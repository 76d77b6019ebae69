import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";
import { tempDir } from "../helpers/tmp";

let t: TestNode;
const dir = tempDir();
const clip = join(dir.path, "clip.mp4");
const long = join(dir.path, "long.mp4");

function lavfi(out: string, seconds: number, size: string): void {
  const r = Bun.spawnSync([
    "ffmpeg", "-v", "error", "-f", "lavfi", "-i", `testsrc2=size=${size}:rate=25`, "-f", "lavfi", "-i", "sine=frequency=440",
    "-t", String(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-y", out,
  ]);
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
}

beforeAll(async () => {
  lavfi(clip, 6, "640x360");
  lavfi(long, 40, "1280x720");
  t = await startTestNode({ MEDIANODE_CONCURRENCY: "video=1" });
}, 120_000);
afterAll(async () => {
  await t.stop();
  dir.remove();
});

const submitVideo = (file: string, options: Record<string, unknown>) =>
  t.api(`/v1/jobs?type=video&options=${encodeURIComponent(JSON.stringify(options))}`, { method: "POST", body: Bun.file(file), headers: { "content-type": "video/mp4" } });

test("a video job makes an HLS ladder that plays over HTTP from the node", async () => {
  const r = await submitVideo(clip, { renditions: [360, 240], preset: "ultrafast", remux: false });
  expect(r.status).toBe(202);
  const job = (await r.json()) as { id: string };
  const done = (await waitForJob(t, job.id, 120_000)) as unknown as { status: string; outputs: { name: string; url: string; mime: string }[]; error: unknown };
  expect(done.status).toBe("completed");
  const names = done.outputs.map((o) => o.name);
  for (const n of ["master.m3u8", "video.mp4", "poster.jpg", "storyboard.jpg", "storyboard.vtt"]) expect(names).toContain(n);
  const master = done.outputs.find((o) => o.name === "master.m3u8")!;
  const res = await t.api(master.url);
  expect(res.headers.get("content-type")).toBe("application/vnd.apple.mpegurl");
  const text = await res.text();
  expect(text).toContain("#EXT-X-STREAM-INF");
  expect(text).toMatch(/BANDWIDTH=\d+/);
  expect(text).toMatch(/RESOLUTION=640x360/);
  expect(text).toMatch(/CODECS="avc1\.[0-9a-fA-F]+,mp4a\.40\.2"/);

  // ffprobe follows the master, the rendition playlists and the segments over HTTP.
  // Async: the node answering ffprobe runs in this very process.
  const probe = Bun.spawn([
    "ffprobe", "-v", "error", "-headers", `Authorization: Bearer ${t.token}\r\n`, "-show_entries", "stream=codec_type,width,height", "-of", "json", t.url + master.url,
  ], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(probe.stdout).text();
  expect(await probe.exited).toBe(0);
  const streams = (JSON.parse(out) as { streams: { codec_type: string; width?: number; height?: number }[] }).streams;
  const heights = streams.filter((s) => s.codec_type === "video").map((s) => s.height);
  expect(heights).toEqual(expect.arrayContaining([360, 240]));
  expect(streams.some((s) => s.codec_type === "audio")).toBe(true);
});

function ffmpegFor(jobId: string): number[] {
  const r = Bun.spawnSync(["pgrep", "-f", `ffmpeg.*${jobId}`]);
  return r.stdout.toString().split("\n").filter(Boolean).map(Number);
}

test("cancelling a running video job kills its ffmpeg at once", async () => {
  const job = (await (await submitVideo(long, { renditions: [720, 480, 360], preset: "medium", remux: false })).json()) as { id: string };
  for (let i = 0; i < 200 && ffmpegFor(job.id).length === 0; i++) await Bun.sleep(50);
  expect(ffmpegFor(job.id).length).toBeGreaterThan(0);
  // While it runs, the job carries per-rendition progress and an ETA, and progress rises.
  let live: { status: string; progress: number; live?: { etaSec?: number; renditions?: Record<string, number> } } | null = null;
  const seen: number[] = [];
  for (let i = 0; i < 100; i++) {
    live = (await (await t.api(`/v1/jobs/${job.id}`)).json()) as typeof live;
    if (live!.live?.renditions) seen.push(live!.progress);
    if (seen.length >= 2 && seen[seen.length - 1]! > seen[0]!) break;
    await Bun.sleep(200);
  }
  expect(live!.status).toBe("active");
  expect(Object.keys(live!.live!.renditions!).length).toBe(3);
  expect(typeof live!.live!.etaSec).toBe("number");
  expect(seen[seen.length - 1]!).toBeGreaterThan(seen[0]!);
  const r = await t.api(`/v1/jobs/${job.id}`, { method: "DELETE" });
  expect(r.status).toBe(200);
  expect(((await r.json()) as { status: string }).status).toBe("cancelled");
  for (let i = 0; i < 50 && ffmpegFor(job.id).length > 0; i++) await Bun.sleep(100);
  expect(ffmpegFor(job.id)).toEqual([]);
  // The late failure report of the killed run does not overwrite the terminal record.
  await Bun.sleep(1500);
  const j = (await (await t.api(`/v1/jobs/${job.id}`)).json()) as { status: string; error: { code: string } };
  expect(j.status).toBe("cancelled");
  expect(j.error.code).toBe("CANCELLED");
});

test("MEDIANODE_JOB_TIMEOUT_SEC kills ffmpeg and the job fails with TIMEOUT", async () => {
  const n = await startTestNode({ MEDIANODE_JOB_TIMEOUT_SEC: "2" });
  try {
    const res = await n.api(`/v1/jobs?type=video&attempts=1&options=${encodeURIComponent(JSON.stringify({ renditions: [720, 480, 360], preset: "slow", remux: false }))}`, {
        method: "POST",
        body: Bun.file(long),
        headers: { "content-type": "video/mp4" },
      });
    expect(res.status).toBe(202);
    const job = (await res.json()) as { id: string };
    const done = (await waitForJob(n, job.id, 60_000)) as unknown as { status: string; error: { code: string } };
    expect(done.status).toBe("failed");
    expect(done.error.code).toBe("TIMEOUT");
    expect(ffmpegFor(job.id)).toEqual([]);
  } finally {
    await n.stop();
  }
});
