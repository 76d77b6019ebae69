import { JOB_TYPES, type JobType } from "../jobs/schema";

/** Every Redis key BullMQ writes starts with this. */
export const QUEUE_PREFIX = "medianode";

/** Between a job type and its requirement in a queue name; no capability contains it (CAPABILITY_PATTERN). */
const REQUIRE_SEP = "@";

/**
 * The one place a queue is named. One BullMQ queue per job kind, so each kind has its own
 * concurrency and can be paused alone; a job with `options.require` goes to its kind's
 * queue for that requirement set (`jobs-video@gpu,libsvtav1`), which only nodes having
 * every capability consume. Order and repeats in `require` do not matter.
 */
export function queueName(type: JobType, require: readonly string[] = []): string {
  if (require.length === 0) return `jobs-${type}`;
  return `jobs-${type}${REQUIRE_SEP}${[...new Set(require)].sort().join(",")}`;
}

/** The inverse of queueName; null for a name it did not make. */
export function parseQueueName(name: string): { type: JobType; require: string[] } | null {
  const m = /^jobs-([a-z]+)(?:@([a-z0-9_,-]+))?$/.exec(name);
  const type = JOB_TYPES.find((t) => t === m?.[1]);
  if (!m || !type) return null;
  const require = m[2] ? m[2].split(",") : [];
  if (require.some((c) => c === "") || queueName(type, require) !== name) return null;
  return { type, require };
}

/**
 * Redis set of every requirement queue ever submitted to (members are queue names): workers
 * and the api role read it to find the queues they must consume or watch.
 */
export const REQUIREMENT_QUEUES_KEY = `${QUEUE_PREFIX}:requirement-queues`;
/** Hash: requirement queue name → when a job was last submitted to it (ms), to find unused ones. */
export const REQUIREMENT_USED_KEY = `${QUEUE_PREFIX}:requirement-queues:used`;
/** Sorted set per tenant: the requirement queues it uses, scored by last use (ms). */
export const requirementTenantKey = (tenant: string) => `${QUEUE_PREFIX}:requirement-queues:tenant:${tenant}`;
/** Pub/sub hint sent when a requirement queue is added to the set, so nobody waits for the next re-read. */
export const REQUIREMENT_QUEUES_CHANNEL = `${QUEUE_PREFIX}:requirement-queues`;

/** Redis pub/sub channel for control messages (cancel) between api and workers. */
export const CONTROL_CHANNEL = `${QUEUE_PREFIX}:control`;

/**
 * Redis pub/sub channel of every job and queue event the api role records: monitor nodes
 * (the WebSocket stream) read it, whichever host they run on (SPEC §1, §11).
 */
export const EVENTS_CHANNEL = `${QUEUE_PREFIX}:events`;

/**
 * Live audio channels (SPEC §12). A Redis hash of every channel's record and clock (field
 * `<tenant>/<name>`), so every monitor node computes the same position; the pub/sub channel of
 * the same name says which field changed.
 */
export const CHANNELS_KEY = `${QUEUE_PREFIX}:channels`;
export const CHANNELS_CHANNEL = `${QUEUE_PREFIX}:channels`;
/** Per channel: monitor node → its listener count and until when that holds. */
export const channelListenersKey = (channelKey: string) => `${QUEUE_PREFIX}:channel-listeners:${channelKey}`;
/** What monitors (which never write the records) hand to the api role: listener sessions, clock changes. */
export const CHANNEL_REPORTS_KEY = `${QUEUE_PREFIX}:channel-reports`;
/** Per token: stream sessions open on any monitor (sorted set, score = until when it holds). */
export const streamTokenKey = (tokenKey: string) => `${QUEUE_PREFIX}:stream-token:${tokenKey}`;
/** The one broadcaster of a channel (SET NX with a TTL its monitor renews). */
export const channelLiveKey = (channelKey: string) => `${QUEUE_PREFIX}:channel-live:${channelKey}`;
/** Pub/sub of a broadcast's audio, from the broadcaster's monitor to every other one. */
export const channelLiveAudio = (channelKey: string) => `${QUEUE_PREFIX}:channel-audio:${channelKey}`;
