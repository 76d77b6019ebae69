// Publishes events on the bus (SPEC §13): each event under its type (and media.ready for a
// completion), with the tenant it belongs to. Only events this node emits come here, and each
// event is emitted on exactly one api node (services/duties.ts: a transition changes its row
// once; progress, positions, pauses and node changes are announced by the duties' holder), so
// the cluster publishes each once. Publishing waits for the broker's confirm; what fails (or
// arrives while the bus is down) is kept, in order, and retried with backoff under the same
// message id (JetStream drops a duplicate of it; AMQP consumers can).
import type { EventBus } from "../events/bus";
import type { MedianodeEvent } from "../events/types";
import type { Logger } from "../log";
import { backoffMs } from "./backoff";
import { eventKeys } from "./names";
import type { BusTransport, OutMessage } from "./transport";

/** Events kept while the bus is down; beyond, the oldest are dropped (and counted in the log). */
export const MAX_QUEUED = 100_000;
const BATCH = 256;

/** The messages of one event (pure): its body with `tenant`, once per routing key. */
export function eventMessages(e: MedianodeEvent, tenant: string | null, id: string): OutMessage[] {
  const body = new TextEncoder().encode(JSON.stringify({ ...e, tenant }));
  return eventKeys(e.type).map((key, i) => ({ id: i === 0 ? id : `${id}.${key}`, key, body }));
}

export interface EventPublisher {
  publish(e: MedianodeEvent, tenant: string | null): void;
  /** Messages not yet confirmed (waiting or in flight). */
  pending(): number;
  /** Tries to publish what is left for up to `ms`, then stops. */
  stop(ms?: number): Promise<void>;
}

export function startEventPublisher(deps: { transport: BusTransport; log: Logger; nodeId: string; maxQueued?: number }): EventPublisher {
  const max = deps.maxQueued ?? MAX_QUEUED;
  let queue: OutMessage[] = [];
  let seq = 0;
  let running: Promise<void> | null = null;
  let stopped = false;
  let dropped = 0;
  let inFlight = 0;
  const drain = async () => {
    let failures = 0;
    while (queue.length && !stopped) {
      if (!deps.transport.connected()) {
        await Bun.sleep(100);
        continue;
      }
      const batch = queue.splice(0, BATCH);
      inFlight = batch.length;
      const results = await Promise.allSettled(batch.map((m) => deps.transport.publish(m)));
      inFlight = 0;
      const failed = batch.filter((_, i) => results[i]!.status === "rejected");
      if (!failed.length) {
        if (failures) deps.log.info("bus events published again", { after: failures });
        failures = 0;
        continue;
      }
      queue = [...failed, ...queue];
      if (failures++ === 0) deps.log.warn("bus events not confirmed; retrying", { count: failed.length, error: (results.find((r) => r.status === "rejected") as PromiseRejectedResult).reason });
      await Bun.sleep(backoffMs(failures, Math.random(), 100, 5000));
    }
  };
  const kick = () => {
    running ??= drain().finally(() => {
      running = null;
      if (queue.length && !stopped) kick();
    });
  };
  return {
    publish(e, tenant) {
      if (stopped) return;
      queue.push(...eventMessages(e, tenant, `${deps.nodeId}-${++seq}`));
      if (queue.length > max) {
        const over = queue.length - max;
        queue.splice(0, over);
        dropped += over;
        deps.log.error("bus down too long: oldest events dropped", { dropped, kept: max });
      }
      kick();
    },
    pending: () => queue.length + inFlight,
    async stop(ms = 2000) {
      const until = Date.now() + ms;
      while (queue.length + inFlight && deps.transport.connected() && Date.now() < until) await Bun.sleep(20);
      stopped = true;
      await running;
      if (queue.length) deps.log.warn("bus events left unpublished at stop", { count: queue.length });
    },
  };
}

/** Publishes every event of `bus` (`when` false: skipped, e.g. node events off the duties holder). */
export function publishFrom(bus: EventBus, publisher: EventPublisher, when: () => boolean = () => true): () => void {
  return bus.on((e, tenant) => {
    if (when()) publisher.publish(e, tenant);
  });
}
