// `medianode notify add|list|remove`: notification subscriptions (POST/GET/DELETE /v1/notifications).
//   notify add email owner@example.com [--events job.failed]
//   notify add webpush ./subscription.json     (a browser's PushSubscription JSON, a file or inline)
//   notify add webhook https://example.com/hook [--secret S]
import { existsSync, readFileSync } from "node:fs";
import { Command } from "commander";
import { printJson, say, table, UsageError } from "../output";
import { clientFrom, withClientOptions, type Ctx } from "../options";

interface Common {
  json?: boolean;
  url?: string;
  token?: string;
  dataDir?: string;
}

const CHANNELS = ["email", "webpush", "webhook"];

/** The `to` of a webpush subscription: inline JSON or a file holding it. */
function pushSubscription(arg: string): unknown {
  const text = arg.trimStart().startsWith("{") ? arg : existsSync(arg) ? readFileSync(arg, "utf8") : null;
  if (text === null) throw new UsageError(`webpush needs a PushSubscription JSON, inline or in a file; "${arg}" is neither`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`webpush: "${arg}" is not valid JSON`);
  }
}

export function notifyCommand(ctx: Ctx): Command {
  const notify = new Command("notify").description("notification subscriptions: email, Web Push and webhooks (terminal job events)");
  notify.addCommand(
    withClientOptions(new Command("add").description("subscribe an address, a browser push subscription or a URL"))
      .argument("<channel>", "email | webpush | webhook")
      .argument("<to>", "email: the address; webpush: PushSubscription JSON (inline or a file); webhook: the URL")
      .option("--events <list>", "comma list of terminal events (default: job.completed,job.failed,job.cancelled)")
      .option("--secret <secret>", "webhook only: the HMAC secret (made for you when absent, printed once)")
      .option("--json", "print the subscription as JSON")
      .action(async (channel: string, to: string, o: Common & { events?: string; secret?: string }) => {
        if (!CHANNELS.includes(channel)) throw new UsageError(`unknown channel "${channel}" (channels: ${CHANNELS.join(", ")})`);
        const events = o.events?.split(",").map((e) => e.trim()).filter(Boolean);
        const n = await clientFrom(ctx, o).addNotification({ channel, to: channel === "webpush" ? pushSubscription(to) : to, ...(events?.length ? { events } : {}), ...(o.secret ? { secret: o.secret } : {}) });
        if (o.json) return printJson(ctx.io, n);
        say(ctx.io, `${n.id}: ${n.channel} ${n.to} (${n.events.join(", ")})`);
        if (n.secret) say(ctx.io, `signing secret (not shown again): ${n.secret}`);
      }),
  );
  notify.addCommand(
    withClientOptions(new Command("list").description("the subscriptions of your tenant (admin: all)"))
      .option("--json", "print {items} as JSON")
      .action(async (o: Common) => {
        const items = await clientFrom(ctx, o).listNotifications();
        if (o.json) return printJson(ctx.io, { items });
        if (!items.length) return say(ctx.io, "no notification subscriptions");
        say(ctx.io, table([["ID", "CHANNEL", "TO", "EVENTS", "STATE", "FAILURES"], ...items.map((n) => [n.id, n.channel, n.to, n.events.join(","), n.state, String(n.consecutiveFailures)])]));
      }),
  );
  notify.addCommand(
    withClientOptions(new Command("remove").description("remove a subscription"))
      .argument("<id>", "the subscription id (n_… or w_…)")
      .option("--json", "print {removed: id} as JSON")
      .action(async (id: string, o: Common) => {
        await clientFrom(ctx, o).removeNotification(id);
        if (o.json) printJson(ctx.io, { removed: id });
        else say(ctx.io, `removed ${id}`);
      }),
  );
  return notify;
}
