// Real `medianode serve` / `medianode worker` processes for multi-node tests: each is the CLI
// in its own process, with its own data dir; `wrap` runs it under a prefix (ip netns exec …).
import type { Subprocess } from "bun";
import { cliEnv, expectExit, MAIN, ROOT, runCli } from "../cli/run";

export interface NodeProc {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Everything it printed so far. */
  stdout(): string;
  stderr(): string;
  stop(): Promise<number>;
}

function spawnCli(args: string[], env: Record<string, string>, wrap: string[]): NodeProc {
  const proc = Bun.spawn([...wrap, process.execPath, MAIN, ...args], {
    cwd: ROOT,
    env: cliEnv({ MEDIANODE_RATE_LIMIT_PER_TOKEN: "0", MEDIANODE_RATE_LIMIT_PER_IP: "0", ...env }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: 600_000,
    killSignal: "SIGKILL",
  });
  let out = "";
  let err = "";
  const collect = async (s: ReadableStream<Uint8Array>, add: (x: string) => void) => {
    const d = new TextDecoder();
    for await (const c of s) add(d.decode(c));
  };
  void collect(proc.stdout, (x) => (out += x));
  void collect(proc.stderr, (x) => (err += x));
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    async stop() {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      const code = await proc.exited;
      clearTimeout(t);
      return code;
    },
  };
}

async function waitFor(p: NodeProc, re: RegExp, what: string, timeoutMs = 30_000): Promise<RegExpExecArray> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = re.exec(p.stdout());
    if (m) return m;
    if (p.proc.exitCode !== null) throw new Error(`${what} exited (${p.proc.exitCode}):\n${p.stdout()}\n${p.stderr()}`);
    if (Date.now() > until) throw new Error(`${what} did not start in ${timeoutMs} ms:\n${p.stdout()}\n${p.stderr()}`);
    await Bun.sleep(50);
  }
}

export interface ApiProc extends NodeProc {
  url: string;
  token: string;
}

export interface ServeProc extends NodeProc {
  url: string;
}

/** `medianode serve --roles <roles>` on its own port, the given data dir and Redis. */
export async function startServeProcess(o: { roles: string; redisUrl: string; dataDir: string; host?: string; env?: Record<string, string>; wrap?: string[]; startMs?: number }): Promise<ServeProc> {
  const args = ["serve", "--roles", o.roles, "--port", "0", "--data-dir", o.dataDir, ...(o.host ? ["--host", o.host] : [])];
  const p = spawnCli(args, { REDIS_URL: o.redisUrl, ...o.env }, o.wrap ?? []);
  const url = (await waitFor(p, /serving on (\S+) /, `${o.roles} node`, o.startMs))[1]!;
  return { ...p, url };
}

/** `medianode serve --roles api,monitor,metrics` on its own data dir and the given Redis. */
export async function startApiProcess(o: { redisUrl: string; dataDir: string; host?: string; env?: Record<string, string>; wrap?: string[] }): Promise<ApiProc> {
  const p = await startServeProcess({ ...o, roles: "api,monitor,metrics" });
  const token = (await Bun.file(`${o.dataDir}/admin.token`).text()).trim();
  return { ...p, token };
}

/** A token made on the api node's data dir with `medianode token create` (the operator's way). */
export async function createTokenCli(dataDir: string, name: string, scopes: string): Promise<string> {
  const r = expectExit(await runCli(["token", "create", "--name", name, "--scopes", scopes, "--json", "--data-dir", dataDir]), 0);
  return (JSON.parse(r.stdout) as { token: string }).token;
}

export interface WorkerProc extends NodeProc {
  nodeId: string;
}

/** `medianode worker --server URL --token T` (or, without server, the shared-mount mode). */
export async function startWorkerProcess(o: { redisUrl: string; dataDir: string; server?: string; token?: string; concurrency?: string; env?: Record<string, string>; wrap?: string[] }): Promise<WorkerProc> {
  const args = ["worker", "--data-dir", o.dataDir, ...(o.server ? ["--server", o.server, "--token", o.token ?? ""] : []), ...(o.concurrency ? ["--concurrency", o.concurrency] : [])];
  const p = spawnCli(args, { REDIS_URL: o.redisUrl, MEDIANODE_PORT: "0", ...o.env }, o.wrap ?? []);
  const nodeId = (await waitFor(p, /medianode worker (\S+) consuming/, "worker"))[1]!;
  return { ...p, nodeId };
}
