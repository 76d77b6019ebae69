// The bus intake (SPEC §13): each message becomes a job through the same use-case as
// POST /v1/jobs (the `submit` the api role hands in), and is settled by what happened:
// recorded → acked (only then: a crash before it redelivers, and the message id as
// idempotency key makes that harmless); not now (Redis down, store busy) → requeued after a
// pause, never dropped; never (bad JSON, refused token, invalid options) → dead-lettered with
// its error. A reply address gets the job, or the error, as HTTP would have answered.
import { errorValue, HTTP_STATUS, type ErrorValue } from "../errors";
import type { Logger } from "../log";
import type { IntakeHandler, IntakeMessage } from "./transport";

export interface Submitted {
  job: { id: string; status: string };
  created: boolean;
}

/** Makes the job of one message (auth, checks, record, enqueue), or throws a coded error. */
export type SubmitMessage = (m: IntakeMessage) => Promise<Submitted>;

export type Settlement = { kind: "requeue"; delayMs: number } | { kind: "dead-letter" };

/**
 * What a failed submission means for its message (pure): a refusal the same message would
 * meet again (4xx: bad JSON, 401/403, 422, 404...) is dead-lettered; an answer that may change
 * (429, 5xx: Redis or the store unreachable, a full disk) is requeued after `retryAfterSec`.
 */
export function settlementFor(e: ErrorValue): Settlement {
  const status = HTTP_STATUS[e.code] ?? 500;
  if (status !== 429 && status < 500) return { kind: "dead-letter" };
  const after = (e.details as { retryAfterSec?: unknown } | undefined)?.retryAfterSec;
  return { kind: "requeue", delayMs: typeof after === "number" && after > 0 ? Math.min(after * 1000, 30_000) : 1000 };
}

/** The error as a reply or dead-letter header carries it: `{code, message}`, nothing more. */
export const errorBody = (e: ErrorValue) => ({ error: { code: e.code, message: e.message } });

/** `workingEveryMs`: how often a message being handled is kept ours (a third of NATS's ack_wait). */
export function createIntake(deps: { submit: SubmitMessage; log: Logger; ackDelayMs?: number; workingEveryMs?: number }): IntakeHandler {
  return async (m, settle) => {
    // A slow submission (a URL source checked, a path probed) keeps the message ours.
    const keep = setInterval(() => settle.working(), deps.workingEveryMs ?? 5000);
    try {
      let r: Submitted;
      try {
        r = await deps.submit(m);
      } catch (e) {
        const err = errorValue(e);
        const s = settlementFor(err);
        if (s.kind === "requeue") {
          deps.log.warn("bus job not taken now; requeued", { messageId: m.messageId, code: err.code, error: err.message });
          await settle.requeue(s.delayMs);
          return;
        }
        deps.log.info("bus job refused; dead-lettered", { messageId: m.messageId, code: err.code, error: err.message });
        try {
          await settle.deadLetter(err);
        } catch (dl) {
          // Not dead-lettered (the bus went away): it comes back and is judged again.
          deps.log.warn("could not dead-letter a bus message; it will be redelivered", { messageId: m.messageId, error: dl });
          await settle.requeue(1000);
          return;
        }
        await settle.reply(errorBody(err)).catch((re) => deps.log.warn("bus reply failed", { messageId: m.messageId, error: re }));
        return;
      }
      if (deps.ackDelayMs) await Bun.sleep(deps.ackDelayMs);
      await settle.ack();
      deps.log.debug("bus job recorded", { jobId: r.job.id, messageId: m.messageId, created: r.created });
      await settle.reply(r.job).catch((re) => deps.log.warn("bus reply failed", { jobId: r.job.id, error: re }));
    } finally {
      clearInterval(keep);
    }
  };
}
