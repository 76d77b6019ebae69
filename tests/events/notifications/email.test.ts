// Email notifications against a real SMTP server (smtp-server on a free port): STARTTLS, AUTH,
// the headers and both bodies; 451 then 250 is retried; 550 is not.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { createToken } from "../../../src/services/tokens";
import { corpus } from "../../helpers/corpus";
import { lavfiClip } from "../../helpers/media";
import { tempDir } from "../../helpers/tmp";
import { startTestNode, waitForJob, type TestNode } from "../../helpers/server";
import { until } from "../../helpers/wait";
import { header, startTestSmtp, type TestSmtp } from "../../helpers/smtp";

let answers: (n: number) => number = () => 250;
let smtp: TestSmtp;
let t: TestNode;
let other: string;
beforeAll(async () => {
  smtp = await startTestSmtp((n) => answers(n));
  t = await startTestNode({
    MEDIANODE_SMTP_URL: smtp.url,
    MEDIANODE_MAIL_FROM: "medianode <media@example.test>",
    MEDIANODE_PUBLIC_URL: "https://media.example.test",
    MEDIANODE_WEBHOOK_BACKOFF_MS: "50",
  });
  other = (await createToken(await t.records(), { name: "other", scopes: ["jobs:read", "jobs:write"], tenant: "other" }, "test")).token;
});
afterAll(async () => {
  await t.stop();
  await smtp.stop();
});

const json = { "content-type": "application/json" };
const subscribe = async (to: unknown, token?: string) =>
  t.api("/v1/notifications", { method: "POST", headers: { ...json, ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify({ channel: "email", to }) });
const runImage = async (extra: Record<string, unknown> = {}) => {
  const bytes = await Bun.file(corpus("image-jpeg-1x1.jpg").path).bytes();
  const form = new FormData();
  form.set("type", "image");
  form.set("file", new Blob([bytes]), "a.jpg");
  for (const [k, v] of Object.entries(extra)) form.set(k, JSON.stringify(v));
  const r = await t.api("/v1/jobs", { method: "POST", body: form });
  expect(r.status).toBe(202);
  const j = (await r.json()) as { id: string };
  await waitForJob(t, j.id);
  return j.id;
};
const deliveries = async (id: string) => ((await (await t.api(`/v1/notifications/${id}/deliveries`)).json()) as { items: { state: string; channel: string; attempts: { status: number | null; error: string | null }[] }[] }).items;

test("a subscribed address gets one mail per job: STARTTLS, AUTH, headers, text and HTML, no secrets", async () => {
  answers = () => 250;
  const r = await subscribe("owner@example.test");
  expect(r.status).toBe(201);
  const sub = (await r.json()) as { id: string; channel: string; to: string; events: string[] };
  expect(sub).toMatchObject({ channel: "email", to: "owner@example.test", events: ["job.completed", "job.failed", "job.cancelled"] });
  const before = smtp.mails.length;
  const jobId = await runImage();
  await until(() => smtp.mails.length > before);
  await until(async () => (await deliveries(sub.id))[0]?.state === "delivered");
  const m = smtp.mails[before]!;
  expect(m.secure).toBe(true); // STARTTLS (requireTLS)
  expect(m.user).toBe("mailer"); // AUTH with the URL's credentials
  expect(m.from).toBe("media@example.test");
  expect(m.to).toEqual(["owner@example.test"]);
  expect(header(m.raw, "From")).toBe("medianode <media@example.test>");
  expect(header(m.raw, "Subject")).toBe(`[medianode] image job ${jobId} is ready`);
  expect(header(m.raw, "Message-ID")).toMatch(new RegExp(`^<d_[A-Za-z0-9]+\\.${jobId}@example\\.test>$`));
  expect(header(m.raw, "In-Reply-To")).toBe(`<job.${jobId}@example.test>`);
  expect(header(m.raw, "References")).toBe(`<job.${jobId}@example.test>`);
  expect(header(m.raw, "Auto-Submitted")).toBe("auto-generated");
  expect(m.raw).toContain("multipart/alternative");
  const text = m.raw.replace(/=\r?\n/g, "");
  expect(text).toContain(`Job: ${jobId}`);
  expect(text).toContain("Type: image");
  expect(text).toContain("Status: completed");
  expect(text).toMatch(/Duration: \d+\.\d s/);
  expect(text).toContain(`https://media.example.test/v1/jobs/${jobId}`);
  expect(text).toContain("text/html");
  expect(text).not.toContain(t.token);
  // An image has nothing to play: no playback link, the job's URL only.
  expect(text).not.toContain("/p/");
  const log = await deliveries(sub.id);
  expect(log[0]).toMatchObject({ channel: "email", state: "delivered" });
  expect(log[0]!.attempts).toHaveLength(1);
  expect(log[0]!.attempts[0]!.status).toBe(250);
  // One terminal notification per job per subscription: nothing else arrives for this job.
  await Bun.sleep(500);
  expect(smtp.mails.slice(before).filter((x) => (header(x.raw, "Subject") ?? "").includes(jobId))).toHaveLength(1);
  expect(await deliveries(sub.id)).toHaveLength(1);
  expect((await t.api(`/v1/notifications/${sub.id}`, { method: "DELETE" })).status).toBe(204);
});

test("a finished video's mail links its playback URL, which plays with no header", async () => {
  answers = () => 250;
  const dir = tempDir("mn-mail-video-");
  try {
    const clip = lavfiClip(join(dir.path, "clip.mp4"), { width: 320, height: 180, durationSec: 2 });
    const start = smtp.mails.length;
    const q = new URLSearchParams({ type: "video", options: JSON.stringify({ renditions: [180] }), notify: JSON.stringify({ email: "viewer@example.test" }) });
    const r = await t.api(`/v1/jobs?${q}`, { method: "POST", body: Bun.file(clip) });
    expect(r.status).toBe(202);
    const jobId = ((await r.json()) as { id: string }).id;
    expect((await waitForJob(t, jobId, 120_000)).status).toBe("completed");
    await until(() => smtp.mails.length > start);
    const m = smtp.mails[start]!;
    expect(m.to).toEqual(["viewer@example.test"]);
    const text = m.raw.replace(/=\r?\n/g, "");
    // MEDIANODE_PUBLIC_URL is the origin (no MEDIANODE_PLAYBACK_BASE_URL here).
    const play = /Play: (https:\/\/media\.example\.test\/p\/[^\s]+\/video\.mp4)/.exec(text)?.[1];
    expect(play).toBeDefined();
    expect(text).toContain(`Job: https://media.example.test/v1/jobs/${jobId}`);
    // The same path on this node plays without any header: it is a real playback URL.
    const file = await fetch(t.url + new URL(play!).pathname);
    expect(file.status).toBe(200);
    expect(file.headers.get("content-type")).toContain("video/mp4");
    expect((await file.arrayBuffer()).byteLength).toBeGreaterThan(1000);
  } finally {
    dir.remove();
  }
});

test("451 then 250: retried with backoff and delivered once; 550: permanent, not retried", async () => {
  const sub = (await (await subscribe("retry@example.test")).json()) as { id: string };
  const start = smtp.mails.length;
  answers = (n) => (n === start + 1 ? 451 : 250);
  await runImage();
  await until(async () => (await deliveries(sub.id))[0]?.state === "delivered");
  const log = await deliveries(sub.id);
  expect(log[0]!.attempts.map((a) => a.status)).toEqual([451, 250]);
  expect(smtp.mails.slice(start).map((m) => m.code)).toEqual([451, 250]);

  const bounce = smtp.mails.length;
  answers = (n) => (n > bounce ? 550 : 250);
  await runImage();
  await until(async () => (await deliveries(sub.id))[0]?.state === "failed");
  // Backoff is 50 ms: a retry would have come long before this.
  await Bun.sleep(1000);
  const failed = await deliveries(sub.id);
  expect(failed[0]!.attempts).toHaveLength(1);
  expect(failed[0]!.attempts[0]!.status).toBe(550);
  expect(smtp.mails.length - bounce).toBe(1);
  const metrics = await (await fetch(`${t.url}/metrics`)).text();
  expect(metrics).toMatch(/medianode_notifications_total\{channel="email",status="retrying"\} [1-9]/);
  expect(metrics).toMatch(/medianode_notifications_total\{channel="email",status="failed"\} [1-9]/);
  await t.api(`/v1/notifications/${sub.id}`, { method: "DELETE" });
  answers = () => 250;
});

test("a job's own notify.email mails that job's end only", async () => {
  answers = () => 250;
  const start = smtp.mails.length;
  const jobId = await runImage({ notify: { email: "once@example.test" } });
  await until(() => smtp.mails.length > start);
  await Bun.sleep(300);
  expect(smtp.mails.slice(start).map((m) => m.to)).toEqual([["once@example.test"]]);
  expect(header(smtp.mails[start]!.raw, "Subject")).toContain(jobId);
});

test("smtps:// (TLS from the first byte) delivers too; a 5xx on AUTH is permanent", async () => {
  const tls = await startTestSmtp(() => 250, undefined, "implicit");
  const node = await startTestNode({ MEDIANODE_SMTP_URL: tls.url, MEDIANODE_MAIL_FROM: "media@example.test", MEDIANODE_WEBHOOK_BACKOFF_MS: "50" });
  try {
    const submit = async (to: string) => {
      const r = await node.api(`/v1/jobs?type=image&notify=${encodeURIComponent(JSON.stringify({ email: to }))}`, { method: "POST", body: Bun.file(corpus("image-jpeg-1x1.jpg").path) });
      expect(r.status).toBe(202);
      return ((await r.json()) as { id: string }).id;
    };
    await waitForJob(node, await submit("tls@example.test"));
    await until(() => tls.mails.length === 1);
    expect(tls.mails[0]).toMatchObject({ secure: true, user: "mailer", to: ["tls@example.test"], code: 250 });
  } finally {
    await node.stop();
    await tls.stop();
  }
  // Wrong credentials: the server answers 535 to AUTH; one attempt, logged, nothing retried.
  const wrong = await startTestSmtp(() => 250, { user: "mailer", pass: "other-pass" });
  const bad = await startTestNode({ MEDIANODE_SMTP_URL: smtp.url.replace(`:${smtp.port}`, `:${wrong.port}`), MEDIANODE_MAIL_FROM: "media@example.test", MEDIANODE_WEBHOOK_BACKOFF_MS: "50" });
  try {
    const r = await bad.api(`/v1/jobs?type=image&notify=${encodeURIComponent(JSON.stringify({ email: "auth@example.test" }))}`, { method: "POST", body: Bun.file(corpus("image-jpeg-1x1.jpg").path) });
    await waitForJob(bad, ((await r.json()) as { id: string }).id);
    await until(async () => /medianode_notifications_total\{channel="email",status="failed"\} 1/.test(await (await fetch(`${bad.url}/metrics`)).text()));
    await Bun.sleep(500);
    const m = await (await fetch(`${bad.url}/metrics`)).text();
    expect(m).not.toMatch(/medianode_notifications_total\{channel="email",status="retrying"\}/);
    expect(wrong.mails).toHaveLength(0);
  } finally {
    await bad.stop();
    await wrong.stop();
  }
});

test("bad addresses are refused (422) and other tenants cannot see or remove a subscription", async () => {
  for (const bad of ["nobody", "a@b", "Name <x@example.test>", "x@example.test\r\nBcc: y@example.test", "x@example.test, y@example.test", 42]) {
    const r = await subscribe(bad);
    expect(r.status).toBe(422);
  }
  expect((await t.api("/v1/notifications", { method: "POST", headers: json, body: JSON.stringify({ channel: "fax", to: "x" }) })).status).toBe(400);
  expect((await t.api("/v1/notifications", { method: "POST", headers: json, body: JSON.stringify({ channel: "email", to: "x@example.test", events: ["job.progress"] }) })).status).toBe(422);
  // A public address literal: the source passes its check without DNS, so the refusal is notify's.
  const src = { url: "https://93.184.216.34/a.mp4" };
  const bad = await t.api("/v1/jobs", { method: "POST", headers: json, body: JSON.stringify({ type: "probe", source: src, notify: { email: "not-an-address" } }) });
  expect(bad.status).toBe(422);
  expect(((await bad.json()) as { error: { message: string } }).error.message).toContain("invalid address");
  const batch = await t.api("/v1/jobs/batch", { method: "POST", headers: json, body: JSON.stringify([{ type: "probe", source: src }, { type: "probe", source: src, notify: { email: "nope" } }]) });
  expect(batch.status).toBe(422);
  expect(((await batch.json()) as { error: { message: string } }).error.message).toContain("item 1");

  const mine = (await (await subscribe("private@example.test")).json()) as { id: string };
  const asOther = (path: string, init: RequestInit = {}) => fetch(t.url + path, { ...init, headers: { authorization: `Bearer ${other}` } });
  const list = (await (await asOther("/v1/notifications")).json()) as { items: { id: string }[] };
  expect(list.items.map((i) => i.id)).not.toContain(mine.id);
  expect((await asOther(`/v1/notifications/${mine.id}`, { method: "DELETE" })).status).toBe(404);
  expect((await asOther(`/v1/notifications/${mine.id}/deliveries`)).status).toBe(404);
  const own = (await (await t.api("/v1/notifications")).json()) as { items: { id: string; channel: string }[] };
  expect(own.items.find((i) => i.id === mine.id)?.channel).toBe("email");
  expect((await t.api(`/v1/notifications/${mine.id}`, { method: "DELETE" })).status).toBe(204);
  expect((await t.api(`/v1/notifications/${mine.id}`, { method: "DELETE" })).status).toBe(404);
});
