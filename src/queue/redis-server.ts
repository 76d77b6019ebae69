import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import IORedis from "ioredis";
import { UnavailableError } from "../errors";
import type { Logger } from "../log";
import { dieWithParent } from "../process";

export const REDIS_INSTALL_HINT = "install it with: apt-get install -y redis-server (or set REDIS_URL to an existing Redis)";

export function findRedisServer(): string | null {
  return Bun.which("redis-server") ?? ["/usr/bin/redis-server", "/usr/sbin/redis-server", "/usr/local/bin/redis-server"].find((p) => existsSync(p)) ?? null;
}

export interface EmbeddedRedis {
  /** `unix:///…/redis.sock`, for createRedis(). */
  url: string;
  stop(): Promise<void>;
}

/** The arguments of the embedded server (pure, tested): no TCP, AOF on, never evict (SPEC §1). */
export function redisServerArgs(dir: string, socket: string): string[] {
  const join = (a: string, b: string) => `${a}/${b}`;
  return [
    "--port", "0",
    "--unixsocket", socket,
    "--unixsocketperm", "700",
    "--dir", dir,
    "--appendonly", "yes",
    "--appendfsync", "everysec",
    "--save", "",
    "--maxmemory-policy", "noeviction",
    "--daemonize", "no",
    // Its own log file: serve's stdout carries only the URL and admin-token lines scripts read.
    "--logfile", join(dir, "redis.log"),
    "--loglevel", "warning",
  ];
}

async function waitReady(socket: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (existsSync(socket)) {
      const c = new IORedis({ path: socket, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
      try {
        await c.connect();
        // AOF loading answers LOADING; wait until it is done.
        if ((await c.ping()) === "PONG") return;
      } catch {
        // retry
      } finally {
        c.disconnect();
      }
    }
    await Bun.sleep(50);
  }
  throw new UnavailableError(`embedded redis-server did not start within ${ms} ms`);
}

/**
 * Starts a private redis-server under `<data>/redis` and restarts it if it dies, until stop().
 * It gets SIGTERM when this process dies, so a SIGKILLed serve leaves no Redis behind.
 */
export async function startEmbeddedRedis(dataDir: string, log: Logger): Promise<EmbeddedRedis> {
  const bin = findRedisServer();
  if (!bin) throw new UnavailableError(`redis-server not found: ${REDIS_INSTALL_HINT}`);
  const dir = join(dataDir, "redis");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const socket = join(dir, "redis.sock");
  let stopping = false;
  let proc: ReturnType<typeof Bun.spawn> | null = null;
  let restarts = 0;

  const launch = () => {
    rmSync(socket, { force: true });
    proc = Bun.spawn(dieWithParent([bin, ...redisServerArgs(dir, socket)], "TERM"), { stdout: "ignore", stderr: "ignore", stdin: "ignore" });
    const mine = proc;
    void mine.exited.then((code) => {
      if (stopping || proc !== mine) return;
      restarts++;
      const delay = Math.min(5000, 200 * restarts);
      log.error("embedded redis-server exited; restarting", { code, restarts, delayMs: delay, redisLog: join(dir, "redis.log") });
      setTimeout(() => {
        if (!stopping) launch();
      }, delay);
    });
  };
  launch();
  await waitReady(socket, 15_000);
  log.info("embedded redis-server ready", { socket });
  return {
    url: `unix://${socket}`,
    async stop() {
      stopping = true;
      const p = proc as ReturnType<typeof Bun.spawn> | null;
      if (!p) return;
      p.kill("SIGTERM");
      const t = setTimeout(() => p.kill("SIGKILL"), 5000);
      await p.exited;
      clearTimeout(t);
    },
  };
}
