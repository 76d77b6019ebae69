import type { Static, TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import IORedis, { type RedisOptions } from "ioredis";
import { UnavailableError } from "../errors";

/** Parses REDIS_URL; `unix:///path/redis.sock` is the embedded server's socket. */
export function redisOptions(url: string): RedisOptions {
  if (url.startsWith("unix://")) return { path: url.slice("unix://".length) };
  const u = new URL(url);
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") throw new Error(`REDIS_URL: unsupported scheme ${u.protocol}`);
  return {
    host: u.hostname || "127.0.0.1",
    port: u.port ? Number(u.port) : 6379,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname && u.pathname !== "/" ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === "rediss:" ? {} : undefined,
  };
}

export type RedisUse =
  /** Queue producers and API reads: fail fast while Redis is down, never buffer in memory. */
  | "producer"
  /** BullMQ workers and QueueEvents: blocking commands, retry forever. */
  | "blocking";

export function createRedis(url: string, use: RedisUse, name?: string): IORedis {
  const base = redisOptions(url);
  const common: RedisOptions = {
    ...base,
    connectionName: name,
    // Reconnect forever with a capped delay: the node recovers by itself when Redis is back (SPEC §8).
    retryStrategy: (times) => Math.min(times * 200, 2000),
    lazyConnect: false,
  };
  const conn =
    use === "producer"
      ? new IORedis({ ...common, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 })
      : new IORedis({ ...common, maxRetriesPerRequest: null, enableOfflineQueue: true });
  // Connection errors are reported by /readyz and by the calls that fail; without a
  // listener ioredis would print every reconnect attempt as an unhandled error.
  conn.on("error", () => {});
  return conn;
}

/**
 * SUBSCRIBE once the connection is ready. Sent earlier (status "connect"), it goes out before
 * ioredis's ready check, whose INFO then fails in subscriber mode: the connection drops and
 * resubscribes ~200 ms later, and whatever was published meanwhile (a node.online) is lost.
 */
export async function subscribeWhenReady(conn: IORedis, ...channels: string[]): Promise<void> {
  if (conn.status !== "ready") await new Promise<void>((resolve) => conn.once("ready", () => resolve()));
  await conn.subscribe(...channels);
}

/**
 * Calls `fn` with each message on `channel` that is JSON of `schema`'s shape. Anything else is
 * dropped: a peer of another version, or another channel on the same subscriber connection.
 */
export function onChannelMessage<S extends TSchema>(sub: IORedis, channel: string, schema: S, fn: (message: Static<S>) => void): void {
  sub.on("message", (ch: string, raw: string) => {
    if (ch !== channel) return;
    let m: unknown;
    try {
      m = JSON.parse(raw);
    } catch {
      return;
    }
    if (Value.Check(schema, m)) fn(m);
  });
}

/** Wraps a Redis call so that "Redis is down" becomes a 503 with a clear code. */
export async function withRedis<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const msg = (e as Error).message ?? "";
    if (/Stream isn't writeable|enableOfflineQueue|ECONNREFUSED|Connection is closed|ENOENT|max retries|ETIMEDOUT|OOM/i.test(msg)) {
      throw new UnavailableError(/OOM/.test(msg) ? "Redis is out of memory" : "Redis is unreachable", { redis: msg }, { cause: e });
    }
    throw e;
  }
}

export async function waitForRedis(conn: IORedis, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (conn.status === "ready" && (await conn.ping()) === "PONG") return;
    } catch {
      // not yet
    }
    if (Date.now() > until) throw new UnavailableError(`Redis did not answer within ${timeoutMs} ms`);
    await Bun.sleep(50);
  }
}

/**
 * Waits for a close or a last write at most `ms` (true when it settled). With Redis down, a
 * BullMQ close() or a command on a "blocking" connection waits in the offline queue forever,
 * and a node asked to stop must still stop; disconnecting afterwards drops what is pending.
 */
export async function settleWithin(ms: number, pending: Promise<unknown>): Promise<boolean> {
  return await Promise.race([pending.then(() => true, () => true), Bun.sleep(ms).then(() => false)]);
}
