// What a bus transport (amqp.ts, nats.ts) offers the bridge: a job intake that hands each
// message over with the means to settle it, and confirmed publishing. Both connect in the
// background and reconnect with backoff: an unreachable bus never fails the node's start.
import type { ErrorValue } from "../errors";

/** One job request as it came off the bus. */
export interface IntakeMessage {
  body: Uint8Array;
  /** The `authorization` header (`Bearer <token or JWT>`), or null. */
  authorization: string | null;
  /** AMQP message_id / NATS Nats-Msg-Id: the job's idempotency key. */
  messageId: string | null;
  /** Where the job (or the error) is sent back: AMQP reply_to, NATS `reply-to` header. */
  replyTo: string | null;
  correlationId: string | null;
}

/** How the intake settles one message; each is called at most once per message. */
export interface IntakeSettle {
  /** The job is recorded: the message is done. */
  ack(): Promise<void>;
  /** Not now (Redis down, store busy): delivered again after about `delayMs`, never dropped. */
  requeue(delayMs: number): Promise<void>;
  /** It can never become a job: to the dead-letter queue / rejected subject with its error. */
  deadLetter(error: ErrorValue): Promise<void>;
  /** Sends `body` to the message's reply address (no-op without one). */
  reply(body: unknown): Promise<void>;
  /** Still being worked on: the broker should not redeliver it yet (NATS ack_wait). */
  working(): void;
}

export type IntakeHandler = (m: IntakeMessage, settle: IntakeSettle) => Promise<void>;

/** One event to publish under one routing key. */
export interface OutMessage {
  /** Stable across retries: AMQP message_id, NATS Nats-Msg-Id (JetStream drops a duplicate). */
  id: string;
  key: string;
  body: Uint8Array;
}

export interface BusStatus {
  ok: boolean;
  detail: string;
}

export interface BusTransport {
  readonly kind: "amqp" | "nats";
  /** Connects (and keeps reconnecting) in the background; `onMessage` gets the job requests. */
  start(onMessage: IntakeHandler): void;
  /** Resolves once the broker confirmed it (publisher confirm / JetStream ack); rejects otherwise. */
  publish(m: OutMessage): Promise<void>;
  connected(): boolean;
  status(): BusStatus;
  stop(): Promise<void>;
}
