// `medianode worker` as a real process: an api-only node enqueues, the worker (sharing
// its Redis and data dir) runs the job; SIGTERM → exit 0.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTokenCli } from "../helpers/cluster";
import { corpus } from "../helpers/corpus";
import { freePort } from "../helpers/redis";
import { tempDir } from "../helpers/tmp";
import { startTestNode, type TestNode } from "../helpers/server";
import { cliEnv, expectExit, MAIN, ROOT, runCli } from "./run";

let t: TestNode;
let worker: ReturnType<typeof Bun.spawn> | null = null;
const dir = tempDir("mn-worker-");

beforeAll(async () => {
  t = await startTestNode({ MEDIANODE_ROLES: "api" });
});
afterAll(async () => {
  if (worker && worker.exitCode === null) worker.kill("SIGKILL");
  await worker?.exited;
  await t?.stop();
  dir.remove();
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

describe("worker --server refuses to start with a clear error and exit code (SPEC §5)", () => {
  const redis = { REDIS_URL: "redis://127.0.0.1:1" };
  test("a --server that is not an http(s) URL: exit 2", async () => {
    for (const server of ["not a url", "ftp://host/"]) {
      const r = expectExit(await runCli(["worker", "--server", server, "--token", "x"], { env: redis }), 2);
      expect(r.stderr).toContain("--server");
    }
  });

  test("--server without a token: exit 2, naming --token and the worker scope", async () => {
    const r = expectExit(await runCli(["worker", "--server", "http://127.0.0.1:1"], { env: redis }), 2);
    expect(r.stderr).toContain("--server needs --token");
    expect(r.stderr).toContain("worker scope");
  });

  test("an unreachable --server: exit 3 at start", async () => {
    const r = expectExit(await runCli(["worker", "--server", `http://127.0.0.1:${await freePort()}`, "--token", "x", "--data-dir", dir.path], { env: redis, timeoutMs: 30_000 }), 3);
    expect(r.stderr).toContain("cannot reach the api node");
  });

  test("a token without the worker scope: exit 1 (refused), a bad token too", async () => {
    const reader = await createTokenCli(t.dataDir, "reader", "jobs:read");
    const env = { REDIS_URL: t.redis.url };
    const r = expectExit(await runCli(["worker", "--server", t.url, "--token", reader, "--data-dir", dir.path], { env, timeoutMs: 30_000 }), 1);
    expect(r.stderr).toContain("lacks the worker scope");
    const bad = expectExit(await runCli(["worker", "--server", t.url, "--token", "mn_nope.nope", "--data-dir", dir.path], { env, timeoutMs: 30_000 }), 1);
    expect(bad.stderr).toContain("401");
  });
});
