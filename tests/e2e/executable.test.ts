// `bun run build` makes dist/medianode; copied alone (plus its sidecar node_modules for sharp)
// into an empty folder, it runs serve (api only), worker (the jobs run there), submit and doctor.
import { expect, test } from "bun:test";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { corpus } from "../helpers/corpus";
import { freePort } from "../helpers/redis";
import { tempDir } from "../helpers/tmp";

test("the single executable runs serve, worker, submit and doctor from an empty folder", async () => {
  const root = join(import.meta.dir, "../..");
  const build = Bun.spawnSync([process.execPath, "run", "build"], { cwd: root, stdout: "pipe", stderr: "pipe" });
  expect(build.exitCode).toBe(0);
  const dir = tempDir("medianode-exe-");
  cpSync(join(root, "dist"), dir.path, { recursive: true });
  const exe = join(dir.path, "medianode");
  const data = join(dir.path, "run", "data");
  const [port, workerPort, doctorPort] = [await freePort(), await freePort(), await freePort()];
  // No checkout, no PATH tricks: only what a fresh machine with ffmpeg and redis-server has.
  const env = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: dir.path, MEDIANODE_LOG_LEVEL: "warn" };
  const spawn = (args: string[], extra: Record<string, string> = {}) =>
    Bun.spawn([exe, ...args], { cwd: dir.path, env: { ...env, ...extra }, stdout: "pipe", stderr: "pipe" });
  // The api node alone: a job completes only if the worker process from the same binary runs it.
  const serve = spawn(["serve", "--roles", "api,monitor,metrics", "--port", String(port), "--data-dir", data]);
  let worker: ReturnType<typeof spawn> | null = null;
  try {
    const url = `http://127.0.0.1:${port}`;
    let token = "";
    for (let i = 0; i < 100 && !token; i++) {
      await Bun.sleep(100);
      token = (await Bun.file(join(data, "admin.token")).text().catch(() => "")).trim();
    }
    for (let i = 0; i < 50 && (await fetch(url + "/healthz").catch(() => null))?.status !== 200; i++) await Bun.sleep(100);
    // A worker on the same host shares the data dir and the embedded Redis's socket.
    worker = spawn(["worker", "--data-dir", data, "--concurrency", "image=1,video=1"], { REDIS_URL: `unix://${join(data, "redis", "redis.sock")}`, MEDIANODE_PORT: String(workerPort) });

    const cli = { MEDIANODE_URL: url, MEDIANODE_TOKEN: token };
    const submit = spawn(["submit", corpus("image-jpeg-exif-orient6.jpg").path, "--wait", "--json"], cli);
    const [submitCode, submitOut] = await Promise.all([submit.exited, new Response(submit.stdout).text()]);
    expect(submitCode).toBe(0);
    const image = JSON.parse(submitOut) as { status: string; node: string; result: { width: number } };
    expect(image.status).toBe("completed");

    const post = (type: string, file: string, opts = "") =>
      fetch(`${url}/v1/jobs?type=${type}${opts}`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: Bun.file(corpus(file).path) }).then((r) => r.json() as Promise<{ id: string }>);
    const video = await post("video", "video-h264-aac-faststart-960x540.mp4", "&options=" + encodeURIComponent('{"renditions":[240],"preset":"ultrafast"}'));
    let job = { status: "", node: "" };
    for (let i = 0; i < 600 && !["completed", "failed"].includes(job.status); i++) {
      await Bun.sleep(100);
      job = (await (await fetch(`${url}/v1/jobs/${video.id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as typeof job;
    }
    expect(job.status).toBe("completed");
    // Both jobs ran in the worker process (the api-only node has no worker role).
    const nodes = (await (await fetch(`${url}/v1/nodes`, { headers: { authorization: `Bearer ${token}` } })).json()) as { items: { id: string; roles: string[] }[] };
    const workerNode = nodes.items.find((n) => n.roles.length === 1 && n.roles[0] === "worker");
    expect(workerNode).toBeDefined();
    expect([image.node, job.node]).toEqual([workerNode!.id, workerNode!.id]);
    // The worker's own health port answers.
    expect((await fetch(`http://127.0.0.1:${workerPort}/healthz`)).status).toBe(200);

    const doctor = spawn(["doctor", "--json", "--data-dir", data], { MEDIANODE_PORT: String(doctorPort) });
    const [doctorCode, doctorOut] = await Promise.all([doctor.exited, new Response(doctor.stdout).text()]);
    const report = JSON.parse(doctorOut) as { ok: boolean; checks: { name: string; status: string }[] };
    expect(report.checks.find((c) => c.name === "ffmpeg")?.status).toBe("ok");
    expect(report.checks.filter((c) => c.status === "fail")).toEqual([]);
    expect(report.ok).toBe(true);
    expect(doctorCode).toBe(0);
  } finally {
    worker?.kill("SIGTERM");
    serve.kill("SIGTERM");
    if (worker) expect(await worker.exited).toBe(0);
    expect(await serve.exited).toBe(0);
    dir.remove();
  }
}, 150_000);
