// /v1/notifications (SPEC §4, issue #18): subscriptions over webhook, email and Web Push, one
// list and one delivery log shape for all three; the VAPID key browsers subscribe with.
import { Elysia } from "elysia";
import { Type as T } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { Channel, SubscriptionEvents, WebhookSecret } from "../../events/notifications/schema";
import type { Principal, ServiceDeps } from "../../services/deps";
import { vapidKeys } from "../../services/signing-secrets";
import { createNotification, listNotificationViews, NotificationCreated, NotificationView, notificationDeliveryViews, removeNotification } from "../../services/notifications";
import { DeliveryView } from "../../services/webhooks";
import { AUTH_ERRORS, docResponses, errors, out, requestBody } from "../schemas";
import { requireScope } from "../auth";
import { readChecked } from "../body";
import { ListLimit, listLimit } from "../list-query";

const NotificationRequestSchema = T.Object(
  {
    channel: Channel,
    to: T.Unknown({ description: "webhook: an http(s) URL; email: one address; webpush: the browser's PushSubscription JSON {endpoint, keys: {p256dh, auth}}" }),
    events: SubscriptionEvents,
    secret: WebhookSecret,
  },
  { additionalProperties: false },
);
const NotificationRequest = TypeCompiler.Compile(NotificationRequestSchema);
const NotificationParams = T.Object({ id: T.String({ description: "Subscription id (w_… webhook, n_… email or Web Push)" }) });

export function notificationsRoutes(deps: ServiceDeps, principalOf: (r: Request) => Principal) {
  return new Elysia({ prefix: "/v1/notifications", tags: ["notifications"] })
    .post(
      "",
      async ({ request, set }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:write");
        const body = await readChecked(request, NotificationRequest, "notification");
        set.status = 201;
        return await createNotification(deps, who, body);
      },
      {
        parse: "none",
        response: { 201: out(NotificationCreated), ...errors(...AUTH_ERRORS, "BAD_REQUEST", "INVALID_OPTIONS") },
        detail: {
          summary: "Subscribe a webhook URL, an email address or a browser's Web Push subscription to terminal job events",
          requestBody: requestBody({ "application/json": NotificationRequestSchema }, "The channel, where to send and the events wanted"),
        },
      },
    )
    .get(
      "",
      async ({ request }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:read");
        return { items: await listNotificationViews(deps, who) };
      },
      { response: { 200: out(T.Object({ items: T.Array(NotificationView) })), ...errors(...AUTH_ERRORS) }, detail: { summary: "The caller's subscriptions on every channel (webhooks included), with their circuit-breaker state" } },
    )
    .get(
      "/vapid",
      ({ request }) => {
        requireScope(principalOf(request), "jobs:read");
        return { publicKey: vapidKeys(deps.config).publicKey };
      },
      {
        response: { 200: out(T.Object({ publicKey: T.String({ description: "base64url P-256 public key (applicationServerKey)" }) })), ...errors(...AUTH_ERRORS) },
        detail: { summary: "The VAPID public key for PushManager.subscribe({applicationServerKey})" },
      },
    )
    .delete(
      "/:id",
      async ({ request, params, set }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:write");
        await removeNotification(deps, who, params.id);
        set.status = 204;
        return null;
      },
      { params: NotificationParams, detail: { summary: "Remove a subscription (any channel)", responses: docResponses({ 204: "Removed", ...errors(...AUTH_ERRORS, "NOT_FOUND") }) } },
    )
    .get(
      "/:id/deliveries",
      async ({ request, params, query }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:read");
        return { items: await notificationDeliveryViews(deps, who, params.id, listLimit(query.limit)) };
      },
      {
        params: NotificationParams,
        query: T.Object({ limit: ListLimit, token: T.Optional(T.String()) }),
        response: { 200: out(T.Object({ items: T.Array(DeliveryView) })), ...errors(...AUTH_ERRORS, "NOT_FOUND", "BAD_REQUEST") },
        detail: { summary: "Every delivery attempt of a subscription, whatever its channel" },
      },
    );
}
