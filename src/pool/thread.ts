// A long-lived media thread: runs pipelines on request, one AbortController per task.
// It loads no processor from a path: the registry is imported, so a compiled executable carries it.
import { errorValue, TimeoutError, CancelledError } from "../errors";
import { pipelineFor } from "../jobs/registry";
import type { FromThread, ToThread } from "./messages";

declare const self: Worker;
const running = new Map<number, AbortController>();
const post = (m: FromThread) => self.postMessage(m);

self.onmessage = (e: MessageEvent<ToThread>) => {
  const msg = e.data;
  if (msg.kind === "cancel") {
    running.get(msg.taskId)?.abort(msg.reason === "timeout" ? new TimeoutError("job timed out") : new CancelledError("cancelled"));
    return;
  }
  const ac = new AbortController();
  running.set(msg.taskId, ac);
  void (async () => {
    try {
      const pipeline = pipelineFor(msg.type);
      const out = await pipeline.run({
        ...msg.task,
        options: msg.task.options as never,
        signal: ac.signal,
        progress: (p) => post({ kind: "progress", taskId: msg.taskId, ...p }),
      });
      post({ kind: "done", taskId: msg.taskId, outputs: out.outputs, result: out.result });
    } catch (err) {
      // An abort's reason says why (cancel vs timeout) better than the error the runner threw.
      const reason = ac.signal.aborted ? ac.signal.reason : null;
      const v = errorValue(reason instanceof Error ? reason : err);
      const details = (err as { details?: unknown }).details;
      post({ kind: "error", taskId: msg.taskId, error: { ...v, details: v.details ?? details } });
    } finally {
      running.delete(msg.taskId);
    }
  })();
};

post({ kind: "ready" });
