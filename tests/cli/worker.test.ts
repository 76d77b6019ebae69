// `medianode worker` as a real process: an api-only node enqueues, the worker (sharing
// its Redis and data dir) runs the job; SIGTERM → exit 0.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { corpus } from "../helpers/corpus";
import { startTestNode, type TestNode } from "../helpers/server";
import { cliEnv, expectExit, MAIN, ROOT, runCli } from "./run";

let t: TestNode;
let worker: ReturnType<typeof Bun.spawn> | null = null;

beforeAll(async () => {
  t = await startTestNode({ MEDIANODE_ROLES: "api" });
});
afterAll(async () => {
  if (worker && worker.exitCode === null) worker.kill("SIGKILL");
  await worker?.exited;
  await t?.stop();
});

test("a worker process takes jobs from the api node's Redis and stops cleanly on SIGTERM", async () => {
  worker = Bun.spawn([process.execPath, MAIN, "worker", "--concurrency", "image=2", "--data-dir", t.dataDir], {
    cwd: ROOT,
    env: cliEnv({ REDIS_URL: t.redis.url }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: 90_000,
    killSignal: "SIGKILL",
  });
  const { path, entry } = corpus("image-jpeg-progressive-320x213.jpg");
  const r = expectExit(await runCli(["submit", path, "--wait", "--json", "--url", t.url, "--token", t.token], { timeoutMs: 60_000 }), 0);
  const job = JSON.parse(r.stdout) as { status: string; result: { width: number; height: number } };
  expect(job.status).toBe("completed");
  expect(job.result.width).toBe(entry.expect.width!);
  worker.kill("SIGTERM");
  const code = await Promise.race([worker.exited, Bun.sleep(20_000).then(() => -1)]);
  const out = await new Response(worker.stdout as ReadableStream).text();
  expect(code).toBe(0);
  expect(out).toMatch(/medianode worker \S+ consuming from redis:\/\/127\.0\.0\.1:\d+ \(concurrency .*image=2/);
});
