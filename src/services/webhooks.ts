// Webhooks (SPEC §4): subscriptions per tenant plus a job's own `webhook` URL; terminal
// events only; signed; delivered from their own queue (queue/deliveries.ts) with exponential
// backoff over 24 h; a circuit breaker per subscription (per tenant and URL for a job's own
// webhook); every attempt logged in the records. The HTTP attempt itself is events/webhooks/deliver.ts.
// The same queue, log, backoff and breakers carry the email and Web Push channels
// (services/notifications.ts, issue #18).
import { randomBytes } from "node:crypto";
import { Type as T, type Static } from "@sinclair/typebox";
import { DelayedError, UnrecoverableError, type Job } from "bullmq";
import { InvalidOptionsError, NotFoundError } from "../errors";
import { EVENT_TYPES, TERMINAL_EVENTS, type EventType, type MedianodeEvent } from "../events/types";
import { postDelivery } from "../events/webhooks/deliver";
import { jwtWebhookSecret } from "../events/webhooks/sign";
import { CHANNELS } from "../events/notifications/schema";
import { attemptsFor24h, breakerAfterFailure, breakerAfterSuccess, breakerKey, breakerOpen, DAY_MS } from "../events/webhooks/policy";
import type { SendOutcome } from "../events/notifications/outcome";
import { newTokenId } from "../ids";
import { createRedis } from "../queue/connection";
import { createDeliveryQueue, type DeliveryJob } from "../queue/deliveries";
import { checkUrl, type UrlPolicy } from "../sources/url";
import type { DeliveryRow, NewDelivery, WebhookRow } from "../store/records";
import { audit } from "./audit";
import { signingSecret } from "./signing-secrets";
import { isAdmin, type Principal, type ServiceDeps } from "./deps";
import { createNotificationSenders, notificationDeliveries, type SenderOptions } from "./notifications";

const DELIVERY_TIMEOUT_MS = 10_000;
/** First pause of a tripped breaker; it doubles while the endpoint keeps failing (max 1 h). */
const BREAKER_COOLDOWN_MS = 30_000;
/** Pending deliveries re-queued at start, at most (the oldest first, within the 24 h window). */
const REQUEUE_MAX = 10_000;

const newId = (prefix: string) => prefix + newTokenId().slice(2);

function policy(deps: ServiceDeps): UrlPolicy {
  return { allowlist: deps.config.urlAllowlist, maxBytes: 1024 * 1024, timeoutMs: DELIVERY_TIMEOUT_MS, maxRedirects: 0 };
}

/** A subscription as the API shows it (never its secret). */
export const WebhookView = T.Object({
  id: T.String(),
  url: T.String(),
  events: T.Array(T.Union(EVENT_TYPES.map((e) => T.Literal(e)))),
  createdAt: T.String({ format: "date-time" }),
  state: T.Union([T.Literal("active"), T.Literal("paused")], { description: "paused: the circuit breaker is open after repeated failures" }),
  consecutiveFailures: T.Integer(),
});
export type WebhookView = Static<typeof WebhookView>;
/** The answer to a subscription: the view and, once, its secret. */
export const WebhookCreated = T.Composite([WebhookView, T.Object({ secret: T.String({ description: "HMAC secret: shown only here" }) })]);

/** One delivery of any channel (webhook, email, webpush) with its attempts: the one delivery log. */
export const DeliveryView = T.Object({
  id: T.String(),
  channel: T.Union(CHANNELS.map((c) => T.Literal(c))),
  event: T.String(),
  jobId: T.Union([T.String(), T.Null()]),
  state: T.Union([T.Literal("pending"), T.Literal("delivered"), T.Literal("failed")]),
  attempts: T.Array(T.Object({ attempt: T.Integer(), at: T.String({ format: "date-time" }), status: T.Union([T.Integer(), T.Null()]), error: T.Union([T.String(), T.Null()]), durationMs: T.Number() })),
  createdAt: T.String({ format: "date-time" }),
});
export type DeliveryView = Static<typeof DeliveryView>;

export function webhookView(w: WebhookRow, breaker: { open_until: number | null; consecutive_failures: number } | null): WebhookView {
  return {
    id: w.id,
    url: w.url,
    events: JSON.parse(w.events) as EventType[],
    createdAt: new Date(w.created_at).toISOString(),
    state: breaker?.open_until && breaker.open_until > Date.now() ? ("paused" as const) : ("active" as const),
    consecutiveFailures: breaker?.consecutive_failures ?? 0,
  };
}

/** A subscription's events: terminal ones only, all three when none are named (every channel). */
export function checkEvents(input: string[] | undefined): EventType[] {
  const events = input?.length ? input : [...TERMINAL_EVENTS];
  for (const e of events) {
    if (!(EVENT_TYPES as readonly string[]).includes(e)) throw new InvalidOptionsError(`unknown event "${e}"`);
    if (!TERMINAL_EVENTS.has(e as EventType)) throw new InvalidOptionsError(`notifications carry terminal events only (${[...TERMINAL_EVENTS].join(", ")}), not ${e}`);
  }
  return [...new Set(events)] as EventType[];
}

export async function createWebhook(deps: ServiceDeps, who: Principal, input: { url: string; events?: string[]; secret?: string }) {
  const events = checkEvents(input.events);
  await checkUrl(input.url, policy(deps));
  const secret = input.secret ?? randomBytes(24).toString("base64url");
  const row: WebhookRow = { id: newId("w_"), tenant: who.tenant, url: input.url, events: JSON.stringify(events), secret, created_at: deps.now() };
  await deps.records.webhooks.insert(row);
  await audit(deps, who, "webhook.create", row.id, { url: row.url, events });
  return { ...webhookView(row, null), secret };
}

export async function visibleWebhook(deps: ServiceDeps, who: Principal, id: string): Promise<WebhookRow> {
  const w = await deps.records.webhooks.get(id);
  if (!w || (!isAdmin(who) && w.tenant !== who.tenant)) throw new NotFoundError(`no webhook ${id}`);
  return w;
}

export async function listWebhookViews(deps: ServiceDeps, who: Principal): Promise<WebhookView[]> {
  const hooks = await deps.records.webhooks.list(isAdmin(who) ? null : who.tenant);
  return Promise.all(hooks.map(async (w) => webhookView(w, await deps.records.deliveries.getBreaker(breakerKey({ webhook_id: w.id, tenant: w.tenant, url: w.url })))));
}

export async function removeWebhook(deps: ServiceDeps, who: Principal, id: string): Promise<void> {
  await visibleWebhook(deps, who, id);
  await deps.records.webhooks.delete(id);
  await audit(deps, who, "webhook.delete", id);
}

export async function deliveryViews(deps: ServiceDeps, who: Principal, id: string, limit: number): Promise<DeliveryView[]> {
  await visibleWebhook(deps, who, id);
  return deliveryLog(deps, id, limit);
}

/** One subscription's delivery log, whatever its channel (the caller checked who may see it). */
export async function deliveryLog(deps: ServiceDeps, id: string, limit: number): Promise<DeliveryView[]> {
  const deliveries = await deps.records.deliveries.list(id, limit);
  return Promise.all(
    deliveries.map(async (d) => ({
      id: d.id,
      channel: d.channel,
      event: d.event_type,
      jobId: d.job_id,
      state: d.state,
      attempts: (await deps.records.deliveries.listAttempts(d.id)).map((a) => ({ attempt: a.attempt, at: new Date(a.at).toISOString(), status: a.status_code, error: a.error, durationMs: a.duration_ms })),
      createdAt: new Date(d.created_at).toISOString(),
    })),
  );
}

/**
 * The secret that signs a job's own webhook URL: its token's (each tenant verifies its own and
 * can forge no one's), derived for a JWT tenant, the node's for tokens made before 0007.
 */
export async function jobWebhookSecret(deps: Pick<ServiceDeps, "records" | "config">, jobId: string | null, nodeSecret: string): Promise<string> {
  const tokenId = jobId ? (await deps.records.jobs.get(jobId))?.tokenId : null;
  if (!tokenId) return nodeSecret;
  if (tokenId.startsWith("jwt:")) return deps.config.jwtSecret ? jwtWebhookSecret(deps.config.jwtSecret, tokenId.slice(4)) : nodeSecret;
  return (await deps.records.tokens.get(tokenId))?.webhook_secret ?? nodeSecret;
}

export interface WebhookDispatcher {
  stop(): Promise<void>;
}

/** Fans terminal events out to deliveries and runs the delivery queue (api role). */
export async function startWebhooks(deps: ServiceDeps, redisUrl: string, senderOptions: SenderOptions = {}): Promise<WebhookDispatcher> {
  const producer = createRedis(redisUrl, "blocking", "medianode-webhooks");
  const consumer = createRedis(redisUrl, "blocking", "medianode-webhooks-worker");
  const jobSecret = signingSecret(deps.config, "webhookSecret");
  const backoffMs = deps.config.webhookBackoffMs;
  const attempts = attemptsFor24h(backoffMs);

  const senders = createNotificationSenders(deps, senderOptions);
  // `queue` is made below, after `deliver`; enqueue runs only once events arrive.
  let queue: ReturnType<typeof createDeliveryQueue> | null = null;
  const enqueue = async (d: NewDelivery) => {
    // One terminal notification per job run per subscription: a second fan-out of the same
    // run (a repeated event, a second api node) finds the dedupe key taken and sends nothing.
    if (!(await deps.records.deliveries.insert(d))) return;
    void queue?.add(d.id, { attempts, backoffMs }).catch((e) => deps.log.warn("delivery not queued", { delivery: d.id, error: e }));
  };

  const fanOut = async (e: MedianodeEvent & { jobId: string }, tenant: string) => {
    const job = await deps.records.jobs.get(e.jobId);
    const body = JSON.stringify(e);
    const now = deps.now();
    const rows: Omit<NewDelivery, "id" | "dedupe_key">[] = [];
    for (const w of await deps.records.webhooks.list(tenant)) {
      if (!(JSON.parse(w.events) as string[]).includes(e.type)) continue;
      rows.push({ channel: "webhook", webhook_id: w.id, notification_id: null, job_id: e.jobId, tenant, url: w.url, event_type: e.type, body, created_at: now });
    }
    if (job?.webhook) rows.push({ channel: "webhook", webhook_id: null, notification_id: null, job_id: e.jobId, tenant, url: job.webhook, event_type: e.type, body, created_at: now });
    rows.push(...(await notificationDeliveries(deps, e, tenant, job)));
    const run = job?.run ?? 0;
    for (const r of rows) await enqueue({ ...r, id: newId("d_"), dedupe_key: `${e.jobId}:${run} ${breakerKey(r)}` });
  };
  const off = deps.bus.on((e: MedianodeEvent, tenant: string | null) => {
    if (!TERMINAL_EVENTS.has(e.type) || !e.jobId || tenant === null) return;
    fanOut({ ...e, jobId: e.jobId }, tenant).catch((err) => deps.log.error("notification fan-out failed", { jobId: e.jobId, type: e.type, error: err }));
  });

  const sendWebhook = async (d: DeliveryRow, now: number): Promise<SendOutcome> => {
    const secret = d.webhook_id ? ((await deps.records.webhooks.get(d.webhook_id))?.secret ?? jobSecret) : await jobWebhookSecret(deps, d.job_id, jobSecret);
    const out = await postDelivery(d.url, d.body, secret, policy(deps), Math.floor(now / 1000));
    // Every webhook failure retries (a 4xx may be a deploy in progress): as before issue #18.
    return out.error === null ? { ok: true, status: out.status } : { ok: false, status: out.status, error: out.error, retry: true };
  };
  const send = (d: DeliveryRow, now: number) => (d.channel === "email" ? senders.email(d) : d.channel === "webpush" ? senders.webpush(d) : sendWebhook(d, now));
  const count = (d: DeliveryRow, status: string) => {
    if (d.channel === "webhook") deps.metrics.webhookDeliveries.inc({ status });
    deps.metrics.notifications.inc({ channel: d.channel, status });
  };

  const deliver = async (job: Job<DeliveryJob>, token?: string): Promise<void> => {
    const d = await deps.records.deliveries.get(job.data.deliveryId);
    if (!d || d.state !== "pending") return;
    const now = deps.now();
    if (d.sending_attempt !== null) {
      // A node died while this attempt was on the wire (SIGKILL, power loss): it may have arrived.
      if (d.channel !== "webhook") {
        // Mail and push have no idempotency key, so a second send would be a duplicate the
        // user sees: the attempt is logged as interrupted and nothing is sent again.
        await deps.records.deliveries.recordAttempt({ delivery_id: d.id, attempt: d.sending_attempt, at: now, status_code: null, error: "interrupted: the node stopped mid-send; not sent again (it may have arrived)", duration_ms: 0 }, "failed");
        count(d, "interrupted");
        deps.log.warn("delivery interrupted mid-send; not resent", { delivery: d.id, channel: d.channel, jobId: d.job_id });
        return;
      }
      // A webhook is sent again (at least once, as before #18): the body is byte for byte the
      // same event (jobId, type, at), which a receiver can dedupe on; a lost one is worse.
      await deps.records.deliveries.recordAttempt({ delivery_id: d.id, attempt: d.sending_attempt, at: now, status_code: null, error: "interrupted: the node stopped mid-send; sent again (the same event)", duration_ms: 0 }, "pending");
      count(d, "interrupted");
      deps.log.warn("webhook interrupted mid-send; sending again", { delivery: d.id, jobId: d.job_id });
      return await deliver(job, token);
    }
    const key = breakerKey(d);
    const breaker = (await deps.records.deliveries.getBreaker(key)) ?? { key, consecutive_failures: 0, open_until: null };
    if (breakerOpen(breaker, now)) {
      // Paused endpoint: wait for the breaker without spending an attempt or calling it.
      count(d, "circuit_open");
      await job.moveToDelayed(breaker.open_until!, token);
      throw new DelayedError();
    }
    // A delivery re-queued at start (its queue entry was lost) continues its attempt numbers.
    const attempt = Math.max(job.attemptsMade, d.attempts) + 1;
    if (!(await deps.records.deliveries.beginSend(d.id, attempt))) return;
    const started = performance.now();
    const out = await send(d, now);
    const final = out.ok || !out.retry || attempt >= attempts;
    const error = out.ok ? null : out.error;
    await deps.records.deliveries.recordAttempt({ delivery_id: d.id, attempt, at: now, status_code: out.status, error, duration_ms: Math.round(performance.now() - started) }, out.ok ? "delivered" : final ? "failed" : "pending");
    await deps.records.deliveries.saveBreaker(out.ok ? breakerAfterSuccess(key) : breakerAfterFailure(breaker, deps.now(), BREAKER_COOLDOWN_MS));
    if (!out.ok && out.gone) await senders.gone(d);
    count(d, out.ok ? "delivered" : out.gone ? "gone" : final ? "failed" : "retrying");
    if (out.ok) return;
    // Permanent (an SMTP 5xx, a push 4xx): BullMQ must not spend the remaining attempts.
    if (!out.retry) throw new UnrecoverableError(out.error);
    throw new Error(out.error);
  };

  // The job lock of MEDIANODE_LOCK_SEC, as for media jobs: a delivery whose node died comes
  // back to the next node after it (then logged as interrupted: a webhook is sent again, mail and push never).
  const q = createDeliveryQueue(producer, consumer, deliver, { concurrency: 16, lockMs: deps.config.lockSec * 1000, onError: (e) => deps.log.warn("delivery worker error", { error: e }) });
  queue = q;
  // A node that died between a delivery's row and its queue entry, or a Redis that lost the
  // queue, leaves pending rows nobody will send: queue them again (the job id is the delivery
  // id, so one already queued is not queued twice, here or by another api node).
  // In the background: start-up does not wait on one Redis call per pending row.
  const pending = await deps.records.deliveries.listPending(deps.now() - DAY_MS, REQUEUE_MAX);
  if (pending.length) {
    deps.log.info("pending deliveries queued again", { count: pending.length });
    for (const d of pending) void q.add(d.id, { attempts, backoffMs }).catch((e) => deps.log.warn("delivery not queued", { delivery: d.id, error: e }));
  }
  return {
    async stop() {
      off();
      senders.close();
      await q.close();
      producer.disconnect();
      consumer.disconnect();
    },
  };
}
