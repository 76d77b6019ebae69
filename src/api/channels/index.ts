// /v1/channels (SPEC §12): the channels' records. Listening is the monitor's /v1/stream.
import { Elysia } from "elysia";
import { Type as T } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { BadRequestError } from "../../errors";
import { ChannelRequest, ChannelView, ListenerSession } from "../../channels/schema";
import type { Principal, ServiceDeps } from "../../services/deps";
import { createChannel, listChannelViews, listListeners, removeChannel } from "../../services/channels";
import { AUTH_ERRORS, docResponses, errors, out, requestBody } from "../schemas";
import { requireScope } from "../auth";
import { readChecked } from "../body";
import { ListLimit, listLimit } from "../list-query";

const ChannelBody = TypeCompiler.Compile(ChannelRequest);
const ChannelParams = T.Object({ name: T.String({ description: "Channel name (unique per tenant)" }) });

export function channelsRoutes(deps: ServiceDeps, principalOf: (r: Request) => Principal) {
  return new Elysia({ prefix: "/v1/channels", tags: ["channels"] })
    .post(
      "",
      async ({ request, set }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:write");
        const body = await readChecked(request, ChannelBody, "channel: {name, jobs: [jobId...], loop}");
        set.status = 201;
        return await createChannel(deps, who, body);
      },
      {
        parse: "none",
        response: { 201: out(ChannelView), ...errors(...AUTH_ERRORS, "BAD_REQUEST", "INVALID_OPTIONS", "CONFLICT") },
        detail: { summary: "Create a channel playing completed audio jobs in order (jobs:write)", requestBody: requestBody({ "application/json": ChannelRequest }, "The channel's name, its jobs and whether it loops") },
      },
    )
    .get(
      "",
      async ({ request }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:read");
        return { items: await listChannelViews(deps, who) };
      },
      { response: { 200: out(T.Object({ items: T.Array(ChannelView) })), ...errors(...AUTH_ERRORS) }, detail: { summary: "Channels with what is playing now and how many listen" } },
    )
    .delete(
      "/:name",
      async ({ request, params, set }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:write");
        await removeChannel(deps, who, params.name);
        set.status = 204;
        return null;
      },
      { params: ChannelParams, detail: { summary: "Delete a channel (its listeners are disconnected)", responses: docResponses({ 204: "Deleted", ...errors(...AUTH_ERRORS, "NOT_FOUND") }) } },
    )
    .get(
      "/:name/listeners",
      async ({ request, params, query }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:read");
        const limit = listLimit(query.limit);
        const before = query.before === undefined ? undefined : Date.parse(query.before);
        if (before !== undefined && Number.isNaN(before)) throw new BadRequestError("before must be an ISO date");
        return { items: await listListeners(deps, who, params.name, limit, before) };
      },
      {
        params: ChannelParams,
        query: T.Object({ limit: ListLimit, before: T.Optional(T.String({ format: "date-time", description: "Sessions started before this time" })), token: T.Optional(T.String()) }),
        response: { 200: out(T.Object({ items: T.Array(ListenerSession) })), ...errors(...AUTH_ERRORS, "NOT_FOUND", "BAD_REQUEST") },
        detail: { summary: "Listener sessions of a channel, newest first: start, end, bytes, bitrate (jobs:read)" },
      },
    );
}
