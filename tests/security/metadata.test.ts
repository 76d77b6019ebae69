// Issue #12 point 11: video.mp4 kept the source's GPS location and comment tags. Every video
// and audio output now drops the source's metadata (global, per stream, chapters); an audio
// job keeps title/artist/album only when it asks (options.tags "keep"). The sources are made
// here with ffmpeg, tagged like a phone's recording; the outputs are read back with ffprobe.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";
import { tempDir } from "../helpers/tmp";

const work = tempDir();
const TAGS = ["-metadata", "location=+48.8584+002.2945/", "-metadata", "location-eng=+48.8584+002.2945/", "-metadata", "comment=secret comment", "-metadata", "title=Holiday", "-metadata", "artist=Someone"];
let t: TestNode;

function make(file: string, args: string[]): string {
  const path = join(work.path, file);
  const r = Bun.spawnSync(["ffmpeg", "-v", "error", ...args, ...TAGS, "-y", path], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  return path;
}
function tagsOf(path: string): Record<string, string> {
  const r = Bun.spawnSync(["ffprobe", "-v", "error", "-show_entries", "format_tags:stream_tags", "-of", "json", path]);
  const j = JSON.parse(r.stdout.toString()) as { format?: { tags?: Record<string, string> }; streams?: { tags?: Record<string, string> }[] };
  const all: Record<string, string> = {};
  for (const tags of [j.format?.tags, ...(j.streams ?? []).map((s) => s.tags)]) for (const [k, v] of Object.entries(tags ?? {})) all[k.toLowerCase()] = v;
  return all;
}
const leaks = (tags: Record<string, string>) => Object.entries(tags).filter(([k, v]) => /location|comment|title|artist|xyz/.test(k) || /secret|Holiday|48\.8584/.test(v));

let clip360: string;
let clip540: string;
let song: string;
beforeAll(async () => {
  const av = (size: string) => ["-f", "lavfi", "-i", `testsrc2=size=${size}:rate=25`, "-f", "lavfi", "-i", "sine", "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"];
  // Within the 360p rung's bitrate cap, so the ladder copies it (the path that kept the tags).
  clip360 = make("phone-360.mp4", [...av("640x360"), "-b:v", "250k", "-maxrate", "250k", "-bufsize", "500k", "-b:a", "64k"]);
  clip540 = make("phone-540.mov", av("960x540"));
  song = make("song.m4a", ["-f", "lavfi", "-i", "sine=duration=2", "-c:a", "aac"]);
  // The sources really carry the tags.
  for (const s of [clip360, clip540, song]) expect(leaks(tagsOf(s)).length).toBeGreaterThan(0);
  t = await startTestNode({ MEDIANODE_IMPORT_DIRS: work.path });
}, 60_000);
afterAll(async () => {
  await t?.stop();
  work.remove();
});

const run = async (type: string, path: string, options: Record<string, unknown>) => {
  const r = await t.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type, source: { path }, options }) });
  expect(r.status).toBe(202);
  const j = await waitForJob(t, ((await r.json()) as { id: string }).id, 90_000);
  expect(j.status).toBe("completed");
  return join(t.dataDir, "media", j.id as string, "out");
};
const mediaFiles = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: false })
    .map(String)
    .filter((f) => /\.(mp4|m4a|mp3|opus|ts)$/.test(f))
    .map((f) => join(dir, f));

test.each([
  ["video, top rung copied (video.mp4 written by the ladder run)", () => clip360, { renditions: [360] }],
  ["video, encoded ladder (video.mp4 remuxed from segments)", () => clip540, { renditions: [360] }],
])("%s: no location, comment or title in video.mp4 or any segment", async (_n, src, options) => {
  const out = await run("video", src(), options);
  const files = mediaFiles(out);
  expect(files.some((f) => f.endsWith("video.mp4"))).toBe(true);
  expect(files.some((f) => f.endsWith(".ts"))).toBe(true);
  for (const f of files) expect({ f, leaks: leaks(tagsOf(f)) }).toEqual({ f, leaks: [] });
}, 120_000);

test("audio: every rendition and HLS segment is stripped by default; tags keep copies title/artist only", async () => {
  const out = await run("audio", song, { hls: true });
  const files = mediaFiles(out);
  expect(files.length).toBeGreaterThan(2);
  for (const f of files) expect({ f, leaks: leaks(tagsOf(f)) }).toEqual({ f, leaks: [] });
  const kept = await run("audio", song, { tags: "keep", renditions: [{ codec: "aac", bitrateKbps: 64 }] });
  const tags = tagsOf(join(kept, "audio-64k.m4a"));
  expect(tags).toMatchObject({ title: "Holiday", artist: "Someone" });
  expect(Object.keys(tags).filter((k) => /location|comment/.test(k))).toEqual([]);
}, 120_000);
