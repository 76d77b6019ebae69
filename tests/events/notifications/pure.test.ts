// The pure parts of notifications: the mail (subject, bodies, threading, no secrets), the
// outcome tables of SMTP and push answers, address and push subscription checks.
import { describe, expect, test } from "bun:test";
import { buildMail, formatDuration, jobThreadId } from "../../../src/events/notifications/email-message";
import { fromAddress } from "../../../src/events/notifications/email";
import { pushOutcome, smtpOutcome } from "../../../src/events/notifications/outcome";
import { emailProblem, pushSubscriptionProblem } from "../../../src/events/notifications/schema";
import { pushPayload } from "../../../src/events/notifications/webpush";
import { breakerKey } from "../../../src/events/webhooks/policy";

const job = { id: "j_01abc", type: "video", status: "completed", startedAt: 1_000, finishedAt: 126_000, error: null };
const input = { eventType: "job.completed", at: "2026-01-01T00:00:00.000Z", job, links: { job: "https://m.example/v1/jobs/j_01abc" }, deliveryId: "d_01x", domain: "example.test" };

describe("buildMail", () => {
  test("subject, both bodies and threading headers", () => {
    const m = buildMail(input);
    expect(m.subject).toBe("[medianode] video job j_01abc is ready");
    expect(m.text).toContain("Duration: 2 min 05 s");
    expect(m.text).toContain("Job: https://m.example/v1/jobs/j_01abc");
    expect(m.html).toContain('<a href="https://m.example/v1/jobs/j_01abc">Job</a>');
    expect(m.messageId).toBe("<d_01x.j_01abc@example.test>");
    expect(m.inReplyTo).toBe("<job.j_01abc@example.test>");
    expect(m.references).toBe(m.inReplyTo);
  });
  test("every mail of one job replies to the same thread root; Message-IDs differ", () => {
    const a = buildMail(input);
    const b = buildMail({ ...input, deliveryId: "d_02y", eventType: "job.failed", job: { ...job, status: "failed" } });
    expect(a.inReplyTo).toBe(b.inReplyTo);
    expect(a.messageId).not.toBe(b.messageId);
    expect(jobThreadId("j_01abc", "example.test")).toBe(a.inReplyTo);
  });
  test("a playback link comes first when there is one; failures name the code, never more", () => {
    const m = buildMail({ ...input, links: { ...input.links, playback: "https://m.example/p/tok/master.m3u8" }, job: { ...job, status: "failed", error: { code: "FFMPEG_FAILED", message: "encoder exited 1" } } });
    expect(m.subject).toContain("failed");
    expect(m.text.indexOf("Play: https://m.example/p/tok/master.m3u8")).toBeLessThan(m.text.indexOf("Job: https://"));
    expect(m.text).toContain("Error: FFMPEG_FAILED: encoder exited 1");
  });
  test("user-controlled text is escaped in the HTML", () => {
    const m = buildMail({ ...input, job: { ...job, status: "failed", error: { code: "INVALID_INPUT", message: "<script>alert(1)</script>" } } });
    expect(m.html).not.toContain("<script>");
    expect(m.html).toContain("&lt;script&gt;");
  });
  test.each([
    [null, null],
    [-5, null],
    [4200, "4.2 s"],
    [185_000, "3 min 05 s"],
    [3_720_000, "1 h 02 min"],
  ])("formatDuration(%p) = %p", (ms, out) => expect(formatDuration(ms)).toBe(out));
  test("fromAddress takes the address out of a display form", () => {
    expect(fromAddress("medianode <media@example.test>")).toBe("media@example.test");
    expect(fromAddress("media@example.test")).toBe("media@example.test");
  });
});

describe("outcomes", () => {
  test.each([
    [{ responseCode: 550, message: "no such user" }, false],
    [{ responseCode: 554 }, false],
    [{ responseCode: 451, message: "greylisted" }, true],
    [{ responseCode: 421 }, true],
    [{ code: "ECONNECTION", message: "connect ECONNREFUSED" }, true],
    [{ code: "ETIMEDOUT" }, true],
  ])("smtp %p retries: %p", (e, retry) => {
    const o = smtpOutcome(e);
    expect(o.ok).toBe(false);
    expect(!o.ok && o.retry).toBe(retry);
  });
  test.each([
    [201, "ok"],
    [202, "ok"],
    [404, "gone"],
    [410, "gone"],
    [429, "retry"],
    [500, "retry"],
    [503, "retry"],
    [400, "permanent"],
    [403, "permanent"],
    [413, "permanent"],
  ])("push %p → %p", (status, kind) => {
    const o = pushOutcome(status);
    const got = o.ok ? "ok" : o.gone ? "gone" : o.retry ? "retry" : "permanent";
    expect(got).toBe(kind);
  });
});

describe("targets", () => {
  test.each([
    ["user@example.com", true],
    ["first.last+tag@sub.example.co.uk", true],
    ["user@localhost", false],
    ["user", false],
    ["User <user@example.com>", false],
    ["a@example.com,b@example.com", false],
    ["a@example.com\r\nBcc: b@example.com", false],
    ["x".repeat(65) + "@example.com", false],
    ["a@" + "b".repeat(250) + ".com", false],
  ])("emailProblem(%p) ok: %p", (addr, ok) => expect(emailProblem(addr) === null).toBe(ok));

  const key = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 7)]).toString("base64url");
  const auth = Buffer.alloc(16, 1).toString("base64url");
  test.each([
    [{ endpoint: "https://push.example/x", keys: { p256dh: key, auth } }, null],
    [{ endpoint: "not a url", keys: { p256dh: key, auth } }, "endpoint is not a URL"],
    [{ endpoint: "file:///etc/passwd", keys: { p256dh: key, auth } }, "https"],
    [{ endpoint: "https://u:p@push.example/x", keys: { p256dh: key, auth } }, "credentials"],
    [{ endpoint: "https://push.example/x", keys: { p256dh: Buffer.alloc(65, 2).toString("base64url"), auth } }, "p256dh"],
    [{ endpoint: "https://push.example/x", keys: { p256dh: key, auth: Buffer.alloc(12).toString("base64url") } }, "auth"],
  ])("pushSubscriptionProblem %#", (sub, problem) => {
    const p = pushSubscriptionProblem(sub);
    if (problem === null) expect(p).toBeNull();
    else expect(p).toContain(problem);
  });

  test("a push payload over the limit drops its data, keeping type and jobId", () => {
    const small = JSON.stringify({ type: "job.completed", jobId: "j_1", data: { outputs: 3 } });
    expect(pushPayload(small)).toBe(small);
    const big = JSON.parse(pushPayload(JSON.stringify({ type: "job.completed", jobId: "j_1", data: { x: "y".repeat(5000) } }))) as Record<string, unknown>;
    expect(big).toEqual({ type: "job.completed", jobId: "j_1", truncated: true });
  });

  test("breaker keys: one per subscription on every channel, per tenant and target for a job's own", () => {
    expect(breakerKey({ webhook_id: "w_1", tenant: "t", url: "https://x" })).toBe("webhook:w_1");
    expect(breakerKey({ webhook_id: null, notification_id: "n_1", tenant: "t", url: "mailto:a@b.c" })).toBe("notification:n_1");
    expect(breakerKey({ webhook_id: null, notification_id: null, tenant: "t", url: "mailto:a@b.c" })).toBe("job:t mailto:a@b.c");
  });
});
