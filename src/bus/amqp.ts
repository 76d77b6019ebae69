// RabbitMQ (AMQP 0-9-1, amqplib) transport of the bus bridge (SPEC §13). It declares the
// durable queue `<p>.jobs` (dead-lettering to `<p>.dlx` → `<p>.dlq`) and the topic exchange
// `<p>.events`, consumes with a bounded prefetch and publishes on a confirm channel. A lost
// connection is reopened with backoff; the broker hands the unacknowledged job messages of
// the lost one to another consumer (or to this one again), and the message id makes that
// redelivery harmless.
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type Options } from "amqplib";
import type { ErrorValue } from "../errors";
import type { Logger } from "../log";
import { backoffMs } from "./backoff";
import { busNames } from "./names";
import type { BusStatus, BusTransport, IntakeHandler, IntakeMessage, IntakeSettle, OutMessage } from "./transport";
import type { BusTarget } from "./url";

export const ERROR_HEADER = "x-medianode-error";
const CONFIRM_TIMEOUT_MS = 10_000;

export interface AmqpOptions {
  target: BusTarget;
  prefix: string;
  prefetch: number;
  /** Names the connection in the broker's list (rabbitmqctl list_connections client_properties). */
  name: string;
  log: Logger;
}

/** A header value as amqplib decodes it (string, or a Buffer for some brokers' long strings). */
function headerText(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (Buffer.isBuffer(v)) return v.toString("utf8");
  return null;
}

/** Declares what SPEC §13 names; the same on every node, so any node may come first. */
export async function declareTopology(ch: Channel, prefix: string): Promise<void> {
  const n = busNames(prefix);
  await ch.assertExchange(n.dlx, "fanout", { durable: true });
  await ch.assertQueue(n.dlq, { durable: true });
  await ch.bindQueue(n.dlq, n.dlx, "");
  await ch.assertQueue(n.jobsQueue, { durable: true, arguments: { "x-dead-letter-exchange": n.dlx } });
  await ch.assertExchange(n.eventsExchange, "topic", { durable: true });
}

/** Publishes on a confirm channel and waits for the broker's confirm (or fails after a while). */
function confirmed(ch: ConfirmChannel, exchange: string, key: string, body: Buffer, opts: Options.Publish): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no publisher confirm within ${CONFIRM_TIMEOUT_MS} ms`)), CONFIRM_TIMEOUT_MS);
    try {
      ch.publish(exchange, key, body, opts, (err) => {
        clearTimeout(timer);
        if (err) reject(err instanceof Error ? err : new Error("publish nacked by the broker"));
        else resolve();
      });
    } catch (e) {
      clearTimeout(timer);
      reject(e as Error);
    }
  });
}

export function createAmqpTransport(o: AmqpOptions): BusTransport {
  const names = busNames(o.prefix);
  let conn: ChannelModel | null = null;
  let pub: ConfirmChannel | null = null;
  let up = false;
  let stopped = false;
  let lastError = "not connected yet";
  let downSince = Date.now();
  let loop: Promise<void> | null = null;
  let wake: (() => void) | null = null;

  const settleFor = (ch: Channel, msg: ConsumeMessage): IntakeSettle => {
    let done = false;
    const once = () => {
      if (done) return false;
      done = true;
      return true;
    };
    const p = msg.properties;
    return {
      async ack() {
        if (!once()) return;
        try {
          ch.ack(msg);
        } catch {
          // The channel closed first (stopping, or the connection broke): the broker requeues
          // the message, and its redelivery answers with the job already recorded.
        }
      },
      async requeue(delayMs) {
        if (!once()) return;
        // Held, then handed back: an immediate requeue would come straight back to this
        // consumer and spin while Redis is down; held messages fill the prefetch window, so
        // intake pauses by itself (back-pressure).
        await Bun.sleep(delayMs);
        try {
          ch.nack(msg, false, true);
        } catch {
          // The channel closed meanwhile: the broker has requeued the message already.
        }
      },
      async deadLetter(error: ErrorValue) {
        if (done) return;
        const target = pub;
        if (!target) throw new Error("the bus connection is down");
        // The caller's credential never lands in the dead-letter queue.
        const { authorization: _, ...headers } = (p.headers ?? {}) as Record<string, unknown>;
        await confirmed(target, names.dlx, names.jobsQueue, msg.content, {
          persistent: true,
          contentType: p.contentType,
          messageId: p.messageId,
          correlationId: p.correlationId,
          headers: { ...headers, [ERROR_HEADER]: JSON.stringify({ code: error.code, message: error.message }) },
        });
        if (once()) ch.ack(msg);
      },
      async reply(body) {
        const to = p.replyTo as string | undefined;
        const target = pub;
        if (!to || !target) return;
        await confirmed(target, "", to, Buffer.from(JSON.stringify(body)), { contentType: "application/json", correlationId: p.correlationId });
      },
      working() {
        // AMQP has no ack deadline: a message stays with this consumer while its connection lives.
      },
    };
  };

  const messageOf = (msg: ConsumeMessage): IntakeMessage => {
    const p = msg.properties;
    const h = (p.headers ?? {}) as Record<string, unknown>;
    return {
      body: msg.content,
      authorization: headerText(h.authorization ?? h.Authorization),
      messageId: typeof p.messageId === "string" && p.messageId ? p.messageId : null,
      replyTo: typeof p.replyTo === "string" && p.replyTo ? p.replyTo : null,
      correlationId: typeof p.correlationId === "string" ? p.correlationId : null,
    };
  };

  const session = async (onMessage: IntakeHandler) => {
    const c = await amqp.connect(o.target.url, { clientProperties: { connection_name: o.name }, timeout: 5000 });
    conn = c;
    const closed = new Promise<void>((resolve) => {
      c.on("close", (err?: Error) => {
        if (err) lastError = err.message;
        resolve();
      });
      wake = resolve;
    });
    c.on("error", (e: Error) => (lastError = e.message));
    // Any channel error (a declaration that disagrees with the broker's) ends the session:
    // the next one starts clean after a backoff.
    const endOnChannelClose = (ch: Channel) => {
      ch.on("error", (e: Error) => (lastError = e.message));
      ch.on("close", () => void c.close().catch(() => {}));
    };
    const setup = await c.createChannel();
    endOnChannelClose(setup);
    await declareTopology(setup, o.prefix);
    const p = await c.createConfirmChannel();
    endOnChannelClose(p);
    const sub = await c.createChannel();
    endOnChannelClose(sub);
    await sub.prefetch(o.prefetch);
    await sub.consume(
      names.jobsQueue,
      (msg) => {
        // null: the broker cancelled the consumer (the queue was deleted): start over, redeclaring it.
        if (!msg) return void c.close().catch(() => {});
        void onMessage(messageOf(msg), settleFor(sub, msg)).catch((e) => o.log.error("bus intake failed", { error: e }));
      },
      { noAck: false },
    );
    pub = p;
    up = true;
    o.log.info("bus connected", { bus: o.target.shown, queue: names.jobsQueue, prefetch: o.prefetch });
    await closed;
  };

  const run = async (onMessage: IntakeHandler) => {
    let attempt = 0;
    while (!stopped) {
      const startedAt = Date.now();
      try {
        await session(onMessage);
      } catch (e) {
        lastError = (e as Error).message;
      }
      const wasUp = up;
      up = false;
      pub = null;
      const c = conn;
      conn = null;
      await c?.close().catch(() => {});
      if (stopped) break;
      if (wasUp) {
        downSince = Date.now();
        o.log.warn("bus connection lost; reconnecting", { bus: o.target.shown, error: lastError });
      }
      // A session that lasted a while starts the backoff over.
      attempt = Date.now() - startedAt > 30_000 ? 0 : attempt + 1;
      const delay = backoffMs(attempt, Math.random());
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  };

  return {
    kind: "amqp",
    start(onMessage) {
      loop ??= run(onMessage);
    },
    async publish(m: OutMessage) {
      const target = pub;
      if (!target || !up) throw new Error("the bus connection is down");
      await confirmed(target, names.eventsExchange, m.key, Buffer.from(m.body), { persistent: true, contentType: "application/json", messageId: m.id });
    },
    connected: () => up,
    status(): BusStatus {
      return up ? { ok: true, detail: `${o.target.shown} connected` } : { ok: false, detail: `${o.target.shown} unreachable since ${new Date(downSince).toISOString()}: ${lastError}` };
    },
    async stop() {
      stopped = true;
      await conn?.close().catch(() => {});
      wake?.();
      await loop;
    },
  };
}

/** `medianode doctor`: can this node reach the broker and declare the names? */
export async function checkAmqp(target: BusTarget, prefix: string): Promise<string> {
  const c = await amqp.connect(target.url, { timeout: 5000 });
  try {
    const ch = await c.createChannel();
    await declareTopology(ch, prefix);
    const q = await ch.checkQueue(busNames(prefix).jobsQueue);
    const dlq = await ch.checkQueue(busNames(prefix).dlq);
    return `${target.shown}: RabbitMQ ${String(c.connection.serverProperties.version ?? "")}, ${q.queue} ${q.messageCount} waiting, ${dlq.queue} ${dlq.messageCount} dead-lettered`;
  } finally {
    await c.close().catch(() => {});
  }
}
