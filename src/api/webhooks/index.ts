import { Elysia } from "elysia";
import { Type as T } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { ConflictError } from "../../errors";
import { rotateWebhookSecret } from "../../services/tokens";
import type { Principal, ServiceDeps } from "../../services/deps";
import { createWebhook, DeliveryView, deliveryViews, listWebhookViews, removeWebhook, WebhookCreated, WebhookView } from "../../services/webhooks";
import { AUTH_ERRORS, docResponses, errors, out, requestBody } from "../schemas";
import { requireScope } from "../auth";
import { readChecked } from "../body";
import { SubscriptionEvents, WebhookSecret } from "../../events/notifications/schema";
import { ListLimit, listLimit } from "../list-query";

const WebhookRequestSchema = T.Object(
  {
    url: T.String({ format: "uri", maxLength: 2048, description: "http(s) endpoint; private addresses need MEDIANODE_URL_ALLOWLIST" }),
    events: SubscriptionEvents,
    secret: WebhookSecret,
  },
  { additionalProperties: false },
);
const WebhookRequest = TypeCompiler.Compile(WebhookRequestSchema);
const WebhookParams = T.Object({ id: T.String({ description: "Webhook id (w_…)" }) });

export function webhooksRoutes(deps: ServiceDeps, principalOf: (r: Request) => Principal) {
  return new Elysia({ prefix: "/v1/webhooks", tags: ["webhooks"] })
    .post(
      "",
      async ({ request, set }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:write");
        const body = await readChecked(request, WebhookRequest, "webhook");
        set.status = 201;
        return await createWebhook(deps, who, body);
      },
      {
        parse: "none",
        response: { 201: out(WebhookCreated), ...errors(...AUTH_ERRORS, "BAD_REQUEST", "INVALID_OPTIONS") },
        detail: { summary: "Subscribe a URL to terminal job events (signed with X-Medianode-Signature)", requestBody: requestBody({ "application/json": WebhookRequestSchema }, "The endpoint and the events it wants") },
      },
    )
    .post(
      "/signing-secret",
      async ({ request }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:write");
        if (!who.tokenId || who.tokenId.startsWith("jwt:")) {
          throw new ConflictError('a JWT tenant\'s job webhooks are signed with hex HMAC-SHA256(MEDIANODE_JWT_SECRET, "medianode-webhook:" + sub): ask the backend that issues the JWTs');
        }
        const r = await rotateWebhookSecret(deps.records, who.tokenId, who);
        return { tokenId: r.id, secret: r.webhookSecret };
      },
      {
        parse: "none",
        response: { 200: out(T.Object({ tokenId: T.String(), secret: T.String({ description: "Shown only here" }) })), ...errors(...AUTH_ERRORS, "CONFLICT") },
        detail: { summary: "Rotate the secret that signs the calling token's per-job webhooks (returned once; the old one stops at once)" },
      },
    )
    .get("", async ({ request }) => {
      const who = principalOf(request);
      requireScope(who, "jobs:read");
      return { items: await listWebhookViews(deps, who) };
    }, { response: { 200: out(T.Object({ items: T.Array(WebhookView) })), ...errors(...AUTH_ERRORS) }, detail: { summary: "List subscriptions with their circuit-breaker state" } })
    .delete("/:id", async ({ request, params, set }) => {
      const who = principalOf(request);
      requireScope(who, "jobs:write");
      await removeWebhook(deps, who, params.id);
      set.status = 204;
      return null;
    }, { params: WebhookParams, detail: { summary: "Remove a subscription", responses: docResponses({ 204: "Removed", ...errors(...AUTH_ERRORS, "NOT_FOUND") }) } })
    .get("/:id/deliveries", async ({ request, params, query }) => {
      const who = principalOf(request);
      requireScope(who, "jobs:read");
      const limit = listLimit(query.limit);
      return { items: await deliveryViews(deps, who, params.id, limit) };
    }, {
      params: WebhookParams,
      query: T.Object({ limit: ListLimit, token: T.Optional(T.String()) }),
      response: { 200: out(T.Object({ items: T.Array(DeliveryView) })), ...errors(...AUTH_ERRORS, "NOT_FOUND", "BAD_REQUEST") },
      detail: { summary: "Every delivery attempt of a subscription" },
    });
}
