// Webhooks (SPEC §4): subscriptions per tenant plus a job's own `webhook` URL; terminal
// events only; signed; delivered from their own queue (queue/deliveries.ts) with exponential
// backoff over 24 h; a circuit breaker per subscription (per tenant and URL for a job's own
// webhook); every attempt logged in SQLite. The HTTP attempt itself is events/webhooks/deliver.ts.
import { randomBytes } from "node:crypto";
import { Type as T, type Static } from "@sinclair/typebox";
import { DelayedError, type Job } from "bullmq";
import { InvalidOptionsError, NotFoundError } from "../errors";
import { EVENT_TYPES, TERMINAL_EVENTS, type EventType, type MedianodeEvent } from "../events/types";
import { postDelivery } from "../events/webhooks/deliver";
import { jwtWebhookSecret } from "../events/webhooks/sign";
import { getToken } from "../store/tokens";
import { attemptsFor24h, breakerAfterFailure, breakerAfterSuccess, breakerKey, breakerOpen } from "../events/webhooks/policy";
import { newTokenId } from "../ids";
import { createRedis } from "../queue/connection";
import { createDeliveryQueue, type DeliveryJob } from "../queue/deliveries";
import { checkUrl, type UrlPolicy } from "../sources/url";
import { secretFile } from "../storage/secret-file";
import { getBreaker, getDelivery, insertDelivery, listAttempts, listDeliveries, recordAttempt, saveBreaker, type DeliveryRow } from "../store/deliveries";
import { deleteWebhook, getWebhook, insertWebhook, listWebhooks, type WebhookRow } from "../store/webhooks";
import { audit } from "./audit";
import { isAdmin, type Principal, type ServiceDeps } from "./deps";

const DELIVERY_TIMEOUT_MS = 10_000;
/** First pause of a tripped breaker; it doubles while the endpoint keeps failing (max 1 h). */
const BREAKER_COOLDOWN_MS = 30_000;

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

export const DeliveryView = T.Object({
  id: T.String(),
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

export async function createWebhook(deps: ServiceDeps, who: Principal, input: { url: string; events?: string[]; secret?: string }) {
  const events = input.events?.length ? input.events : [...TERMINAL_EVENTS];
  for (const e of events) {
    if (!(EVENT_TYPES as readonly string[]).includes(e)) throw new InvalidOptionsError(`unknown event "${e}"`);
    if (!TERMINAL_EVENTS.has(e as EventType)) throw new InvalidOptionsError(`webhooks carry terminal events only (${[...TERMINAL_EVENTS].join(", ")}), not ${e}`);
  }
  await checkUrl(input.url, policy(deps));
  const secret = input.secret ?? randomBytes(24).toString("base64url");
  const row: WebhookRow = { id: newId("w_"), tenant: who.tenant, url: input.url, events: JSON.stringify(events), secret, created_at: deps.now() };
  insertWebhook(deps.db, row);
  audit(deps, who, "webhook.create", row.id, { url: row.url, events });
  return { ...webhookView(row, null), secret };
}

function visibleWebhook(deps: ServiceDeps, who: Principal, id: string): WebhookRow {
  const w = getWebhook(deps.db, id);
  if (!w || (!isAdmin(who) && w.tenant !== who.tenant)) throw new NotFoundError(`no webhook ${id}`);
  return w;
}

export function listWebhookViews(deps: ServiceDeps, who: Principal): WebhookView[] {
  return listWebhooks(deps.db, isAdmin(who) ? null : who.tenant).map((w) => webhookView(w, getBreaker(deps.db, breakerKey({ webhook_id: w.id, tenant: w.tenant, url: w.url }))));
}

export function removeWebhook(deps: ServiceDeps, who: Principal, id: string): void {
  visibleWebhook(deps, who, id);
  deleteWebhook(deps.db, id);
  audit(deps, who, "webhook.delete", id);
}

export function deliveryViews(deps: ServiceDeps, who: Principal, id: string, limit: number): DeliveryView[] {
  visibleWebhook(deps, who, id);
  return listDeliveries(deps.db, id, limit).map((d) => ({
    id: d.id,
    event: d.event_type,
    jobId: d.job_id,
    state: d.state,
    attempts: listAttempts(deps.db, d.id).map((a) => ({ attempt: a.attempt, at: new Date(a.at).toISOString(), status: a.status_code, error: a.error, durationMs: a.duration_ms })),
    createdAt: new Date(d.created_at).toISOString(),
  }));
}

/** The secret for a job's own webhook URL: configured, else made once under the data dir. */
export function perJobSecret(dataDir: string, configured: string | undefined): string {
  return configured ?? secretFile(dataDir, "webhook.secret");
}

/**
 * The secret that signs a job's own webhook URL: its token's (each tenant verifies its own and
 * can forge no one's), derived for a JWT tenant, the node's for tokens made before 0007.
 */
export async function jobWebhookSecret(deps: Pick<ServiceDeps, "db" | "records" | "config">, jobId: string | null, nodeSecret: string): Promise<string> {
  const tokenId = jobId ? (await deps.records.jobs.get(jobId))?.tokenId : null;
  if (!tokenId) return nodeSecret;
  if (tokenId.startsWith("jwt:")) return deps.config.jwtSecret ? jwtWebhookSecret(deps.config.jwtSecret, tokenId.slice(4)) : nodeSecret;
  return getToken(deps.db, tokenId)?.webhook_secret ?? nodeSecret;
}

export interface WebhookDispatcher {
  stop(): Promise<void>;
}

/** Fans terminal events out to deliveries and runs the delivery queue (api role). */
export async function startWebhooks(deps: ServiceDeps, redisUrl: string): Promise<WebhookDispatcher> {
  const producer = createRedis(redisUrl, "blocking", "medianode-webhooks");
  const consumer = createRedis(redisUrl, "blocking", "medianode-webhooks-worker");
  const jobSecret = perJobSecret(deps.config.dataDir, deps.config.webhookSecret);
  const backoffMs = deps.config.webhookBackoffMs;
  const attempts = attemptsFor24h(backoffMs);

  const deliver = async (job: Job<DeliveryJob>, token?: string) => {
    const d = getDelivery(deps.db, job.data.deliveryId);
    if (!d || d.state !== "pending") return;
    const now = deps.now();
    const key = breakerKey(d);
    const breaker = getBreaker(deps.db, key) ?? { key, consecutive_failures: 0, open_until: null };
    if (breakerOpen(breaker, now)) {
      // Paused endpoint: wait for the breaker without spending an attempt or calling it.
      deps.metrics.webhookDeliveries.inc({ status: "circuit_open" });
      await job.moveToDelayed(breaker.open_until!, token);
      throw new DelayedError();
    }
    const attempt = job.attemptsMade + 1;
    const secret = d.webhook_id ? (getWebhook(deps.db, d.webhook_id)?.secret ?? jobSecret) : await jobWebhookSecret(deps, d.job_id, jobSecret);
    const out = await postDelivery(d.url, d.body, secret, policy(deps), Math.floor(now / 1000));
    const ok = out.error === null;
    const final = ok || attempt >= attempts;
    recordAttempt(deps.db, { delivery_id: d.id, attempt, at: now, status_code: out.status, error: out.error, duration_ms: out.durationMs }, ok ? "delivered" : final ? "failed" : "pending");
    saveBreaker(deps.db, ok ? breakerAfterSuccess(key) : breakerAfterFailure(breaker, deps.now(), BREAKER_COOLDOWN_MS));
    deps.metrics.webhookDeliveries.inc({ status: ok ? "delivered" : final ? "failed" : "retrying" });
    if (!ok) throw new Error(out.error!);
  };
  const queue = createDeliveryQueue(producer, consumer, deliver, { concurrency: 16, onError: (e) => deps.log.warn("webhook worker error", { error: e }) });

  const enqueue = (d: Omit<DeliveryRow, "state" | "attempts" | "finished_at">) => {
    insertDelivery(deps.db, d);
    void queue.add(d.id, { attempts, backoffMs }).catch((e) => deps.log.warn("webhook not queued", { delivery: d.id, error: e }));
  };

  const fanOut = async (e: MedianodeEvent & { jobId: string }, tenant: string) => {
    const job = await deps.records.jobs.get(e.jobId);
    const body = JSON.stringify(e);
    const now = deps.now();
    for (const w of listWebhooks(deps.db, null)) {
      if (w.tenant !== tenant) continue;
      if (!(JSON.parse(w.events) as string[]).includes(e.type)) continue;
      enqueue({ id: newId("d_"), webhook_id: w.id, job_id: e.jobId, tenant, url: w.url, event_type: e.type, body, created_at: now });
    }
    if (job?.webhook) enqueue({ id: newId("d_"), webhook_id: null, job_id: e.jobId, tenant, url: job.webhook, event_type: e.type, body, created_at: now });
  };
  const off = deps.bus.on((e: MedianodeEvent, tenant: string | null) => {
    if (!TERMINAL_EVENTS.has(e.type) || !e.jobId || tenant === null) return;
    fanOut({ ...e, jobId: e.jobId }, tenant).catch((err) => deps.log.error("webhook fan-out failed", { jobId: e.jobId, type: e.type, error: err }));
  });

  return {
    async stop() {
      off();
      await queue.close();
      producer.disconnect();
      consumer.disconnect();
    },
  };
}
