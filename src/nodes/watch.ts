// monitor role: node.online / node.offline events from announcements, and from adverts that
// expired without a goodbye (a node that was killed).
import { onChannelMessage, subscribeWhenReady } from "../queue/connection";
import type IORedis from "ioredis";
import type { EventBus } from "../events/bus";
import { NODE_EVENTS_CHANNEL, HEARTBEAT_MS } from "./advert";
import { listNodes } from "./heartbeat";
import { Type as T } from "@sinclair/typebox";

const Announcement = T.Object({ kind: T.Union([T.Literal("online"), T.Literal("offline")]), node: T.Object({ id: T.String() }, { additionalProperties: true }) });

export async function watchNodes(sub: IORedis, redis: IORedis, bus: EventBus): Promise<{ stop(): void }> {
  let known = new Set((await listNodes(redis).catch(() => [])).map((n) => n.id));
  const emit = (type: "node.online" | "node.offline", node: unknown, id: string) =>
    bus.emit({ type, node: id, at: new Date().toISOString(), data: node }, null);
  await subscribeWhenReady(sub, NODE_EVENTS_CHANNEL);
  onChannelMessage(sub, NODE_EVENTS_CHANNEL, Announcement, (m) => {
    if (m.kind === "online") known.add(m.node.id);
    else known.delete(m.node.id);
    emit(m.kind === "online" ? "node.online" : "node.offline", m.node, m.node.id);
  });
  const timer = setInterval(async () => {
    try {
      const now = new Set((await listNodes(redis)).map((n) => n.id));
      for (const id of known) if (!now.has(id)) emit("node.offline", { id, reason: "heartbeat expired" }, id);
      known = now;
    } catch {
      // Redis down: nothing to compare now
    }
  }, HEARTBEAT_MS);
  return {
    stop() {
      clearInterval(timer);
      sub.disconnect();
    },
  };
}
