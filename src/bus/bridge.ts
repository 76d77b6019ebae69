// The message-bus bridge of an api node (SPEC §13): the transport MEDIANODE_BUS_URL names,
// the intake on it, and the event publisher. Started by roles/api.ts; never fails the
// node's start for an unreachable bus (the HTTP API carries on; /readyz says so).
import type { Config } from "../config/schema";
import type { EventBus } from "../events/bus";
import type { Logger } from "../log";
import { checkAmqp, createAmqpTransport } from "./amqp";
import { createIntake, type SubmitMessage } from "./intake";
import { checkNats, createNatsTransport } from "./nats";
import { publishFrom, startEventPublisher, type EventPublisher } from "./publisher";
import type { BusStatus, BusTransport } from "./transport";
import { parseBusUrl } from "./url";

export interface BusBridge {
  status(): BusStatus;
  publisher: EventPublisher;
  stop(): Promise<void>;
}

type BusConfig = Pick<Config, "busUrl" | "busPrefix" | "busPrefetch" | "busAckWaitSec" | "busAckDelayMs">;

export function createTransport(config: BusConfig & { busUrl: string }, o: { name: string; log: Logger }): BusTransport {
  const target = parseBusUrl(config.busUrl);
  const common = { target, prefix: config.busPrefix, prefetch: config.busPrefetch, name: o.name, log: o.log };
  return target.kind === "amqp" ? createAmqpTransport(common) : createNatsTransport({ ...common, ackWaitSec: config.busAckWaitSec });
}

export interface BridgeDeps {
  config: BusConfig & { busUrl: string };
  log: Logger;
  nodeId: string;
  /** The api role's events: each emitted on one api node only, so all of them are published. */
  events: EventBus;
  /** node.online/offline as this node sees them (every node sees each): published by the duties' holder only. */
  nodeEvents?: EventBus;
  leading(): boolean;
  submit: SubmitMessage;
}

export function startBusBridge(deps: BridgeDeps): BusBridge {
  const log = deps.log.child({ component: "bus" });
  const transport = createTransport(deps.config, { name: `medianode-${deps.nodeId}`, log });
  const publisher = startEventPublisher({ transport, log, nodeId: deps.nodeId });
  const offs = [publishFrom(deps.events, publisher)];
  if (deps.nodeEvents) offs.push(publishFrom(deps.nodeEvents, publisher, deps.leading));
  transport.start(createIntake({ submit: deps.submit, log, ackDelayMs: deps.config.busAckDelayMs, workingEveryMs: Math.max(500, (deps.config.busAckWaitSec * 1000) / 3) }));
  return {
    status: () => transport.status(),
    publisher,
    async stop() {
      for (const off of offs) off();
      await publisher.stop();
      await transport.stop();
    },
  };
}

/** `medianode doctor`'s bus line: reaches the broker and declares the names, or throws why not. */
export async function checkBus(config: BusConfig & { busUrl: string }): Promise<string> {
  const target = parseBusUrl(config.busUrl);
  return target.kind === "amqp" ? await checkAmqp(target, config.busPrefix) : await checkNats(target, { prefix: config.busPrefix, prefetch: config.busPrefetch, ackWaitSec: config.busAckWaitSec });
}
