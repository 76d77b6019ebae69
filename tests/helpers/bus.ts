// Real brokers for the bus bridge tests: RabbitMQ and NATS (JetStream) on this machine's
// standard ports. Each test file gets a vhost (RabbitMQ) or a stream/subject prefix (NATS) of
// its own and removes it; a TCP proxy in front of the broker lets a test cut the node's
// connection without touching the shared broker.
import { createServer, connect as tcpConnect, type Socket } from "node:net";
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from "amqplib";
import { connect as natsConnect, createInbox, headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";
import { busNames } from "../../src/bus/names";

export const AMQP_PORT = 5672;
export const NATS_PORT = 4222;
const rand = () => Math.random().toString(36).slice(2, 10);

function rabbitmqctl(...args: string[]): void {
  const r = Bun.spawnSync(["rabbitmqctl", ...args], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`rabbitmqctl ${args.join(" ")}: ${r.stderr.toString()}`);
}

export interface TcpProxy {
  port: number;
  /** Ends every open connection and refuses new ones until resume(). */
  cut(): void;
  resume(): void;
  stop(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let down = false;
  const server = createServer((client) => {
    if (down) return void client.destroy();
    const upstream = tcpConnect(targetPort, "127.0.0.1");
    open.add(client);
    open.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    cut() {
      down = true;
      for (const s of open) s.destroy();
      open.clear();
    },
    resume() {
      down = false;
    },
    async stop() {
      for (const s of open) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** An event as a consumer got it; `receivedAt` (ms) for latency figures. */
export interface BusEvent {
  key: string;
  body: Record<string, unknown>;
  receivedAt: number;
}

/** What the tests read off either bus. */
export interface BusProbe {
  kind: "amqp" | "nats";
  /** MEDIANODE_BUS_URL for a node connecting through `port` (the proxy's). */
  nodeUrl(port: number): string;
  prefix: string;
  /** Once a node has declared the names: starts the readers that need them (NATS). */
  ready(): Promise<void>;
  /** Publishes a job message; the reply (if asked) is collected in replies(). */
  publishJob(body: string, o: { token?: string; messageId?: string; reply?: boolean; correlationId?: string }): Promise<void>;
  /** Every event seen so far (parsed bodies), with the routing key / subject tail they came under. */
  events(): BusEvent[];
  /** Dead-lettered / rejected messages seen so far: their error and what else the bus kept. */
  rejected(): { error: { code: string; message: string }; messageId: string | null; headers: Record<string, unknown> }[];
  replies(): { correlationId: string | null; body: Record<string, unknown> }[];
  /** Job messages still waiting or unacknowledged. */
  backlog(): Promise<number>;
  remove(): Promise<void>;
}

export async function amqpProbe(): Promise<BusProbe> {
  const vhost = `medianode-test-${rand()}`;
  rabbitmqctl("add_vhost", vhost);
  rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*");
  const prefix = "medianode";
  const n = busNames(prefix);
  const url = (port: number) => `amqp://guest:guest@127.0.0.1:${port}/${encodeURIComponent(vhost)}`;
  const conn: ChannelModel = await amqp.connect(url(AMQP_PORT));
  const ch: Channel = await conn.createChannel();
  // The same declarations as the node's (src/bus/amqp.ts), so the order of start does not matter.
  await ch.assertExchange(n.eventsExchange, "topic", { durable: true });
  await ch.assertExchange(n.dlx, "fanout", { durable: true });
  await ch.assertQueue(n.dlq, { durable: true });
  await ch.bindQueue(n.dlq, n.dlx, "");
  await ch.assertQueue(n.jobsQueue, { durable: true, arguments: { "x-dead-letter-exchange": n.dlx } });
  const evq = await ch.assertQueue("", { exclusive: true });
  await ch.bindQueue(evq.queue, n.eventsExchange, "#");
  const events: BusEvent[] = [];
  await ch.consume(evq.queue, (m) => m && events.push({ key: m.fields.routingKey, body: JSON.parse(m.content.toString()), receivedAt: Date.now() }), { noAck: true });
  const rejected: ReturnType<BusProbe["rejected"]> = [];
  await ch.consume(
    n.dlq,
    (m: ConsumeMessage | null) => {
      if (!m) return;
      const headers = (m.properties.headers ?? {}) as Record<string, unknown>;
      rejected.push({ error: JSON.parse(String(headers["x-medianode-error"])), messageId: m.properties.messageId ?? null, headers });
    },
    { noAck: true },
  );
  const replies: ReturnType<BusProbe["replies"]> = [];
  const pub = await conn.createChannel();
  await pub.consume("amq.rabbitmq.reply-to", (m) => m && replies.push({ correlationId: m.properties.correlationId ?? null, body: JSON.parse(m.content.toString()) }), { noAck: true });
  return {
    kind: "amqp",
    nodeUrl: url,
    prefix,
    ready: async () => {},
    async publishJob(body, o) {
      pub.sendToQueue(n.jobsQueue, Buffer.from(body), {
        persistent: true,
        contentType: "application/json",
        ...(o.messageId ? { messageId: o.messageId } : {}),
        ...(o.reply ? { replyTo: "amq.rabbitmq.reply-to" } : {}),
        ...(o.correlationId ? { correlationId: o.correlationId } : {}),
        headers: o.token ? { authorization: `Bearer ${o.token}` } : {},
      });
    },
    events: () => events,
    rejected: () => rejected,
    replies: () => replies,
    async backlog() {
      const c = await conn.createChannel();
      try {
        const q = await c.checkQueue(n.jobsQueue);
        return q.messageCount;
      } finally {
        await c.close().catch(() => {});
      }
    },
    async remove() {
      await conn.close().catch(() => {});
      rabbitmqctl("delete_vhost", vhost);
    },
  };
}

export async function natsProbe(): Promise<BusProbe> {
  const prefix = `mntest${rand()}`;
  const n = busNames(prefix);
  const nc: NatsConnection = await natsConnect({ servers: `127.0.0.1:${NATS_PORT}` });
  const jsm = await jetstreamManager(nc);
  const js: JetStreamClient = jetstream(nc);
  // The node makes the stream; the readers start once it is there.
  const events: BusEvent[] = [];
  const rejected: ReturnType<BusProbe["rejected"]> = [];
  const replies: ReturnType<BusProbe["replies"]> = [];
  const inbox = createInbox();
  const sub = nc.subscribe(inbox, {
    callback: (_e, m) => {
      replies.push({ correlationId: m.headers?.get("correlation-id") || null, body: JSON.parse(m.string()) });
    },
  });
  let readers: { stop(): void }[] = [];
  const startReaders = async () => {
    if (readers.length) return;
    for (let i = 0; i < 200; i++) {
      if (await jsm.streams.info(n.stream).then(() => true, () => false)) break;
      await Bun.sleep(50);
    }
    const read = async (filter: string, onMsg: (subject: string, data: string, h: Record<string, unknown>) => void) => {
      const c = await js.consumers.get(n.stream, { filter_subjects: filter });
      const msgs = await c.consume();
      readers.push({ stop: () => void msgs.stop() });
      void (async () => {
        for await (const m of msgs) {
          const h: Record<string, unknown> = {};
          for (const k of m.headers?.keys() ?? []) h[k] = m.headers!.get(k);
          onMsg(m.subject, m.string(), h);
        }
      })();
    };
    await read(n.eventsWildcard, (subject, data) => events.push({ key: subject.slice(`${prefix}.events.`.length), body: JSON.parse(data), receivedAt: Date.now() }));
    await read(n.rejectedSubject, (_s, data, h) => {
      const b = JSON.parse(data) as { error: { code: string; message: string }; messageId: string | null };
      rejected.push({ error: b.error, messageId: b.messageId, headers: { ...h, body: data } });
    });
  };
  return {
    kind: "nats",
    nodeUrl: (port) => `nats://127.0.0.1:${port}`,
    prefix,
    ready: startReaders,
    async publishJob(body, o) {
      await startReaders();
      const h = natsHeaders();
      if (o.token) h.set("authorization", `Bearer ${o.token}`);
      if (o.reply) h.set("reply-to", inbox);
      if (o.correlationId) h.set("correlation-id", o.correlationId);
      await js.publish(n.submitSubject, body, { headers: h, ...(o.messageId ? { msgID: o.messageId } : {}) });
    },
    events: () => events,
    rejected: () => rejected,
    replies: () => replies,
    async backlog() {
      const c = await jsm.consumers.info(n.stream, n.consumer);
      return c.num_pending + c.num_ack_pending;
    },
    async remove() {
      for (const r of readers) r.stop();
      readers = [];
      sub.unsubscribe();
      await jsm.streams.delete(n.stream).catch(() => false);
      await nc.close();
    },
  };
}

export async function until<T>(what: string, f: () => T | Promise<T>, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}
