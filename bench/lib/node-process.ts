// Spawns bench/node-child.ts (a node in its own process) and waits until it listens.
import { join } from "node:path";
import type { Subprocess } from "bun";
import { dieWithParent } from "../../src/process";

export interface NodeProcess {
  url: string;
  token: string;
  pid: number;
  proc: Subprocess;
  stop(): Promise<void>;
}

export async function spawnNode(env: Record<string, string>, extraBunArgs: string[] = []): Promise<NodeProcess> {
  // The node (and so its embedded redis-server, which dies with it) ends with the benchmark, even one that failed before stop().
  const proc = Bun.spawn(dieWithParent([process.execPath, ...extraBunArgs, join(import.meta.dir, "..", "node-child.ts")], "TERM"), {
    env: { ...process.env, MEDIANODE_LOG_LEVEL: "error", MEDIANODE_PORT: "0", ...env },
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = proc.stdout.getReader();
  let buf = "";
  const until = Date.now() + 30_000;
  while (!buf.includes("\n")) {
    if (Date.now() > until) throw new Error("node-child did not start in 30 s");
    const { done, value } = await reader.read();
    if (done) throw new Error(`node-child exited before listening (code ${await proc.exited})`);
    buf += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const info = JSON.parse(buf.split("\n")[0]!) as { url: string; token: string; pid: number };
  return {
    ...info,
    proc,
    async stop() {
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await proc.exited;
      clearTimeout(t);
    },
  };
}
