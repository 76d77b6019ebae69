import { expect, test } from "bun:test";
import { statSync } from "node:fs";
import IORedis from "ioredis";
import { createLogger } from "../../src/log";
import { redisServerArgs, startEmbeddedRedis } from "../../src/queue/redis-server";
import { tempDir } from "../helpers/tmp";

const pids = (pattern: string) => Bun.spawnSync(["pgrep", "-f", pattern]).stdout.toString().split("\n").filter(Boolean).map(Number);

test("embedded redis-server arguments: unix socket only, AOF on, never evict", () => {
  const args = redisServerArgs("/d", "/d/redis.sock");
  const opt = (k: string) => args[args.indexOf(k) + 1];
  expect(opt("--port")).toBe("0");
  expect(opt("--unixsocket")).toBe("/d/redis.sock");
  expect(opt("--appendonly")).toBe("yes");
  expect(opt("--maxmemory-policy")).toBe("noeviction");
});

test("the embedded redis-server is supervised: restarted when it dies, stopped on stop(), data kept", async () => {
  const dir = tempDir();
  const r = await startEmbeddedRedis(dir.path, createLogger({ level: "error" }));
  try {
    const socket = r.url.slice("unix://".length);
    expect(statSync(socket).mode & 0o777).toBe(0o700);
    const c = new IORedis({ path: socket, maxRetriesPerRequest: null });
    c.on("error", () => {});
    await c.set("k", "v");
    // AOF is fsynced every second: let it reach the disk, then kill the server hard.
    await Bun.sleep(1200);
    const [pid] = pids(`redis-server.*${dir.path}`);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid!, "SIGKILL");
    let value: string | null = null;
    for (let i = 0; i < 100 && value !== "v"; i++) {
      await Bun.sleep(100);
      value = await c.get("k").catch(() => null);
    }
    expect(value).toBe("v");
    expect(pids(`redis-server.*${dir.path}`)[0]).not.toBe(pid);
    c.disconnect();
  } finally {
    await r.stop();
    dir.remove();
  }
  expect(pids(`redis-server.*${dir.path}`)).toEqual([]);
});
