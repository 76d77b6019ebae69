// Queue position (SPEC §2: `live.position`, 1 = next to run within its queue, priority counted).
// Kept in memory by the api role, per BullMQ queue, from one id-only range read of the queue's
// waiting and prioritized jobs in the order workers take them. A read is triggered by the
// queue's own events (a job added, started, removed, delayed), not by requests: a GET reads the
// map, so asking for a job's position costs no Redis call at all. A job start recomputes at
// once; additions are gathered for POSITION_DEBOUNCE_MS, so a burst of submissions costs one
// read per queue, not one per job.
import type { Queue } from "bullmq";
import type { MedianodeEvent } from "../events/types";
import type { WorkItem } from "../queue/payload";
import { parseBullJobId } from "../queue/queues";
import type { ServiceDeps } from "./deps";

/** Positions beyond this are not tracked (the range read stays bounded); such a job shows none. */
export const MAX_TRACKED_POSITIONS = 10_000;
export const POSITION_DEBOUNCE_MS = 500;

export interface QueuePositions {
  /** The job's position in its queue now, or null (not queued, or beyond the tracked range). */
  of(jobId: string): number | null;
  /** The queue changed: recompute it (`now` for a job start, else after the debounce). */
  touch(queue: Queue<WorkItem>, now?: boolean): void;
  stop(): void;
}

/**
 * Which changes are announced as events: every change near the front (where a client watches
 * the number fall), and further back only at each multiple of 100, so that one job starting
 * ahead of 10,000 queued ones does not send 10,000 events.
 */
export function announcePosition(position: number): boolean {
  return position <= 100 || position % 100 === 0;
}

/** The positions a range read says: ids in the order they will be taken → 1, 2, 3… */
export function positionsFrom(bullIds: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  let n = 0;
  for (const b of bullIds) {
    const ids = parseBullJobId(b);
    if (ids && !out.has(ids.id)) out.set(ids.id, ++n);
  }
  return out;
}

export function createQueuePositions(deps: Pick<ServiceDeps, "records" | "bus" | "log">): QueuePositions {
  /** queue name → (job id → position) */
  const byQueue = new Map<string, Map<string, number>>();
  /** job id → its queue's map, for of() */
  const where = new Map<string, Map<string, number>>();
  const state = new Map<string, { timer: ReturnType<typeof setTimeout> | null; running: Promise<void> | null; again: boolean }>();
  let stopped = false;

  const announce = async (jobId: string, position: number) => {
    const r = await deps.records.jobs.get(jobId);
    if (!r || r.status !== "queued") return;
    // A progress report of a job still queued (status says so): job.queued stays one per
    // queuing (submit, retry), so a client counting those is not misled.
    const e: MedianodeEvent = { type: "job.progress", jobId, status: "queued", progress: r.progress, node: r.node, at: new Date().toISOString(), data: { position } };
    deps.bus.emit(e, r.tenant);
  };

  const recompute = async (queue: Queue<WorkItem>) => {
    const ids = await queue.getRanges(["wait", "prioritized"], 0, MAX_TRACKED_POSITIONS - 1, true);
    const next = positionsFrom(ids);
    const prev = byQueue.get(queue.name) ?? new Map<string, number>();
    for (const id of prev.keys()) if (!next.has(id) && where.get(id) === prev) where.delete(id);
    for (const id of next.keys()) where.set(id, next);
    byQueue.set(queue.name, next);
    for (const [id, p] of next) if (prev.get(id) !== p && announcePosition(p)) await announce(id, p);
  };

  const run = (queue: Queue<WorkItem>) => {
    const s = state.get(queue.name)!;
    if (s.running) {
      s.again = true;
      return;
    }
    s.running = recompute(queue)
      .catch((e) => deps.log.warn("queue positions not refreshed", { queue: queue.name, error: e }))
      .finally(() => {
        s.running = null;
        if (s.again && !stopped) {
          s.again = false;
          run(queue);
        }
      });
  };

  return {
    of: (jobId) => where.get(jobId)?.get(jobId) ?? null,
    touch(queue, now = false) {
      if (stopped) return;
      let s = state.get(queue.name);
      if (!s) state.set(queue.name, (s = { timer: null, running: null, again: false }));
      if (now) {
        if (s.timer) clearTimeout(s.timer);
        s.timer = null;
        run(queue);
        return;
      }
      s.timer ??= setTimeout(() => {
        s.timer = null;
        run(queue);
      }, POSITION_DEBOUNCE_MS);
    },
    stop() {
      stopped = true;
      for (const s of state.values()) if (s.timer) clearTimeout(s.timer);
    },
  };
}
