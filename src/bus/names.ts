// Every bus name of SPEC §13, built from MEDIANODE_BUS_PREFIX in one place (pure).
import type { EventType } from "../events/types";

/** Published besides job.completed, for consumers that know the media processor's name. */
export const MEDIA_READY = "media.ready";

export interface BusNames {
  /** AMQP: the durable intake queue. */
  jobsQueue: string;
  /** AMQP: the dead-letter exchange and its queue. */
  dlx: string;
  dlq: string;
  /** AMQP: the topic exchange events go to (routing key = event type). */
  eventsExchange: string;
  /** NATS: the JetStream stream (the prefix in upper case) and its subjects. */
  stream: string;
  submitSubject: string;
  rejectedSubject: string;
  /** NATS: `<prefix>.events.>`: every event subject. */
  eventsWildcard: string;
  /** NATS: the durable pull consumer of the submit subject (no dots allowed in its name). */
  consumer: string;
  /** NATS: the subject of one event routing key. */
  eventSubject(key: string): string;
}

export function busNames(prefix: string): BusNames {
  return {
    jobsQueue: `${prefix}.jobs`,
    dlx: `${prefix}.dlx`,
    dlq: `${prefix}.dlq`,
    eventsExchange: `${prefix}.events`,
    stream: prefix.toUpperCase(),
    submitSubject: `${prefix}.jobs.submit`,
    rejectedSubject: `${prefix}.jobs.rejected`,
    eventsWildcard: `${prefix}.events.>`,
    consumer: `${prefix}-jobs`,
    eventSubject: (key) => `${prefix}.events.${key}`,
  };
}

/** The routing keys (AMQP) / subject tails (NATS) one event is published under: its type, and media.ready for a completion. */
export function eventKeys(type: EventType): string[] {
  return type === "job.completed" ? [type, MEDIA_READY] : [type];
}
