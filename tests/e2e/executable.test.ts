// `bun run build` makes dist/medianode; copied alone (plus its sidecar node_modules for sharp)
// into an empty folder, it serves and completes an image and a video job.
import { expect, test } from "bun:test";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { corpus } from "../helpers/corpus";
import { freePort } from "../helpers/redis";
import { tempDir } from "../helpers/tmp";

test("the single executable runs serve and completes jobs from an empty folder", async () => {
  const root = join(import.meta.dir, "../..");
  const build = Bun.spawnSync([process.execPath, "run", "build"], { cwd: root, stdout: "pipe", stderr: "pipe" });
  expect(build.exitCode).toBe(0);
  const dir = tempDir("medianode-exe-");
  cpSync(join(root, "dist"), dir.path, { recursive: true });
  const port = await freePort();
  const run = join(dir.path, "run");
  const serve = Bun.spawn([join(dir.path, "medianode"), "serve", "--port", String(port), "--data-dir", join(run, "data")], {
    cwd: dir.path,
    // No checkout, no PATH tricks: only what a fresh machine with ffmpeg and redis-server has.
    env: { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: dir.path },
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    const url = `http://127.0.0.1:${port}`;
    let token = "";
    for (let i = 0; i < 100 && !token; i++) {
      await Bun.sleep(100);
      token = (await Bun.file(join(run, "data", "admin.token")).text().catch(() => "")).trim();
    }
    for (let i = 0; i < 50 && (await fetch(url + "/healthz").catch(() => null))?.status !== 200; i++) await Bun.sleep(100);
    const post = (type: string, file: string, opts = "") =>
      fetch(`${url}/v1/jobs?type=${type}${opts}`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: Bun.file(corpus(file).path) }).then((r) => r.json() as Promise<{ id: string }>);
    const image = await post("image", "image-jpeg-exif-orient6.jpg");
    const video = await post("video", "video-h264-aac-faststart-960x540.mp4", "&options=" + encodeURIComponent('{"renditions":[240],"preset":"ultrafast"}'));
    for (const id of [image.id, video.id]) {
      let status = "";
      for (let i = 0; i < 600 && !["completed", "failed"].includes(status); i++) {
        await Bun.sleep(100);
        status = ((await (await fetch(`${url}/v1/jobs/${id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { status: string }).status;
      }
      expect(status).toBe("completed");
    }
  } finally {
    serve.kill("SIGTERM");
    expect(await serve.exited).toBe(0);
    dir.remove();
  }
}, 120_000);
