// /v1/channels (SPEC §12): the channels' records. Listening is the monitor's /v1/stream.
import { Elysia } from "elysia";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { BadRequestError } from "../../errors";
import { ChannelRequest } from "../../channels/schema";
import type { Principal, ServiceDeps } from "../../services/deps";
import { createChannel, listChannelViews, listListeners, removeChannel } from "../../services/channels";
import { requireScope } from "../auth";
import { readJson } from "../body";

const ChannelBody = TypeCompiler.Compile(ChannelRequest);

export function channelsRoutes(deps: ServiceDeps, principalOf: (r: Request) => Principal) {
  return new Elysia({ prefix: "/v1/channels", tags: ["channels"] })
    .post(
      "/",
      async ({ request, set }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:write");
        const body = await readJson(request, 64 * 1024);
        if (!ChannelBody.Check(body)) throw new BadRequestError("invalid channel: {name, jobs: [jobId...], loop}", { errors: [...ChannelBody.Errors(body)].slice(0, 5).map((e) => `${e.path}: ${e.message}`) });
        set.status = 201;
        return await createChannel(deps, who, body);
      },
      { parse: "none", detail: { summary: "Create a channel playing completed audio jobs in order (jobs:write)" } },
    )
    .get(
      "/",
      async ({ request }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:read");
        return { items: await listChannelViews(deps, who) };
      },
      { detail: { summary: "Channels with what is playing now and how many listen" } },
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
      { detail: { summary: "Delete a channel (its listeners are disconnected)" } },
    )
    .get(
      "/:name/listeners",
      async ({ request, params, query }) => {
        const who = principalOf(request);
        requireScope(who, "jobs:read");
        const limit = query.limit === undefined ? 100 : Number(query.limit);
        if (!Number.isInteger(limit)) throw new BadRequestError("limit must be an integer");
        const before = query.before === undefined ? undefined : Date.parse(query.before);
        if (before !== undefined && Number.isNaN(before)) throw new BadRequestError("before must be an ISO date");
        return { items: await listListeners(deps, who, params.name, limit, before) };
      },
      { detail: { summary: "Listener sessions of a channel, newest first: start, end, bytes, bitrate (jobs:read)" } },
    );
}
