// What monitors share about live audio through Redis, beside the records (registry.ts):
// reports to the api role, the per-token stream count, the one broadcaster per channel, and
// broadcast audio relayed between monitors. Every key comes from queue/names.ts.
import type IORedis from "ioredis";
import { CHANNEL_REPORTS_KEY, channelLiveAudio, channelLiveKey, QUEUE_PREFIX, streamTokenKey } from "../queue/names";
import type { ChannelReport } from "./schema";

/** A stream slot holds this long unless renewed (monitors renew every second). */
const SLOT_MS = 15_000;

/** Monitors → api role: applied to the records in order (services/channels.ts). */
export function pushReport(redis: IORedis, r: ChannelReport): Promise<unknown> {
  return redis.rpush(CHANNEL_REPORTS_KEY, JSON.stringify(r));
}

/** Takes one of the token's stream slots (cluster-wide); false when `limit` are taken. */
export async function takeStreamSlot(redis: IORedis, token: string, session: string, limit: number, nowMs: number): Promise<boolean> {
  const key = streamTokenKey(token);
  const res = await redis.multi().zremrangebyscore(key, "-inf", nowMs).zadd(key, nowMs + SLOT_MS, session).zcard(key).pexpire(key, SLOT_MS * 2).exec();
  if (Number(res?.[2]?.[1] ?? 0) <= limit) return true;
  await redis.zrem(key, session);
  return false;
}

export function releaseStreamSlot(redis: IORedis, token: string, session: string): Promise<unknown> {
  return redis.zrem(streamTokenKey(token), session);
}

export async function renewStreamSlots(redis: IORedis, slots: readonly [token: string, session: string][], nowMs: number): Promise<void> {
  if (!slots.length) return;
  const p = redis.pipeline();
  for (const [token, session] of slots) p.zadd(streamTokenKey(token), nowMs + SLOT_MS, session).pexpire(streamTokenKey(token), SLOT_MS * 2);
  await p.exec();
}

/** The channel's one broadcaster: true when this one got it. */
export async function takeLiveLock(redis: IORedis, channelKey: string, owner: string, ttlMs: number): Promise<boolean> {
  return (await redis.set(channelLiveKey(channelKey), owner, "PX", ttlMs, "NX")) === "OK";
}

export function renewLiveLock(redis: IORedis, channelKey: string, ttlMs: number): Promise<unknown> {
  return redis.pexpire(channelLiveKey(channelKey), ttlMs);
}

export function releaseLiveLock(redis: IORedis, channelKey: string): Promise<unknown> {
  return redis.del(channelLiveKey(channelKey));
}

export function publishLiveAudio(redis: IORedis, channelKey: string, message: string): Promise<unknown> {
  return redis.publish(channelLiveAudio(channelKey), message);
}

/** Calls `on(channelKey, message)` for broadcast audio published by any monitor. */
export async function subscribeLiveAudio(sub: IORedis, on: (channelKey: string, message: string) => void): Promise<void> {
  const prefix = channelLiveAudio("");
  sub.on("pmessage", (_p: string, channel: string, text: string) => on(channel.slice(prefix.length), text));
  await sub.psubscribe(`${QUEUE_PREFIX}:channel-audio:*`);
}
