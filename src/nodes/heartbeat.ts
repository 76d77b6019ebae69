// Every process heartbeats its advert into Redis (a key with a TTL) and announces itself
// on start and stop; the api role turns those into /v1/nodes and node.* events.
import { statfsSync } from "node:fs";
import { hostname } from "node:os";
import type IORedis from "ioredis";
import type { Logger } from "../log";
import { NODE_EVENTS_CHANNEL, NODE_KEY_PREFIX, NODE_TTL_SEC, HEARTBEAT_MS, type NodeAdvert } from "./advert";

export interface HeartbeatInput {
  id: string;
  roles: string[];
  concurrency: Record<string, number>;
  version: string;
  ffmpegVersion: string | null;
  encoders: string[];
  hwaccels: string[];
  /** Image formats decoded beyond sharp's own ("heic"). */
  decoders?: string[];
  labels: string[];
  dataDir: string;
  activeJobs(): number;
}

function freeDisk(dir: string): number | null {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

export async function startHeartbeat(redis: IORedis, input: HeartbeatInput, log: Logger): Promise<{ stop(): Promise<void> }> {
  const startedAt = new Date().toISOString();
  const advert = (): NodeAdvert => ({
    id: input.id,
    host: hostname(),
    roles: input.roles,
    concurrency: input.concurrency,
    activeJobs: input.activeJobs(),
    version: input.version,
    ffmpegVersion: input.ffmpegVersion,
    encoders: input.encoders,
    hwaccels: input.hwaccels,
    decoders: input.decoders ?? [],
    labels: input.labels,
    freeDiskBytes: freeDisk(input.dataDir),
    startedAt,
    lastSeen: new Date().toISOString(),
  });
  const beat = async () => {
    await redis.set(NODE_KEY_PREFIX + input.id, JSON.stringify(advert()), "EX", NODE_TTL_SEC);
  };
  await beat().catch((e) => log.warn("heartbeat failed", { error: e }));
  await redis.publish(NODE_EVENTS_CHANNEL, JSON.stringify({ kind: "online", node: advert() })).catch(() => {});
  const timer = setInterval(() => void beat().catch(() => {}), HEARTBEAT_MS);
  return {
    async stop() {
      clearInterval(timer);
      await redis.del(NODE_KEY_PREFIX + input.id).catch(() => {});
      await redis.publish(NODE_EVENTS_CHANNEL, JSON.stringify({ kind: "offline", node: { id: input.id } })).catch(() => {});
    },
  };
}

/** All adverts whose key has not expired. */
export async function listNodes(redis: IORedis): Promise<NodeAdvert[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", NODE_KEY_PREFIX + "*", "COUNT", 200);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  if (keys.length === 0) return [];
  const values = await redis.mget(...keys);
  return values
    .filter((v): v is string => !!v)
    .map((v) => JSON.parse(v) as NodeAdvert)
    .sort((a, b) => a.id.localeCompare(b.id));
}
