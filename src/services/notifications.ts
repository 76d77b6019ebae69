// Notification subscriptions over every channel (SPEC §4, issue #18). Webhooks keep their own
// service and table (services/webhooks.ts); email and Web Push subscriptions live here, and
// /v1/notifications shows all three as one list. Delivery is the webhooks' queue: one log,
// one retry policy, one breaker per subscription (startWebhooks calls the senders below).
import { Type as T, type Static } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { InvalidOptionsError, NotFoundError } from "../errors";
import { EVENT_TYPES, type EventType, type MedianodeEvent } from "../events/types";
import { buildMail } from "../events/notifications/email-message";
import { createMailer, fromAddress, type Mailer } from "../events/notifications/email";
import type { SendOutcome } from "../events/notifications/outcome";
import { Channel, emailProblem, JobNotify, PushSubscriptionJson, pushSubscriptionProblem } from "../events/notifications/schema";
import { postPush, pushPayload, pushRequest } from "../events/notifications/webpush";
import { newTokenId } from "../ids";
import { checkUrl, type UrlPolicy } from "../sources/url";
import type { DeliveryRow, NewDelivery, NotificationRow } from "../store/records";
import { breakerKey } from "../events/webhooks/policy";
import type { JobRecord } from "../jobs/schema";
import { audit } from "./audit";
import { vapidKeys } from "./signing-secrets";
import { isAdmin, type Principal, type ServiceDeps } from "./deps";
import { checkEvents, createWebhook, deliveryLog, type DeliveryView, listWebhookViews, removeWebhook, visibleWebhook } from "./webhooks";

const PushCheck = TypeCompiler.Compile(PushSubscriptionJson);
const PUSH_TIMEOUT_MS = 10_000;

const pushPolicy = (deps: Pick<ServiceDeps, "config">): UrlPolicy => ({ allowlist: deps.config.urlAllowlist, maxBytes: 64 * 1024, timeoutMs: PUSH_TIMEOUT_MS, maxRedirects: 0 });

/** The node's address as users reach it, for links in mails. */
export function publicBase(config: ServiceDeps["config"]): string {
  return (config.publicUrl ?? `http://${config.host}:${config.port}`).replace(/\/+$/, "");
}

/** A push endpoint is https, or http for a MEDIANODE_URL_ALLOWLIST host, and passes the SSRF rules (SPEC §4, §7). */
async function checkPushSubscription(deps: Pick<ServiceDeps, "config">, raw: unknown): Promise<PushSubscriptionJson> {
  if (!PushCheck.Check(raw)) {
    throw new InvalidOptionsError("webpush needs the browser's PushSubscription JSON: {endpoint, keys: {p256dh, auth}}", { errors: [...PushCheck.Errors(raw)].slice(0, 5).map((e) => `${e.path}: ${e.message}`) });
  }
  const problem = pushSubscriptionProblem(raw);
  if (problem) throw new InvalidOptionsError(`invalid push subscription: ${problem}`);
  const u = new URL(raw.endpoint);
  if (u.protocol === "http:" && !deps.config.urlAllowlist.some((h) => h.toLowerCase() === u.hostname.toLowerCase())) {
    throw new InvalidOptionsError("push endpoints must be https (http only for hosts in MEDIANODE_URL_ALLOWLIST)");
  }
  await checkUrl(raw.endpoint, pushPolicy(deps));
  return raw;
}

function checkEmail(deps: Pick<ServiceDeps, "config">, raw: unknown): string {
  if (typeof raw !== "string") throw new InvalidOptionsError("email needs `to`: one address");
  const problem = emailProblem(raw);
  if (problem) throw new InvalidOptionsError(`invalid address: ${problem}`);
  if (!deps.config.smtpUrl || !deps.config.mailFrom) throw new InvalidOptionsError("email notifications need MEDIANODE_SMTP_URL and MEDIANODE_MAIL_FROM on the server");
  return raw;
}

/** A job's own `notify` (checked at submission, before the row is written). */
export async function checkJobNotify(deps: Pick<ServiceDeps, "config">, notify: JobNotify): Promise<void> {
  if (notify.email !== undefined) checkEmail(deps, notify.email);
  if (notify.webpush !== undefined) await checkPushSubscription(deps, notify.webpush);
}

/** A subscription on any channel as the API shows it (never a secret or push keys). */
export const NotificationView = T.Object({
  id: T.String({ description: "w_… for a webhook, n_… for an email or Web Push subscription" }),
  channel: Channel,
  to: T.String({ description: "webhook: the URL; email: the address; webpush: the push endpoint (never its keys)" }),
  events: T.Array(T.Union(EVENT_TYPES.map((e) => T.Literal(e)))),
  createdAt: T.String({ format: "date-time" }),
  state: T.Union([T.Literal("active"), T.Literal("paused")], { description: "paused: the circuit breaker is open after repeated failures" }),
  consecutiveFailures: T.Integer(),
});
export type NotificationView = Static<typeof NotificationView>;
/** The answer to a subscription: the view and, for a webhook, its secret (shown only here). */
export const NotificationCreated = T.Composite([NotificationView, T.Object({ secret: T.Optional(T.String({ description: "Webhook HMAC secret: shown only here" })) })]);
export type NotificationCreated = Static<typeof NotificationCreated>;

const targetOf = (n: NotificationRow): string => (n.channel === "email" ? n.target : (JSON.parse(n.target) as PushSubscriptionJson).endpoint);

async function notificationView(deps: ServiceDeps, n: NotificationRow): Promise<NotificationView> {
  const b = await deps.records.deliveries.getBreaker(breakerKey({ notification_id: n.id, webhook_id: null, tenant: n.tenant, url: "" }));
  return {
    id: n.id,
    channel: n.channel,
    to: targetOf(n),
    events: JSON.parse(n.events) as EventType[],
    createdAt: new Date(n.created_at).toISOString(),
    state: b?.open_until && b.open_until > deps.now() ? "paused" : "active",
    consecutiveFailures: b?.consecutive_failures ?? 0,
  };
}

export async function createNotification(deps: ServiceDeps, who: Principal, input: { channel: Channel; to: unknown; events?: string[]; secret?: string }): Promise<NotificationCreated> {
  if (input.channel === "webhook") {
    if (typeof input.to !== "string") throw new InvalidOptionsError("webhook needs `to`: an http(s) URL");
    const w = await createWebhook(deps, who, { url: input.to, events: input.events, secret: input.secret });
    return { id: w.id, channel: "webhook", to: w.url, events: w.events, createdAt: w.createdAt, state: w.state, consecutiveFailures: 0, secret: w.secret };
  }
  if (input.secret !== undefined) throw new InvalidOptionsError("secret applies to webhooks only");
  const events = checkEvents(input.events);
  const target = input.channel === "email" ? checkEmail(deps, input.to) : JSON.stringify(await checkPushSubscription(deps, input.to));
  const row: NotificationRow = { id: "n_" + newTokenId().slice(2), tenant: who.tenant, channel: input.channel, target, events: JSON.stringify(events), created_at: deps.now() };
  await deps.records.notifications.insert(row);
  await audit(deps, who, "notification.create", row.id, { channel: row.channel, to: targetOf(row), events });
  return notificationView(deps, row);
}

async function visibleNotification(deps: ServiceDeps, who: Principal, id: string): Promise<NotificationRow> {
  const n = await deps.records.notifications.get(id);
  if (!n || (!isAdmin(who) && n.tenant !== who.tenant)) throw new NotFoundError(`no notification ${id}`);
  return n;
}

const isWebhookId = (id: string) => id.startsWith("w_");

export async function listNotificationViews(deps: ServiceDeps, who: Principal): Promise<NotificationView[]> {
  const hooks: NotificationView[] = (await listWebhookViews(deps, who)).map((w) => ({ id: w.id, channel: "webhook", to: w.url, events: w.events, createdAt: w.createdAt, state: w.state, consecutiveFailures: w.consecutiveFailures }));
  const rest = await Promise.all((await deps.records.notifications.list(isAdmin(who) ? null : who.tenant)).map((n) => notificationView(deps, n)));
  return [...hooks, ...rest].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}

export async function removeNotification(deps: ServiceDeps, who: Principal, id: string): Promise<void> {
  if (isWebhookId(id)) return removeWebhook(deps, who, id);
  await visibleNotification(deps, who, id);
  await deps.records.notifications.delete(id);
  await audit(deps, who, "notification.delete", id);
}

export async function notificationDeliveryViews(deps: ServiceDeps, who: Principal, id: string, limit: number): Promise<DeliveryView[]> {
  if (isWebhookId(id)) await visibleWebhook(deps, who, id);
  else await visibleNotification(deps, who, id);
  return deliveryLog(deps, id, limit);
}

/** The email and Web Push deliveries one terminal event makes: the tenant's subscriptions, then the job's own `notify`. */
export async function notificationDeliveries(deps: ServiceDeps, e: MedianodeEvent, tenant: string, job: JobRecord | null): Promise<Omit<NewDelivery, "id" | "dedupe_key">[]> {
  const base = { webhook_id: null, job_id: e.jobId ?? null, tenant, event_type: e.type, body: JSON.stringify(e), created_at: deps.now() };
  const out: Omit<NewDelivery, "id" | "dedupe_key">[] = [];
  for (const n of await deps.records.notifications.list(tenant)) {
    if (!(JSON.parse(n.events) as string[]).includes(e.type)) continue;
    out.push({ ...base, channel: n.channel, notification_id: n.id, url: n.channel === "email" ? `mailto:${n.target}` : targetOf(n) });
  }
  const own = job?.notify ?? null;
  if (own?.email) out.push({ ...base, channel: "email", notification_id: null, url: `mailto:${own.email}` });
  if (own?.webpush) out.push({ ...base, channel: "webpush", notification_id: null, url: own.webpush.endpoint });
  return out;
}

/** The VAPID `sub` claim: configured, else the From address, else a placeholder the push services accept. */
export function vapidSubject(config: ServiceDeps["config"]): string {
  if (config.vapidSubject) return config.vapidSubject;
  if (config.mailFrom) return `mailto:${fromAddress(config.mailFrom)}`;
  return config.publicUrl?.startsWith("https:") ? config.publicUrl : "mailto:medianode@invalid.example";
}

export interface NotificationSenders {
  email(d: DeliveryRow): Promise<SendOutcome>;
  webpush(d: DeliveryRow): Promise<SendOutcome>;
  /** A push service said 404/410: the subscription is removed (a job's own one has nothing to remove). */
  gone(d: DeliveryRow): Promise<void>;
  close(): void;
}

export interface SenderOptions {
  /** A playback URL for a completed job's mail (the api role passes api/playback's maker). */
  playbackLink?: (job: JobRecord) => string | null;
}

export function createNotificationSenders(deps: ServiceDeps, o: SenderOptions = {}): NotificationSenders {
  const mailer: Mailer | null = deps.config.smtpUrl && deps.config.mailFrom ? createMailer(deps.config.smtpUrl, deps.config.mailFrom) : null;
  const vapid = vapidKeys(deps.config);
  const subject = vapidSubject(deps.config);
  const base = publicBase(deps.config);

  const pushTarget = async (d: DeliveryRow): Promise<PushSubscriptionJson | null> => {
    if (d.notification_id) {
      const n = await deps.records.notifications.get(d.notification_id);
      return n ? (JSON.parse(n.target) as PushSubscriptionJson) : null;
    }
    const job = d.job_id ? await deps.records.jobs.get(d.job_id) : null;
    return job?.notify?.webpush ?? null;
  };

  return {
    async email(d) {
      if (!mailer) return { ok: false, status: null, error: "MEDIANODE_SMTP_URL / MEDIANODE_MAIL_FROM not set on this node", retry: false };
      if (d.notification_id && !(await deps.records.notifications.get(d.notification_id))) return { ok: false, status: null, error: "subscription removed", retry: false };
      const e = JSON.parse(d.body) as MedianodeEvent;
      const row = d.job_id ? await deps.records.jobs.get(d.job_id) : null;
      const jobId = d.job_id ?? "unknown";
      const mail = buildMail({
        eventType: e.type,
        at: e.at,
        job: {
          id: jobId,
          type: row?.type ?? "media",
          status: e.status ?? row?.status ?? "",
          startedAt: row?.startedAt ?? null,
          finishedAt: row?.finishedAt ?? null,
          // Code and message only: the stderr tail and probe can name server paths.
          error: row?.error ? { code: row.error.code, message: row.error.message } : null,
        },
        links: { job: `${base}/v1/jobs/${encodeURIComponent(jobId)}`, playback: row && o.playbackLink ? o.playbackLink(row) : null, dashboard: `${base}/` },
        deliveryId: d.id,
        domain: mailer.domain,
      });
      return mailer.send(d.url.replace(/^mailto:/, ""), mail);
    },
    async webpush(d) {
      const sub = await pushTarget(d);
      if (!sub) return { ok: false, status: null, error: "subscription removed", retry: false };
      const e = JSON.parse(d.body) as MedianodeEvent;
      const req = pushRequest(sub, pushPayload(d.body), { vapid, subject, ttlSec: deps.config.pushTtlSec, urgency: e.type === "job.failed" ? "high" : "normal", topic: e.jobId ?? d.id });
      return postPush(req, pushPolicy(deps));
    },
    async gone(d) {
      if (!d.notification_id || !(await deps.records.notifications.delete(d.notification_id))) return;
      await audit(deps, "system", "notification.gone", d.notification_id, { endpoint: d.url });
      deps.log.info("push subscription gone; removed", { notification: d.notification_id, delivery: d.id });
    },
    close: () => mailer?.close(),
  };
}
