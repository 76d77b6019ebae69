// A monitor's view of every channel: the records in Redis (written by the api role), kept
// current by the change notices on CHANNELS_CHANNEL and a re-read every 10 s, plus the offset
// of this host's clock from Redis's, so monitors on different hosts agree on "now".
import { Value } from "@sinclair/typebox/value";
import type IORedis from "ioredis";
import type { Logger } from "../log";
import { subscribeWhenReady } from "../queue/connection";
import { CHANNELS_CHANNEL, CHANNELS_KEY } from "../queue/names";
import { ChannelRecord } from "./schema";

export interface ChannelRegistry {
  get(key: string): ChannelRecord | null;
  all(): ChannelRecord[];
  /** Now, on the cluster's clock (Redis TIME), in ms. */
  now(): number;
  /** Called with the key of a channel that changed or went away. */
  onChange(l: (key: string, rec: ChannelRecord | null) => void): void;
  /** Writes a clock change (a broadcast began or ended) for every monitor. */
  update(rec: ChannelRecord): Promise<void>;
  stop(): void;
}

export async function startChannelRegistry(deps: { redis: IORedis; sub: IORedis; log: Logger }): Promise<ChannelRegistry> {
  const recs = new Map<string, ChannelRecord>();
  const listeners: ((key: string, rec: ChannelRecord | null) => void)[] = [];
  let offsetMs = 0;
  const parse = (text: string | null): ChannelRecord | null => {
    if (!text) return null;
    try {
      const v = JSON.parse(text) as unknown;
      return Value.Check(ChannelRecord, v) ? v : null;
    } catch {
      return null;
    }
  };
  const set = (key: string, rec: ChannelRecord | null) => {
    const before = recs.get(key) ?? null;
    if (rec) recs.set(key, rec);
    else recs.delete(key);
    if (JSON.stringify(before) !== JSON.stringify(rec)) for (const l of listeners) l(key, rec);
  };
  const reloadAll = async () => {
    const all = await deps.redis.hgetall(CHANNELS_KEY);
    // No hash at all is a Redis that lost its data, not every channel deleted: keep playing
    // until the api role puts the records back (services/channels.ts syncChannels).
    if (Object.keys(all).length === 0) return;
    for (const key of [...recs.keys()]) if (!(key in all)) set(key, null);
    for (const [key, text] of Object.entries(all)) set(key, parse(text));
  };
  const syncClock = async () => {
    const t0 = Date.now();
    const [sec, usec] = await deps.redis.time();
    const t1 = Date.now();
    offsetMs = Number(sec) * 1000 + Number(usec) / 1000 - (t0 + t1) / 2;
  };
  // Redis not there yet (or down) must not stop the monitor from starting: the timer below
  // reads the channels again every 10 s and the clock offset every 30 s.
  await Promise.all([reloadAll(), syncClock()]).catch((e) => deps.log.warn("channels not read at start; retrying every 10 s", { error: e }));
  deps.sub.on("message", (channel: string, key: string) => {
    if (channel !== CHANNELS_CHANNEL) return;
    deps.redis.hget(CHANNELS_KEY, key).then((t) => set(key, parse(t)), (e) => deps.log.warn("channel re-read failed", { error: e }));
  });
  await subscribeWhenReady(deps.sub, CHANNELS_CHANNEL);
  let n = 0;
  const timer = setInterval(() => {
    reloadAll().catch((e) => deps.log.warn("channel re-read failed", { error: e }));
    if (++n % 3 === 0) syncClock().catch(() => {});
  }, 10_000);
  return {
    get: (key) => recs.get(key) ?? null,
    all: () => [...recs.values()],
    now: () => Date.now() + offsetMs,
    onChange: (l) => void listeners.push(l),
    async update(rec) {
      const key = `${rec.tenant}/${rec.name}`;
      await deps.redis.hset(CHANNELS_KEY, key, JSON.stringify(rec));
      await deps.redis.publish(CHANNELS_CHANNEL, key);
      set(key, rec);
    },
    stop() {
      clearInterval(timer);
      deps.sub.disconnect();
    },
  };
}
