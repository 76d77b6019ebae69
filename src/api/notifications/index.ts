// /v1/notifications (SPEC §4, issue #18): subscriptions over webhook, email and Web Push, one
// list and one delivery log shape for all three; the VAPID key browsers subscribe with.
import { Elysia } from "elysia";
import { Type as T } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { Channel, SubscriptionEvents, WebhookSecret } from "../../events/notifications/schema";
import type { Principal, ServiceDeps } from "../../services/deps";
import { createNotification, ensureVapidKeys, listNotificationViews, notificationDeliveryViews, removeNotification } from "../../services/notifications";
import { requireScope } from "../auth";
import { readChecked } from "../body";

const NotificationRequest = TypeCompiler.Compile(
  T.Object(
    {
      channel: Channel,
      to: T.Unknown({ description: "webhook: an http(s) URL; email: one address; webpush: the browser's PushSubscription JSON {endpoint, keys: {p256dh, auth}}" }),
      events: SubscriptionEvents,
      secret: WebhookSecret,
    },
    { additionalProperties: false },
  ),
);

export function notificationsRoutes(deps: ServiceDeps, principalOf: (r: Request) => Principal) {
  return new Elysia({ prefix: "/v1/notifications", tags: ["notifications"] })
    .post(
      "/",
      async ({ request, set }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:write");
        const body = await readChecked(request, NotificationRequest, "notification");
        set.status = 201;
        return await createNotification(deps, who, body);
      },
      { parse: "none", detail: { summary: "Subscribe a webhook URL, an email address or a browser's Web Push subscription to terminal job events" } },
    )
    .get(
      "/",
      ({ request }) => {
        requireScope(principalOf(request), "jobs:read");
        return { items: listNotificationViews(deps, principalOf(request)) };
      },
      { detail: { summary: "The caller's subscriptions on every channel (webhooks included)" } },
    )
    .get(
      "/vapid",
      ({ request }) => {
        requireScope(principalOf(request), "jobs:read");
        return { publicKey: ensureVapidKeys(deps.config).publicKey };
      },
      { detail: { summary: "The VAPID public key for PushManager.subscribe({applicationServerKey})" } },
    )
    .delete("/:id", ({ request, params, set }) => {
      const who = principalOf(request);
      requireScope(who, "jobs:write");
      removeNotification(deps, who, params.id);
      set.status = 204;
      return null;
    })
    .get("/:id/deliveries", ({ request, params, query }) => {
      const who = principalOf(request);
      requireScope(who, "jobs:read");
      const limit = Math.min(Number(query.limit ?? 100) || 100, 1000);
      return { items: notificationDeliveryViews(deps, who, params.id, limit) };
    });
}
