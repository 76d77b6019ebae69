// Test media made at bench time with ffmpeg's lavfi sources: nothing binary is committed.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function benchDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `medianode-bench-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export async function run(argv: string[], o: { cwd?: string } = {}): Promise<{ ms: number; stderr: string }> {
  const t0 = performance.now();
  const p = Bun.spawn(argv, { cwd: o.cwd, stdout: "ignore", stderr: "pipe" });
  const [code, stderr] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`${argv[0]} exited ${code}: ${stderr.slice(-2000)}`);
  return { ms, stderr };
}

/**
 * `count` distinct ~12 MP JPEGs (4000×3000, moving test pattern + temporal noise, so each
 * frame differs and decodes like a photo: ≈3–4 MB at q 3).
 */
export async function makePhotos(dir: string, count: number): Promise<string[]> {
  await run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=4000x3000:rate=5,noise=alls=20:allf=t+u", "-frames:v", String(count), "-q:v", "3", join(dir, "photo_%03d.jpg")]);
  return readdirSync(dir).filter((f) => f.startsWith("photo_")).sort().map((f) => join(dir, f));
}

/** `count` distinct 1920×1080 JPEGs (moving pattern + temporal noise), ≈0.5–1 MB each at q 3. */
export async function makeFrames(dir: string, count: number): Promise<string[]> {
  await run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=10,noise=alls=20:allf=t+u", "-frames:v", String(count), "-q:v", "3", join(dir, "f_%03d.jpg")]);
  return Array.from({ length: count }, (_, i) => join(dir, `f_${String(i + 1).padStart(3, "0")}.jpg`));
}

/** A 1080p30 H.264/AAC clip of `sec` seconds (testsrc2 + sine), the issue 3 benchmark source. */
export async function makeClip(path: string, sec = 20): Promise<void> {
  await run([
    "ffmpeg", "-v", "error", "-y",
    "-f", "lavfi", "-i", `testsrc2=size=1920x1080:rate=30:duration=${sec}`,
    "-f", "lavfi", "-i", `sine=frequency=440:sample_rate=48000:duration=${sec}`,
    "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", "-g", "60",
    "-c:a", "aac", "-b:a", "192k", "-movflags", "+faststart", "-shortest", path,
  ]);
}

/** A stereo music-like WAV/FLAC source of `sec` seconds for the audio benchmark. */
export async function makeAudio(path: string, sec = 120): Promise<void> {
  await run([
    "ffmpeg", "-v", "error", "-y",
    "-f", "lavfi", "-i", `sine=frequency=440:sample_rate=48000:duration=${sec}`,
    "-f", "lavfi", "-i", `anoisesrc=color=pink:amplitude=0.2:sample_rate=48000:duration=${sec}`,
    "-filter_complex", "[0:a][1:a]amerge=inputs=2[a]", "-map", "[a]", "-ac", "2", "-c:a", "flac", path,
  ]);
}
