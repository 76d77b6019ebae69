// Submitting a JSON job to an in-process node and timing it to completion.
import type { TestNode } from "../../tests/helpers/server";

export interface TimedJob {
  id: string;
  wallSec: number;
  /** startedAt → finishedAt as the api recorded them. */
  runSec: number | null;
  job: Record<string, unknown> & { status: string };
}

export async function timeJob(node: TestNode, body: unknown, timeoutMs = 170_000): Promise<TimedJob> {
  const t0 = performance.now();
  const r = await node.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const created = (await r.json()) as { id: string };
  if (r.status !== 202) throw new Error(`submit refused ${r.status}: ${JSON.stringify(created)}`);
  const until = Date.now() + timeoutMs;
  for (;;) {
    const j = (await (await node.api(`/v1/jobs/${created.id}`)).json()) as TimedJob["job"];
    if (["completed", "failed", "cancelled"].includes(j.status)) {
      const wallSec = (performance.now() - t0) / 1000;
      if (j.status !== "completed") throw new Error(`job ${created.id} ${j.status}: ${JSON.stringify(j.error)}`);
      const s = j.startedAt ? Date.parse(j.startedAt as string) : NaN;
      const f = j.finishedAt ? Date.parse(j.finishedAt as string) : NaN;
      return { id: created.id, wallSec, runSec: Number.isFinite(s) && Number.isFinite(f) ? (f - s) / 1000 : null, job: j };
    }
    if (Date.now() > until) throw new Error(`job ${created.id} still ${j.status} after ${timeoutMs} ms`);
    // Polled often: the clock measures the node, not the poll interval (a GET costs well under 1 ms).
    await Bun.sleep(10);
  }
}
