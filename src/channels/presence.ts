// Who is listening, cluster-wide: each monitor writes its own count per channel with an
// expiry time into one Redis hash per channel; readers add the counts still valid, so a dead
// node's listeners drop out by themselves.
import type IORedis from "ioredis";
import { channelListenersKey } from "../queue/names";

/** A node's count is trusted this long after it was written (monitors rewrite every tick). */
export const PRESENCE_TTL_MS = 15_000;

/** Sum of the counts still valid at `nowMs` (pure: the hash as HGETALL returns it). */
export function sumPresence(hash: Record<string, string>, nowMs: number): number {
  let n = 0;
  for (const v of Object.values(hash)) {
    const [count, until] = v.split("|").map(Number);
    if (until! > nowMs && count! > 0) n += count!;
  }
  return n;
}

export async function readListeners(redis: IORedis, keys: string[], nowMs: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (!keys.length) return out;
  const p = redis.pipeline();
  for (const k of keys) p.hgetall(channelListenersKey(k));
  const res = (await p.exec()) ?? [];
  keys.forEach((k, i) => out.set(k, sumPresence((res[i]?.[1] as Record<string, string> | null) ?? {}, nowMs)));
  return out;
}

export async function writeListeners(redis: IORedis, nodeId: string, counts: Map<string, number>, nowMs: number): Promise<void> {
  if (!counts.size) return;
  const p = redis.pipeline();
  for (const [k, n] of counts) {
    const key = channelListenersKey(k);
    if (n > 0) p.hset(key, nodeId, `${n}|${nowMs + PRESENCE_TTL_MS}`);
    else p.hdel(key, nodeId);
    p.pexpire(key, PRESENCE_TTL_MS * 4);
  }
  await p.exec();
}
