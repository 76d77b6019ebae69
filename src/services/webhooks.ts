// Webhooks (SPEC §4): subscriptions per tenant plus a job's own `webhook` URL; terminal
// events only; signed; delivered from their own queue (queue/deliveries.ts) with exponential
// backoff over 24 h; a circuit breaker per endpoint URL; every attempt logged in SQLite. The
// HTTP attempt itself is events/webhooks/deliver.ts.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DelayedError, type Job } from "bullmq";
import { InvalidOptionsError, NotFoundError } from "../errors";
import { EVENT_TYPES, TERMINAL_EVENTS, type EventType, type MedianodeEvent } from "../events/types";
import { postDelivery } from "../events/webhooks/deliver";
import { attemptsFor24h, breakerAfterFailure, breakerAfterSuccess, breakerOpen } from "../events/webhooks/policy";
import { newTokenId } from "../ids";
import { createRedis } from "../queue/connection";
import { createDeliveryQueue, type DeliveryJob } from "../queue/deliveries";
import { checkUrl, type UrlPolicy } from "../sources/url";
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

export function webhookView(w: WebhookRow, breaker: { open_until: number | null; consecutive_failures: number } | null) {
  return {
    id: w.id,
    url: w.url,
    events: JSON.parse(w.events) as EventType[],
    createdAt: new Date(w.created_at).toISOString(),
    state: breaker?.open_until && breaker.open_until > Date.now() ? "paused" : "active",
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

export function listWebhookViews(deps: ServiceDeps, who: Principal) {
  return listWebhooks(deps.db, isAdmin(who) ? null : who.tenant).map((w) => webhookView(w, getBreaker(deps.db, w.url)));
}

export function removeWebhook(deps: ServiceDeps, who: Principal, id: string): void {
  visibleWebhook(deps, who, id);
  deleteWebhook(deps.db, id);
  audit(deps, who, "webhook.delete", id);
}

export function deliveryViews(deps: ServiceDeps, who: Principal, id: string, limit: number) {
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
  if (configured) return configured;
  const path = join(dataDir, "webhook.secret");
  if (existsSync(path)) return readFileSync(path, "utf8").trim();
  const s = randomBytes(32).toString("base64url");
  writeFileSync(path, s + "\n", { mode: 0o600 });
  return s;
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
    const breaker = getBreaker(deps.db, d.url) ?? { url: d.url, consecutive_failures: 0, open_until: null };
    if (breakerOpen(breaker, now)) {
      // Paused endpoint: wait for the breaker without spending an attempt or calling it.
      deps.metrics.webhookDeliveries.inc({ status: "circuit_open" });
      await job.moveToDelayed(breaker.open_until!, token);
      throw new DelayedError();
    }
    const attempt = job.attemptsMade + 1;
    const secret = d.webhook_id ? (getWebhook(deps.db, d.webhook_id)?.secret ?? jobSecret) : jobSecret;
    const out = await postDelivery(d.url, d.body, secret, policy(deps), Math.floor(now / 1000));
    const ok = out.error === null;
    const final = ok || attempt >= attempts;
    recordAttempt(deps.db, { delivery_id: d.id, attempt, at: now, status_code: out.status, error: out.error, duration_ms: out.durationMs }, ok ? "delivered" : final ? "failed" : "pending");
    saveBreaker(deps.db, ok ? breakerAfterSuccess(d.url) : breakerAfterFailure(breaker, deps.now(), BREAKER_COOLDOWN_MS));
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
