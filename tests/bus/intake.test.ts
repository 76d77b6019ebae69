// The intake's settling, with an in-memory settle (the transports are tested on real brokers
// in bridge.test.ts): what is acked, requeued, dead-lettered, and what the reply says.
import { expect, test } from "bun:test";
import { createIntake, settlementFor } from "../../src/bus/intake";
import type { IntakeMessage, IntakeSettle } from "../../src/bus/transport";
import { BadRequestError, ForbiddenError, InvalidOptionsError, RateLimitedError, StorageError, UnauthorizedError, UnavailableError, type ErrorValue } from "../../src/errors";
import { createLogger } from "../../src/log";

const log = createLogger({ level: "error" });

test.each([
  ["BAD_REQUEST", { kind: "dead-letter" }],
  ["UNAUTHORIZED", { kind: "dead-letter" }],
  ["FORBIDDEN", { kind: "dead-letter" }],
  ["INVALID_OPTIONS", { kind: "dead-letter" }],
  ["UNSUPPORTED_MEDIA", { kind: "dead-letter" }],
  ["SOURCE_UNREACHABLE", { kind: "dead-letter" }],
  ["NOT_FOUND", { kind: "dead-letter" }],
  ["RATE_LIMITED", { kind: "requeue", delayMs: 1000 }],
  ["UNAVAILABLE", { kind: "requeue", delayMs: 1000 }],
  ["INTERNAL", { kind: "requeue", delayMs: 1000 }],
  ["STORAGE", { kind: "requeue", delayMs: 1000 }],
] as const)("%s → %o", (code, want) => {
  expect(settlementFor({ code, message: "x" })).toEqual(want);
});

test("a retry-after in the error's details sets the requeue delay, capped at 30 s", () => {
  expect(settlementFor({ code: "UNAVAILABLE", message: "busy", details: { retryAfterSec: 2 } })).toEqual({ kind: "requeue", delayMs: 2000 });
  expect(settlementFor({ code: "UNAVAILABLE", message: "busy", details: { retryAfterSec: 999 } })).toEqual({ kind: "requeue", delayMs: 30_000 });
});

const message: IntakeMessage = { body: new Uint8Array(), authorization: null, messageId: "m1", replyTo: "r", correlationId: null };

function recording(o: { deadLetterFails?: boolean } = {}) {
  const calls: string[] = [];
  const replies: unknown[] = [];
  const settle: IntakeSettle = {
    ack: async () => void calls.push("ack"),
    requeue: async (ms) => void calls.push(`requeue ${ms}`),
    deadLetter: async (e: ErrorValue) => {
      if (o.deadLetterFails) throw new Error("bus gone");
      calls.push(`dead-letter ${e.code}`);
    },
    reply: async (b) => void replies.push(b),
    working: () => void calls.push("working"),
  };
  return { calls, replies, settle };
}

test("a recorded job is acked, then the job is the reply", async () => {
  const r = recording();
  await createIntake({ submit: async () => ({ job: { id: "j1", status: "queued" }, created: true }), log })(message, r.settle);
  expect(r.calls).toEqual(["ack"]);
  expect(r.replies).toEqual([{ id: "j1", status: "queued" }]);
});

test.each([new BadRequestError("not JSON"), new UnauthorizedError("bad token"), new ForbiddenError("scope"), new InvalidOptionsError("nope")])("%p is dead-lettered, the error is the reply", async (err) => {
  const r = recording();
  await createIntake({ submit: async () => Promise.reject(err), log })(message, r.settle);
  expect(r.calls).toEqual([`dead-letter ${err.code}`]);
  expect(r.replies).toEqual([{ error: { code: err.code, message: err.message } }]);
});

test.each([new UnavailableError("Redis is unreachable"), new RateLimitedError("slow down"), new StorageError("disk full"), new Error("socket hang up")])("%p is requeued, never acked nor answered", async (err) => {
  const r = recording();
  await createIntake({ submit: async () => Promise.reject(err), log })(message, r.settle);
  expect(r.calls).toEqual(["requeue 1000"]);
  expect(r.replies).toEqual([]);
});

test("a dead letter that cannot be written is requeued instead (judged again on redelivery)", async () => {
  const r = recording({ deadLetterFails: true });
  await createIntake({ submit: async () => Promise.reject(new BadRequestError("x")), log })(message, r.settle);
  expect(r.calls).toEqual(["requeue 1000"]);
});

test("a slow submission keeps the message (working) and the ack waits for the record", async () => {
  const r = recording();
  let recorded = false;
  await createIntake({
    submit: async () => {
      await Bun.sleep(120);
      recorded = true;
      return { job: { id: "j", status: "queued" }, created: true };
    },
    log,
    workingEveryMs: 25,
  })(message, r.settle);
  expect(recorded).toBe(true);
  expect(r.calls.filter((c) => c === "working").length).toBeGreaterThanOrEqual(2);
  expect(r.calls.at(-1)).toBe("ack");
});
