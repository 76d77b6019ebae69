// `medianode serve` as a real process: embedded Redis (no REDIS_URL), temp data dir,
// admin token printed once, SIGTERM → exit 0 with no redis-server left behind.
import { afterAll, describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { corpus } from "../helpers/corpus";
import { freePort } from "../helpers/redis";
import { tempDir } from "../helpers/tmp";
import { cliEnv, expectExit, MAIN, ROOT, runCli } from "./run";

const dir = tempDir("medianode-serve-");
const started: ReturnType<typeof Bun.spawn>[] = [];

afterAll(async () => {
  for (const p of started) {
    if (p.exitCode === null) p.kill("SIGKILL");
    await p.exited;
  }
  // Whatever happened, leave no redis-server behind (it dies with its parent, but be sure).
  Bun.spawnSync(["pkill", "-KILL", "-f", `${dir.path}/redis`]);
  dir.remove();
});

interface Serve {
  proc: ReturnType<typeof Bun.spawn>;
  url: string;
  /** stdout until shortly after the URL line. */
  stdout: string;
  stderr: () => string;
}

async function startServe(port: number): Promise<Serve> {
  const proc = Bun.spawn([process.execPath, MAIN, "serve", "--port", String(port), "--data-dir", dir.path], {
    cwd: ROOT,
    env: cliEnv(),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: 90_000,
    killSignal: "SIGKILL",
  });
  started.push(proc);
  let err = "";
  let out = "";
  const collect = async (stream: ReadableStream<Uint8Array>, add: (s: string) => void) => {
    for await (const c of stream) add(new TextDecoder().decode(c));
  };
  void collect(proc.stderr as ReadableStream<Uint8Array>, (x) => (err += x));
  void collect(proc.stdout as ReadableStream<Uint8Array>, (x) => (out += x));
  const until = Date.now() + 30_000;
  while (!/serving on \S+.*\n/.test(out)) {
    if (proc.exitCode !== null) throw new Error(`serve exited (${proc.exitCode}):\n${out}\n${err}`);
    if (Date.now() > until) throw new Error(`serve did not start:\n${out}\n${err}`);
    await Bun.sleep(50);
  }
  // The token lines, if any, are written right after the URL line.
  await Bun.sleep(300);
  return { proc, url: /serving on (\S+)/.exec(out)![1]!, stdout: out, stderr: () => err };
}

function redisRunning(): boolean {
  return Bun.spawnSync(["pgrep", "-f", `${dir.path}/redis`]).exitCode === 0;
}

async function stopWithSigterm(s: Serve): Promise<number> {
  s.proc.kill("SIGTERM");
  const code = await Promise.race([s.proc.exited, Bun.sleep(20_000).then(() => -1)]);
  return code;
}

describe("serve", () => {
  let firstToken = "";

  test("first start: embedded Redis, prints the admin token once, writes admin.token 0600; SIGTERM exits 0", async () => {
    const s = await startServe(await freePort());
    try {
      expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const m = /admin token.*admin\.token.*\n\s+(mn_\S+)\n/.exec(s.stdout);
      expect(m).not.toBeNull();
      firstToken = m![1]!;
      const file = `${dir.path}/admin.token`;
      expect((await Bun.file(file).text()).trim()).toBe(firstToken);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(redisRunning()).toBe(true);

      // The CLI finds the token in <data-dir>/admin.token and the job runs end to end.
      const r = expectExit(await runCli(["submit", corpus("audio-wav-pcm-s16le.wav").path, "--type", "probe", "--wait", "--json", "--url", s.url, "--data-dir", dir.path]), 0);
      expect((JSON.parse(r.stdout) as { status: string }).status).toBe("completed");
    } finally {
      expect(await stopWithSigterm(s)).toBe(0);
    }
    expect(s.stderr()).toContain("SIGTERM received");
    expect(redisRunning()).toBe(false);
  });

  test("second start on the same data dir prints no new token and keeps the jobs", async () => {
    expect(firstToken).not.toBe("");
    const s = await startServe(await freePort());
    try {
      expect(s.stdout).not.toContain("admin token");
      expect(s.stdout).not.toMatch(/mn_t_/);
      expect((await Bun.file(`${dir.path}/admin.token`).text()).trim()).toBe(firstToken);
      const list = JSON.parse(expectExit(await runCli(["jobs", "list", "--json", "--url", s.url, "--token", firstToken]), 0).stdout) as { items: { status: string }[] };
      expect(list.items.map((j) => j.status)).toEqual(["completed"]);
    } finally {
      expect(await stopWithSigterm(s)).toBe(0);
    }
    expect(redisRunning()).toBe(false);
  });

  test("a port in use: start fails with exit 1 and leaves no redis-server", async () => {
    const other = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("x") });
    try {
      const r = await runCli(["serve", "--port", String(other.port), "--data-dir", dir.path], { timeoutMs: 30_000 });
      expectExit(r, 1);
      expect(r.stderr).toMatch(/EADDRINUSE|in use/i);
    } finally {
      other.stop(true);
    }
    expect(redisRunning()).toBe(false);
  });
});
