// Submitting a JSON job to an in-process node and timing it to completion.
import type { TestNode } from "../../tests/helpers/server";

export interface TimedJob {
  id: string;
  wallSec: number;
  /** startedAt → finishedAt as the api recorded them. */
  runSec: number | null;
  job: Record<string, unknown> & { status: string };
}

export interface TerminalEvent {
  status: string;
  /** When the api emitted it (ISO). */
  at: string;
}

export interface JobEvents {
  /** Resolves once every id has had its terminal event; rejects after timeoutMs. */
  wait(ids: Iterable<string>, timeoutMs: number): Promise<Map<string, TerminalEvent>>;
  close(): void;
}

/**
 * Terminal events from the node's own stream (/v1/events). The recorder emits job.completed
 * once the row is final in SQLite, so waiting on it ends a clock when the node has recorded
 * the job, with no poll interval added and no polling requests run inside the node being
 * measured (at 10 ms a poll of a 20 s job is 2000 requests of node CPU).
 */
export async function jobEvents(node: Pick<TestNode, "url" | "token">): Promise<JobEvents> {
  const ws = new WebSocket(`${node.url.replace(/^http/, "ws")}/v1/events?token=${node.token}`);
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("the node's event stream did not open"));
  });
  const seen = new Map<string, TerminalEvent>();
  const wakers = new Set<() => void>();
  ws.onmessage = (m) => {
    const e = JSON.parse(String(m.data)) as { type: string; jobId?: string; status?: string; at?: string };
    if ((e.type === "job.completed" || e.type === "job.failed" || e.type === "job.cancelled") && e.jobId) {
      seen.set(e.jobId, { status: e.status ?? e.type.slice(4), at: e.at ?? new Date().toISOString() });
      for (const w of wakers) w();
    }
  };
  return {
    async wait(ids, timeoutMs) {
      const want = [...ids];
      const until = Date.now() + timeoutMs;
      for (;;) {
        const missing = want.filter((id) => !seen.has(id)).length;
        if (!missing) break;
        if (Date.now() > until) throw new Error(`only ${want.length - missing}/${want.length} jobs finished in ${timeoutMs} ms`);
        await new Promise<void>((r) => {
          const wake = () => (wakers.delete(wake), r());
          wakers.add(wake);
          setTimeout(wake, 1000);
        });
      }
      return new Map(want.map((id) => [id, seen.get(id)!]));
    },
    close: () => ws.close(),
  };
}

export async function timeJob(node: TestNode, events: JobEvents, body: unknown, timeoutMs = 170_000): Promise<TimedJob> {
  const t0 = performance.now();
  const r = await node.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const created = (await r.json()) as { id: string };
  if (r.status !== 202) throw new Error(`submit refused ${r.status}: ${JSON.stringify(created)}`);
  await events.wait([created.id], timeoutMs);
  const wallSec = (performance.now() - t0) / 1000;
  const j = (await (await node.api(`/v1/jobs/${created.id}`)).json()) as TimedJob["job"];
  if (j.status !== "completed") throw new Error(`job ${created.id} ${j.status}: ${JSON.stringify(j.error)}`);
  const s = j.startedAt ? Date.parse(j.startedAt as string) : NaN;
  const f = j.finishedAt ? Date.parse(j.finishedAt as string) : NaN;
  return { id: created.id, wallSec, runSec: Number.isFinite(s) && Number.isFinite(f) ? (f - s) / 1000 : null, job: j };
}
