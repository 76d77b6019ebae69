import { Elysia } from "elysia";
import { Type as T } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { Principal, ServiceDeps } from "../../services/deps";
import { createWebhook, deliveryViews, listWebhookViews, removeWebhook } from "../../services/webhooks";
import { requireScope } from "../auth";
import { readChecked } from "../body";
import { SubscriptionEvents, WebhookSecret } from "../../events/notifications/schema";

const WebhookRequest = TypeCompiler.Compile(
  T.Object(
    {
      url: T.String({ format: "uri", maxLength: 2048, description: "http(s) endpoint; private addresses need MEDIANODE_URL_ALLOWLIST" }),
      events: SubscriptionEvents,
      secret: WebhookSecret,
    },
    { additionalProperties: false },
  ),
);

export function webhooksRoutes(deps: ServiceDeps, principalOf: (r: Request) => Principal) {
  return new Elysia({ prefix: "/v1/webhooks", tags: ["webhooks"] })
    .post(
      "/",
      async ({ request, set }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:write");
        const body = await readChecked(request, WebhookRequest, "webhook");
        set.status = 201;
        return await createWebhook(deps, who, body);
      },
      { parse: "none", detail: { summary: "Subscribe a URL to terminal job events (signed with X-Medianode-Signature)" } },
    )
    .get("/", ({ request }) => {
      const who = principalOf(request);
      requireScope(who, "jobs:read");
      return { items: listWebhookViews(deps, who) };
    })
    .delete("/:id", ({ request, params, set }) => {
      const who = principalOf(request);
      requireScope(who, "jobs:write");
      removeWebhook(deps, who, params.id);
      set.status = 204;
      return null;
    })
    .get("/:id/deliveries", ({ request, params, query }) => {
      const who = principalOf(request);
      requireScope(who, "jobs:read");
      const limit = Math.min(Number(query.limit ?? 100) || 100, 1000);
      return { items: deliveryViews(deps, who, params.id, limit) };
    });
}
