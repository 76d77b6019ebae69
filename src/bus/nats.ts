// NATS JetStream transport of the bus bridge (SPEC §13), on the official client
// (@nats-io/transport-node + @nats-io/jetstream). One stream `<PREFIX>` holds the submit
// subject, the rejected subject and every event subject; a durable pull consumer of the
// submit subject is shared by the api nodes (each pulls at most `prefetch` at a time, and a
// message not acknowledged within ack_wait goes to another). The client reconnects by itself
// with jittered waits; the consume loop is started over when it ends.
import { connect, headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import type { ErrorValue } from "../errors";
import type { Logger } from "../log";
import { backoffMs } from "./backoff";
import { busNames } from "./names";
import type { BusStatus, BusTransport, IntakeHandler, IntakeMessage, IntakeSettle, OutMessage } from "./transport";
import type { BusTarget } from "./url";

export const ERROR_HEADER = "x-medianode-error";
/** The reply address of a job message: JetStream takes the message's own reply subject for its PubAck. */
export const REPLY_HEADER = "reply-to";
const NS_PER_MS = 1_000_000;
/** How long the stream keeps job requests and events (limits retention). */
const STREAM_MAX_AGE_MS = 7 * 86_400_000;
const PUBLISH_TIMEOUT_MS = 10_000;

export interface NatsOptions {
  target: BusTarget;
  prefix: string;
  prefetch: number;
  ackWaitSec: number;
  name: string;
  log: Logger;
}

const isApiError = (e: unknown, code: number) => e instanceof JetStreamApiError && e.code === code;

/** Creates the stream and the durable consumer, or brings them to this node's settings. */
export async function declareStream(jsm: JetStreamManager, o: { prefix: string; prefetch: number; ackWaitSec: number }): Promise<void> {
  const n = busNames(o.prefix);
  const subjects = [n.submitSubject, n.rejectedSubject, n.eventsWildcard];
  try {
    const info = await jsm.streams.info(n.stream);
    const missing = subjects.filter((s) => !info.config.subjects?.includes(s));
    if (missing.length) await jsm.streams.update(n.stream, { subjects: [...(info.config.subjects ?? []), ...missing] });
  } catch (e) {
    if (!isApiError(e, JetStreamApiCodes.StreamNotFound)) throw e;
    await jsm.streams.add({ name: n.stream, subjects, retention: RetentionPolicy.Limits, storage: StorageType.File, max_age: STREAM_MAX_AGE_MS * NS_PER_MS, duplicate_window: 120_000 * NS_PER_MS });
  }
  const wanted = {
    durable_name: n.consumer,
    filter_subject: n.submitSubject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: o.ackWaitSec * 1000 * NS_PER_MS,
    // Unlimited deliveries: a message is settled by the intake (acked, or terminated and
    // published as rejected), never given up by the server while Redis is down.
    max_deliver: -1,
    max_ack_pending: Math.max(o.prefetch * 64, 1000),
  };
  try {
    const c = await jsm.consumers.info(n.stream, n.consumer);
    if (c.config.ack_wait !== wanted.ack_wait) await jsm.consumers.update(n.stream, n.consumer, { ack_wait: wanted.ack_wait });
  } catch (e) {
    if (!isApiError(e, JetStreamApiCodes.ConsumerNotFound)) throw e;
    await jsm.consumers.add(n.stream, wanted);
  }
}

export function createNatsTransport(o: NatsOptions): BusTransport {
  const names = busNames(o.prefix);
  let nc: NatsConnection | null = null;
  let js: JetStreamClient | null = null;
  let up = false;
  let stopped = false;
  let lastError = "not connected yet";
  let downSince = Date.now();
  let loop: Promise<void> | null = null;
  let stopConsuming: (() => void) | null = null;
  let wake: (() => void) | null = null;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  const messageOf = (m: JsMsg): IntakeMessage => {
    const h = m.headers;
    return {
      body: m.data,
      authorization: h?.get("authorization") || h?.get("Authorization") || null,
      // Without a Nats-Msg-Id the stream sequence still names this message across redeliveries.
      messageId: h?.get("Nats-Msg-Id") || `seq-${m.seq}`,
      replyTo: h?.get(REPLY_HEADER) || null,
      correlationId: h?.get("correlation-id") || null,
    };
  };

  const settleFor = (m: JsMsg, msg: IntakeMessage): IntakeSettle => {
    let done = false;
    const once = () => (done ? false : (done = true));
    return {
      async ack() {
        // Acked with a confirmation: an ack lost on the way would redeliver (harmless, but slower).
        if (once()) await m.ackAck({ timeout: 5000 }).catch(() => false);
      },
      async requeue(delayMs) {
        if (once()) m.nak(delayMs);
      },
      async deadLetter(error: ErrorValue) {
        if (done) return;
        const client = js;
        if (!client) throw new Error("the bus connection is down");
        const h = natsHeaders();
        h.set(ERROR_HEADER, JSON.stringify({ code: error.code, message: error.message }));
        if (msg.correlationId) h.set("correlation-id", msg.correlationId);
        // The body as text, never the caller's credential.
        const body = { error: { code: error.code, message: error.message }, messageId: msg.messageId, body: new TextDecoder().decode(m.data).slice(0, 64 * 1024) };
        await client.publish(names.rejectedSubject, JSON.stringify(body), { headers: h, msgID: `rejected-${msg.messageId}`, timeout: PUBLISH_TIMEOUT_MS });
        // No reason text: servers before 2.10 do not parse "+TERM <reason>" and keep the
        // message pending (it would come back forever); the reason is on the rejected subject.
        if (once()) m.term();
      },
      async reply(body) {
        if (msg.replyTo && nc) {
          const h = natsHeaders();
          if (msg.correlationId) h.set("correlation-id", msg.correlationId);
          nc.publish(msg.replyTo, JSON.stringify(body), { headers: h });
        }
      },
      working() {
        if (!done) m.working();
      },
    };
  };

  /** Pulls job messages until the consumer ends; at most `prefetch` are being handled at once. */
  const consume = async (client: JetStreamClient, onMessage: IntakeHandler) => {
    const consumer = await client.consumers.get(names.stream, names.consumer);
    const messages = await consumer.consume({ max_messages: o.prefetch });
    stopConsuming = () => void messages.stop();
    let inFlight = 0;
    let slot: (() => void) | null = null;
    for await (const m of messages) {
      if (stopped) break;
      inFlight++;
      const msg = messageOf(m);
      void onMessage(msg, settleFor(m, msg))
        .catch((e) => o.log.error("bus intake failed", { error: e }))
        .finally(() => {
          inFlight--;
          slot?.();
        });
      while (inFlight >= o.prefetch) await new Promise<void>((r) => (slot = r));
    }
  };

  const watchStatus = async (c: NatsConnection) => {
    for await (const s of c.status()) {
      if (s.type === "disconnect") {
        if (up) {
          downSince = Date.now();
          o.log.warn("bus connection lost; reconnecting", { bus: o.target.shown });
        }
        up = false;
        lastError = "disconnected";
      } else if (s.type === "reconnect") {
        up = true;
        o.log.info("bus reconnected", { bus: o.target.shown });
      } else if (s.type === "error") {
        lastError = String((s as { error?: unknown }).error ?? "error");
      }
    }
  };

  const run = async (onMessage: IntakeHandler) => {
    let attempt = 0;
    while (!stopped) {
      try {
        if (!nc || nc.isClosed()) {
          nc = await connect({
            servers: o.target.servers,
            ...(o.target.user ? { user: o.target.user } : {}),
            ...(o.target.pass ? { pass: o.target.pass } : {}),
            name: o.name,
            maxReconnectAttempts: -1,
            reconnectTimeWait: 1000,
            reconnectJitter: 500,
            timeout: 5000,
          });
          void watchStatus(nc);
        }
        const jsm = await jetstreamManager(nc, { timeout: 5000 });
        await declareStream(jsm, o);
        js = jetstream(nc, { timeout: PUBLISH_TIMEOUT_MS });
        up = true;
        attempt = 0;
        o.log.info("bus connected", { bus: o.target.shown, stream: names.stream, consumer: names.consumer, prefetch: o.prefetch });
        await consume(js, onMessage);
      } catch (e) {
        lastError = (e as Error).message;
      }
      if (stopped) break;
      if (!nc || nc.isClosed()) {
        if (up) downSince = Date.now();
        up = false;
      }
      await sleep(backoffMs(attempt++, Math.random()));
    }
  };

  return {
    kind: "nats",
    start(onMessage) {
      loop ??= run(onMessage);
    },
    async publish(m: OutMessage) {
      const client = js;
      if (!client || !up) throw new Error("the bus connection is down");
      await client.publish(names.eventSubject(m.key), m.body, { msgID: m.id, timeout: PUBLISH_TIMEOUT_MS });
    },
    connected: () => up,
    status(): BusStatus {
      return up ? { ok: true, detail: `${o.target.shown} connected (stream ${names.stream})` } : { ok: false, detail: `${o.target.shown} unreachable since ${new Date(downSince).toISOString()}: ${lastError}` };
    },
    async stop() {
      stopped = true;
      stopConsuming?.();
      wake?.();
      await nc?.close().catch(() => {});
      await loop;
    },
  };
}

/** `medianode doctor`: can this node reach NATS, with JetStream, and declare the stream? */
export async function checkNats(target: BusTarget, o: { prefix: string; prefetch: number; ackWaitSec: number }): Promise<string> {
  const nc = await connect({ servers: target.servers, ...(target.user ? { user: target.user } : {}), ...(target.pass ? { pass: target.pass } : {}), timeout: 5000, maxReconnectAttempts: 0 });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 5000 });
    await declareStream(jsm, o);
    const n = busNames(o.prefix);
    const c = await jsm.consumers.info(n.stream, n.consumer);
    return `${target.shown}: NATS ${nc.info?.version ?? ""} with JetStream, stream ${n.stream}, ${c.num_pending} job messages waiting`;
  } finally {
    await nc.close().catch(() => {});
  }
}
