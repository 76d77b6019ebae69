// Real medianode processes for fault tests: the CLI as a child, its first stdout line, and
// the ffmpeg children a job has (found by the job id in their argv).
import { expect } from "bun:test";
import { cliEnv, MAIN, ROOT } from "../cli/run";

export interface NodeProcess {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  /** The first line it printed (node id, URL). */
  banner: string;
  /** Everything it wrote to stderr so far (read after it exited). */
  stderr(): Promise<string>;
}

/** `medianode <args>` as a process; resolves once it printed its start-up line. */
export async function spawnNode(args: string[], env: Record<string, string>): Promise<NodeProcess> {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], {
    cwd: ROOT,
    env: cliEnv({ MEDIANODE_PORT: "0", MEDIANODE_LOG_LEVEL: "warn", MEDIANODE_RATE_LIMIT_PER_TOKEN: "0", MEDIANODE_RATE_LIMIT_PER_IP: "0", ...env }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: 170_000,
    killSignal: "SIGKILL",
  });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const err = new Response(proc.stderr).text();
  if (!text.includes("\n")) throw new Error(`medianode ${args.join(" ")} exited before starting: ${await err}`);
  return { proc, banner: text.split("\n")[0]!, stderr: () => err };
}

/** The node id a `medianode worker` printed ("medianode worker <id> consuming from …"). */
export function workerId(p: NodeProcess): string {
  const m = /^medianode worker (\S+) consuming/.exec(p.banner);
  if (!m) throw new Error(`not a worker banner: ${p.banner}`);
  return m[1]!;
}

/** Exit code, or -1 when it did not exit within `ms`. */
export async function exitWithin(p: NodeProcess, ms: number): Promise<number> {
  return await Promise.race([p.proc.exited, Bun.sleep(ms).then(() => -1)]);
}

export const pids = (pattern: string): number[] =>
  Bun.spawnSync(["pgrep", "-f", pattern]).stdout.toString().split("\n").filter(Boolean).map(Number);

/** Waits until the job has an ffmpeg running (its argv names the job's folder). */
export async function waitForFfmpeg(jobId: string, timeoutMs = 30_000): Promise<number[]> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const p = pids(`ffmpeg.*${jobId}`);
    if (p.length) return p;
    await Bun.sleep(50);
  }
  throw new Error(`no ffmpeg for ${jobId} within ${timeoutMs} ms`);
}

export async function waitNoFfmpeg(jobId: string, timeoutMs = 5000): Promise<number[]> {
  const until = Date.now() + timeoutMs;
  while (pids(`ffmpeg.*${jobId}`).length && Date.now() < until) await Bun.sleep(100);
  return pids(`ffmpeg.*${jobId}`);
}

/** A synthetic clip made at test time (no binaries in the repo). */
export function makeClip(path: string, seconds: number, size = "1280x720"): void {
  const r = Bun.spawnSync(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", `testsrc2=size=${size}:rate=25`, "-f", "lavfi", "-i", "sine", "-t", String(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-y", path]);
  expect(r.exitCode).toBe(0);
}
