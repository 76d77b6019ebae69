// `medianode queues [pause|resume NAME]`.
import { Command } from "commander";
import { printJson, say, table } from "../output";
import { clientFrom, withClientOptions, type Ctx } from "../options";

interface Common {
  json?: boolean;
  url?: string;
  token?: string;
  dataDir?: string;
}

export function queuesCommand(ctx: Ctx): Command {
  const queues = withClientOptions(new Command("queues").description("per-queue counts; `queues pause|resume NAME` (admin)"))
    .option("--json", "print {items} as JSON")
    .action(async (o: Common) => {
      const items = await clientFrom(ctx, o).queues();
      if (o.json) return printJson(ctx.io, { items });
      say(
        ctx.io,
        table([
          ["QUEUE", "WAITING", "ACTIVE", "DELAYED", "FAILED", "COMPLETED", "PAUSED"],
          ...items.map((q) => [q.name, String(q.waiting), String(q.active), String(q.delayed), String(q.failed), String(q.completed), q.paused ? "yes" : "no"]),
        ]),
      );
    });
  for (const pause of [true, false]) {
    const name = pause ? "pause" : "resume";
    queues.addCommand(
      withClientOptions(new Command(name).description(`${name} a queue (admin token)`))
        .argument("<name>", "queue name: probe, image, video, audio, thumbnail")
        .option("--json", "print the result as JSON")
        .action(async (queue: string, o: Common) => {
          const r = await clientFrom(ctx, o).pauseQueue(queue, pause);
          if (o.json) printJson(ctx.io, r);
          else say(ctx.io, `queue ${r.name} ${r.paused ? "paused" : "resumed"}`);
        }),
    );
  }
  return queues;
}
