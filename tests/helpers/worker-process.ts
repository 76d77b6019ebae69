// A `medianode worker` process on a test's Redis and data dir: resolves with its node id once
// it consumes and the api node lists its advert. The caller kills what it started (`procs`).
import type { TestNode } from "./server";
import { cliEnv, MAIN, ROOT } from "../cli/run";

export async function startWorkerProcess(o: {
  redisUrl: string;
  dataDir: string;
  api: Pick<TestNode, "api">;
  concurrency: string;
  env?: Record<string, string>;
  procs: ReturnType<typeof Bun.spawn>[];
}): Promise<string> {
  const proc = Bun.spawn([process.execPath, MAIN, "worker", "--data-dir", o.dataDir], {
    cwd: ROOT,
    env: cliEnv({ REDIS_URL: o.redisUrl, MEDIANODE_PORT: "0", MEDIANODE_CONCURRENCY: o.concurrency, ...o.env }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: 180_000,
    killSignal: "SIGKILL",
  });
  o.procs.push(proc);
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let out = "";
  while (!/consuming from/.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`worker exited: ${out}\n${await new Response(proc.stderr as ReadableStream).text()}`);
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const id = /medianode worker (\S+) consuming/.exec(out)![1]!;
  // Ready when the api node lists it (its advert is in Redis).
  for (let i = 0; i < 200; i++) {
    const list = (await (await o.api.api("/v1/nodes")).json()) as { items: { id: string }[] };
    if (list.items.some((n) => n.id === id)) return id;
    await Bun.sleep(50);
  }
  throw new Error(`worker ${id} never advertised`);
}
