// A fixed pool of long-lived media threads (never one thread per job: Bun's Worker
// termination is still experimental). Tasks go to the least-loaded thread; a thread can
// run several tasks at once because the heavy work is in ffmpeg children and libvips threads.
import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { JobType } from "../jobs/schema";
import { CancelledError, InternalError, MedianodeError, isErrorCode } from "../errors";
import type { ProcessorOutput, ProgressReport } from "../jobs/pipeline";
import { OutputFileSchema } from "../jobs/schema";
import type { Logger } from "../log";
import type { FromThread, TaskInput, ToThread } from "./messages";

interface Pending {
  resolve(v: ProcessorOutput): void;
  reject(e: MedianodeError): void;
  onProgress?: (p: ProgressReport) => void;
}

interface Slot {
  worker: Worker;
  tasks: Map<number, Pending>;
  ready: Promise<void>;
}

export interface RunTaskOptions {
  signal?: AbortSignal;
  onProgress?: (p: ProgressReport) => void;
  /** Abort as TIMEOUT after this long. */
  timeoutMs?: number;
}

export interface MediaPool {
  size: number;
  run(type: JobType, task: TaskInput, o?: RunTaskOptions): Promise<ProcessorOutput>;
  /** Tasks running now across all threads. */
  active(): number;
  stop(): Promise<void>;
}

// Inside the single executable (bun build --compile with thread.ts as a second entrypoint)
// the thread is addressed by its path from the build root; in a checkout, next to this file.
// Compiled once: every finished task's outputs pass this check.
const OutputFileCheck = TypeCompiler.Compile(OutputFileSchema);

const threadUrl: string | URL = import.meta.url.includes("$bunfs") ? "./src/pool/thread.ts" : new URL("./thread.ts", import.meta.url);

export function createMediaPool(size: number, log: Logger): MediaPool {
  let nextId = 1;
  let stopped = false;
  const slots: Slot[] = [];

  const spawn = (index: number): Slot => {
    const worker = new Worker(threadUrl);
    const tasks = new Map<number, Pending>();
    let markReady: () => void;
    const ready = new Promise<void>((r) => (markReady = r));
    const slot: Slot = { worker, tasks, ready };
    worker.onmessage = (e: MessageEvent<FromThread>) => {
      const m = e.data;
      if (m.kind === "ready") return markReady();
      const t = tasks.get(m.taskId);
      if (!t) return;
      if (m.kind === "progress") {
        t.onProgress?.({ progress: m.progress, etaSec: m.etaSec, renditions: m.renditions });
      } else if (m.kind === "done") {
        tasks.delete(m.taskId);
        const outputs = m.outputs.filter((o) => OutputFileCheck.Check(o));
        if (outputs.length !== m.outputs.length) t.reject(new InternalError("pipeline returned a malformed output entry"));
        else t.resolve({ outputs: outputs as ProcessorOutput["outputs"], result: m.result });
      } else if (m.kind === "error") {
        tasks.delete(m.taskId);
        t.reject(new MedianodeError(isErrorCode(m.error.code) ? m.error.code : "INTERNAL", m.error.message, m.error.details));
      }
    };
    // A thread that dies takes only its own tasks down; the pool replaces it.
    const onDeath = (why: string) => {
      if (slots[index] !== slot) return;
      for (const [, t] of tasks) t.reject(new InternalError(`media thread died: ${why}`));
      tasks.clear();
      if (!stopped) {
        log.error("media thread died; replacing it", { thread: index, why });
        slots[index] = spawn(index);
      }
    };
    worker.addEventListener("error", (e) => onDeath((e as ErrorEvent).message ?? "error"));
    worker.addEventListener("close", () => onDeath("exited"));
    return slot;
  };

  for (let i = 0; i < size; i++) slots.push(spawn(i));

  return {
    size,
    active: () => slots.reduce((n, s) => n + s.tasks.size, 0),
    async run(type, task, o = {}) {
      if (stopped) throw new InternalError("media pool is stopped");
      if (o.signal?.aborted) throw new CancelledError("cancelled");
      const slot = slots.reduce((a, b) => (b.tasks.size < a.tasks.size ? b : a));
      await slot.ready;
      const taskId = nextId++;
      return await new Promise<ProcessorOutput>((resolve, reject) => {
        const send = (m: ToThread) => slot.worker.postMessage(m);
        const onAbort = () => send({ kind: "cancel", taskId, reason: "cancel" });
        const timer = o.timeoutMs ? setTimeout(() => send({ kind: "cancel", taskId, reason: "timeout" }), o.timeoutMs) : null;
        const done = () => {
          if (timer) clearTimeout(timer);
          o.signal?.removeEventListener("abort", onAbort);
        };
        slot.tasks.set(taskId, {
          resolve: (v) => (done(), resolve(v)),
          reject: (e) => (done(), reject(e)),
          onProgress: o.onProgress,
        });
        o.signal?.addEventListener("abort", onAbort, { once: true });
        send({ kind: "run", taskId, type, task });
      });
    },
    async stop() {
      stopped = true;
      for (const s of slots) {
        for (const [, t] of s.tasks) t.reject(new InternalError("media pool stopped"));
        s.tasks.clear();
        s.worker.terminate();
      }
    },
  };
}
