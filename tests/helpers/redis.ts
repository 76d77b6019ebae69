// A private redis-server on a free port for each test file that needs one. Never the
// machine's own Redis: tests flush and kill what they start, nothing else.
import { createServer } from "node:net";
import IORedis from "ioredis";
import { dieWithParent } from "../../src/process";
import { tempDir } from "./tmp";

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TestRedis {
  url: string;
  port: number;
  client(): IORedis;
  stop(): Promise<void>;
  /** Kill without a save (simulates a crash). */
  kill(): void;
  restart(): Promise<void>;
}

export async function startTestRedis(extra: string[] = []): Promise<TestRedis> {
  const dir = tempDir("medianode-redis-");
  const port = await freePort();
  const args = ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.path, "--maxmemory-policy", "noeviction", "--loglevel", "warning", ...extra];
  // Dies with the test or benchmark process that started it, even one that crashed before stop().
  let proc = Bun.spawn(dieWithParent(args, "TERM"), { stdout: "ignore", stderr: "inherit" });
  const url = `redis://127.0.0.1:${port}`;
  const clients: IORedis[] = [];
  const waitUp = async () => {
    for (let i = 0; i < 200; i++) {
      const c = new IORedis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      c.on("error", () => {});
      try {
        await c.connect();
        if ((await c.ping()) === "PONG") return;
      } catch {
        // not yet
      } finally {
        c.disconnect();
      }
      await Bun.sleep(25);
    }
    throw new Error("test redis-server did not start");
  };
  await waitUp();
  return {
    url,
    port,
    client() {
      const c = new IORedis(url, { maxRetriesPerRequest: null });
      clients.push(c);
      return c;
    },
    kill() {
      proc.kill("SIGKILL");
    },
    async restart() {
      proc.kill("SIGKILL");
      await proc.exited;
      proc = Bun.spawn(dieWithParent(args, "TERM"), { stdout: "ignore", stderr: "inherit" });
      await waitUp();
    },
    async stop() {
      for (const c of clients) c.disconnect();
      proc.kill("SIGKILL");
      await proc.exited;
      dir.remove();
    },
  };
}
