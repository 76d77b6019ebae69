// Group commit for submissions. Requests that arrive while a flush is in flight wait for the
// next one, so under load one SQLite transaction and one addBulk per queue serve many
// requests; at low load a flush holds one request and adds no delay.
// The order per job is unchanged: its row is committed before BullMQ has it, and its 202
// is sent only after both.
import type { Queue } from "bullmq";
import type { MedianodeError } from "../errors";
import { newJobId } from "../ids";
import type { JobRequest, StoredSource } from "../jobs/schema";
import { withRedis } from "../queue/connection";
import { bullJobId, jobOptions } from "../queue/queues";
import type { JobRecord } from "../jobs/schema";
import type { Principal, ServiceDeps } from "./deps";
import type { WorkItem } from "../queue/payload";
import { requirementOf } from "../nodes/capabilities";
import { workItem } from "./work-item";

export interface Submission {
  request: JobRequest;
  source: StoredSource;
  options: Record<string, unknown>;
  who: Principal;
  id?: string;
}

export interface Submitted {
  row: JobRecord;
  created: boolean;
}

/** A row just written, with the submission it came from. */
interface Fresh {
  row: JobRecord;
  item: Submission;
}

interface Pending {
  item: Submission;
  resolve(v: Submitted): void;
  reject(e: unknown): void;
}

export interface Submitter {
  submit(item: Submission): Promise<Submitted>;
}

/** What the group commit needs: made before the rest of ServiceDeps, which carries it. */
export type SubmitterDeps = Pick<ServiceDeps, "records" | "queues" | "config" | "now">;

export function createSubmitter(deps: SubmitterDeps): Submitter {
  let pending: Pending[] = [];
  let running = false;

  /** One transaction for the whole batch; a taken idempotency key answers with the earlier record. */
  const insertAll = async (batch: Pending[]): Promise<{ done: { p: Pending; row: JobRecord; created: boolean }[]; fresh: Fresh[] }> => {
    const now = deps.now();
    const results = await deps.records.jobs.insertMany(
      batch.map(({ item: { request: req, who, source, options, id } }) => ({
        id: id ?? newJobId(),
        tenant: who.tenant,
        tokenId: who.tokenId,
        type: req.type,
        priority: req.priority ?? 0,
        source,
        options,
        metadata: req.metadata,
        webhook: req.webhook ?? null,
        notify: req.notify ?? null,
        idempotencyKey: req.idempotencyKey && who.tokenId ? req.idempotencyKey : null,
        maxAttempts: req.attempts ?? deps.config.attempts,
        now,
      })),
    );
    const done: { p: Pending; row: JobRecord; created: boolean }[] = [];
    const fresh: Fresh[] = [];
    results.forEach((r, i) => {
      const p = batch[i]!;
      if ("error" in r) return p.reject(r.error);
      done.push({ p, row: r.record, created: r.created });
      if (r.created) fresh.push({ row: r.record, item: p.item });
    });
    return { done, fresh };
  };

  const flushOnce = async (batch: Pending[]) => {
    let inserted: Awaited<ReturnType<typeof insertAll>>;
    // A busy database is retried by the store (store/sqlite: BEGIN IMMEDIATE, then async
    // retries); what still fails answers every request of the batch (503 with Retry-After).
    try {
      inserted = await insertAll(batch);
    } catch (e) {
      for (const p of batch) p.reject(e);
      return;
    }
    const { done, fresh } = inserted;
    // One addBulk per queue: per type, and per requirement set (registered by the caller).
    const byQueue = new Map<Queue<WorkItem>, Fresh[]>();
    for (const f of fresh) {
      const q = deps.queues.of(f.row.type, requirementOf(f.item.options));
      byQueue.set(q, [...(byQueue.get(q) ?? []), f]);
    }
    const queues = [...byQueue];
    const added = await Promise.allSettled(
      queues.map(([q, items]) =>
        withRedis(() =>
          q.addBulk(items.map(({ row: r, item }) => ({ name: r.type, data: workItem(r), opts: jobOptions(bullJobId(r.id, r.run), r.priority, r.maxAttempts) }))),
        ),
      ),
    );
    const failed = added.find((a): a is PromiseRejectedResult => a.status === "rejected");
    if (failed) {
      // Not accepted after all, and all or nothing per flush (a batch is one flush): no row
      // stays for a request that is told it failed, so no later reconcile enqueues it. Jobs
      // another queue did take are removed again; one that cannot be (Redis gone, or a worker
      // already holds it) has no row now and is removed by the recorder's orphan sweep.
      await deps.records.jobs.deleteUnstarted(fresh.map((f) => f.row.id));
      await Promise.all(
        queues.flatMap(([q, items], i) =>
          added[i]!.status === "fulfilled" ? items.map(({ row: r }) => q.remove(bullJobId(r.id, r.run)).catch(() => 0)) : [],
        ),
      );
      for (const d of done) (d.created ? d.p.reject(failed.reason as MedianodeError) : d.p.resolve({ row: d.row, created: false }));
      return;
    }
    for (const d of done) d.p.resolve({ row: d.row, created: d.created });
  };

  const run = async () => {
    running = true;
    try {
      while (pending.length) {
        const batch = pending;
        pending = [];
        await flushOnce(batch);
      }
    } finally {
      running = false;
    }
  };

  return {
    submit(item) {
      return new Promise<Submitted>((resolve, reject) => {
        pending.push({ item, resolve, reject });
        // setImmediate gathers what arrived in this I/O phase; a running flush picks up the rest.
        if (!running) {
          running = true;
          setImmediate(() => void run());
        }
      });
    },
  };
}
