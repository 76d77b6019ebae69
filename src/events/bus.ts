// The event bus. In-process: the recorder (what workers report through Redis) and the job
// services (queued, cancelled) emit; webhooks listen. Across processes: the api role relays
// every event to one Redis channel (relayEvents) and each monitor reads it (readEvents), so a
// monitor on another host streams every node's jobs (SPEC §1).
import { Type as T } from "@sinclair/typebox";
import type IORedis from "ioredis";
import { MedianodeEvent, type EventListener } from "./types";
import type { Logger } from "../log";
import { onChannelMessage, subscribeWhenReady } from "../queue/connection";
import { EVENTS_CHANNEL } from "../queue/names";

export interface EventBus {
  /** `tenant` null: an event for everyone (node.*, queue.*). */
  emit(e: MedianodeEvent, tenant: string | null): void;
  on(l: EventListener): () => void;
}

export function createEventBus(log: Logger): EventBus {
  const listeners = new Set<EventListener>();
  return {
    emit(e, tenant) {
      for (const l of listeners) {
        try {
          l(e, tenant);
        } catch (err) {
          log.error("event listener failed", { type: e.type, error: err });
        }
      }
    },
    on(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
}

/** An event and whose it is (null: everyone's). */
export const RelayedEvent = T.Object({ tenant: T.Union([T.String(), T.Null()]), event: MedianodeEvent });
/** One message on EVENTS_CHANNEL: the events of one turn of the event loop, in order. */
export const RelayedEvents = T.Array(RelayedEvent);

/**
 * Publishes every event of `bus` on EVENTS_CHANNEL, the events of one event-loop turn in one
 * message (a group commit of 200 submissions is one PUBLISH, not 200). `redis` is a connection
 * that queues while Redis reconnects: a monitor a little late beats one that never hears of a
 * job's end.
 */
export function relayEvents(bus: EventBus, redis: IORedis, log: Logger): () => void {
  let pending: { tenant: string | null; event: MedianodeEvent }[] = [];
  const flush = () => {
    const batch = pending;
    pending = [];
    redis.publish(EVENTS_CHANNEL, JSON.stringify(batch)).catch((e) => log.warn("events not relayed", { count: batch.length, error: e }));
  };
  return bus.on((event, tenant) => {
    if (pending.length === 0) setImmediate(flush);
    pending.push({ tenant, event });
  });
}

/** Feeds every relayed event into `bus`. `sub` is a connection of its own (subscriber mode). */
export async function readEvents(sub: IORedis, bus: EventBus): Promise<{ stop(): void }> {
  onChannelMessage(sub, EVENTS_CHANNEL, RelayedEvents, (m) => {
    for (const r of m) bus.emit(r.event as MedianodeEvent, r.tenant);
  });
  await subscribeWhenReady(sub, EVENTS_CHANNEL);
  return { stop: () => sub.disconnect() };
}
