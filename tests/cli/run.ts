// Runs the real CLI as a child process (`bun cli/main.ts …`), with a clean environment,
// a timeout, and its output collected. Also a buffered Io for the few in-process tests.
import type { Io, OutStream } from "../../cli/output";

export const MAIN = new URL("../../cli/main.ts", import.meta.url).pathname;
export const ROOT = new URL("../../", import.meta.url).pathname;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Nothing from the developer's shell leaks in: no MEDIANODE_*, no REDIS_URL, no config file. */
export function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    MEDIANODE_CONFIG: "/nonexistent/medianode.config.json",
    MEDIANODE_LOG_LEVEL: "error",
    ...extra,
  };
}

export async function runCli(args: string[], o: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], {
    cwd: o.cwd ?? ROOT,
    env: cliEnv(o.env),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: o.timeoutMs ?? 60_000,
    killSignal: "SIGKILL",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** Fails with everything the command printed, so a wrong exit code explains itself. */
export function expectExit(r: CliResult, code: number): CliResult {
  if (r.code !== code) throw new Error(`expected exit ${code}, got ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

export interface BufferIo extends Io {
  out(): string;
  err(): string;
}

/** An Io whose streams are strings; `tty` makes stderr claim to be a terminal. */
export function bufferIo(o: { tty?: boolean; env?: Record<string, string> } = {}): BufferIo {
  const chunks = { out: [] as string[], err: [] as string[] };
  const stream = (k: "out" | "err", tty: boolean): OutStream => ({ write: (s: string) => chunks[k].push(s), isTTY: tty, columns: 100 });
  return {
    stdout: stream("out", false),
    stderr: stream("err", !!o.tty),
    env: cliEnv(o.env),
    out: () => chunks.out.join(""),
    err: () => chunks.err.join(""),
  };
}
