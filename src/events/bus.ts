// The api role's in-process event bus: the recorder (what workers report through Redis)
// and the job services (queued, cancelled) emit; the WebSocket hub and webhooks listen.
import type { EventListener, MedianodeEvent } from "./types";
import type { Logger } from "../log";

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
