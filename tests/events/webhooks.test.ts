import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { attemptsFor24h, breakerAfterFailure, BREAKER_THRESHOLD, DAY_MS } from "../../src/events/webhooks/policy";
import { signBody } from "../../src/events/webhooks/sign";
import { createToken } from "../../src/services/tokens";
import { corpus } from "../helpers/corpus";
import { storedSecret } from "../helpers/records";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";

interface Hit {
  body: string;
  signature: string | null;
}

/** A local receiver whose answers are scripted per request. */
function receiver(answer: (n: number) => number) {
  const hits: Hit[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      hits.push({ body: await req.text(), signature: req.headers.get("x-medianode-signature") });
      return new Response(null, { status: answer(hits.length) });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/hook`, hits, stop: () => server.stop(true) };
}

const verify = (secret: string, h: Hit) => {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(h.signature ?? "");
  expect(m).not.toBeNull();
  expect(m![2]).toBe(createHmac("sha256", secret).update(`${m![1]}.${h.body}`).digest("hex"));
  expect(Math.abs(Number(m![1]) - Date.now() / 1000)).toBeLessThan(60);
};

let t: TestNode;
let other: string;
beforeAll(async () => {
  t = await startTestNode({ MEDIANODE_URL_ALLOWLIST: "127.0.0.1", MEDIANODE_WEBHOOK_BACKOFF_MS: "50" });
  other = (await createToken(await t.records(), { name: "other", scopes: ["jobs:read", "jobs:write"], tenant: "other" }, "test")).token;
});
afterAll(async () => {
  await t.stop();
});

const subscribe = async (url: string, extra: Record<string, unknown> = {}) => {
  const r = await t.api("/v1/webhooks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ url, ...extra }) });
  expect(r.status).toBe(201);
  return (await r.json()) as { id: string; secret: string };
};
const runImage = async (extra = "") => {
  const j = (await (await t.api(`/v1/jobs?type=image${extra}`, { method: "POST", body: Bun.file(corpus("image-jpeg-1x1.jpg").path) })).json()) as { id: string };
  await waitForJob(t, j.id);
  return j.id;
};
const until = async (cond: () => boolean, ms = 15_000) => {
  for (const end = Date.now() + ms; !cond() && Date.now() < end; ) await Bun.sleep(20);
  expect(cond()).toBe(true);
};

test("policy: backoff attempts span 24 h; the breaker opens after the threshold", () => {
  for (const base of [50, 1000, 5000]) {
    const n = attemptsFor24h(base);
    expect(base * (2 ** (n - 1) - 1)).toBeGreaterThanOrEqual(DAY_MS);
  }
  let b = { key: "webhook:w_x", consecutive_failures: 0, open_until: null as number | null };
  for (let i = 1; i < BREAKER_THRESHOLD; i++) b = breakerAfterFailure(b, 1000, 30_000);
  expect(b.open_until).toBeNull();
  b = breakerAfterFailure(b, 1000, 30_000);
  expect(b.open_until).toBe(31_000);
  expect(signBody("s", "{}", 5)).toBe(`t=5,v1=${createHmac("sha256", "s").update("5.{}").digest("hex")}`);
});

test("a subscription gets a correctly signed terminal event (and no progress events)", async () => {
  const rx = receiver(() => 200);
  try {
    const w = await subscribe(rx.url, { secret: "a-very-secret-secret" });
    const id = await runImage();
    await until(() => rx.hits.some((h) => JSON.parse(h.body).jobId === id));
    const hit = rx.hits.find((h) => JSON.parse(h.body).jobId === id)!;
    expect(JSON.parse(hit.body)).toMatchObject({ type: "job.completed", jobId: id, status: "completed" });
    verify("a-very-secret-secret", hit);
    expect(rx.hits.every((h) => ["job.completed", "job.failed", "job.cancelled"].includes(JSON.parse(h.body).type))).toBe(true);
    await t.api(`/v1/webhooks/${w.id}`, { method: "DELETE" });
  } finally {
    rx.stop();
  }
});

test("a receiver that fails 3 times gets the event on the 4th attempt; every attempt is logged", async () => {
  const rx = receiver((n) => (n <= 3 ? 500 : 200));
  try {
    const w = await subscribe(rx.url);
    const id = await runImage();
    type Log = { items: { jobId: string; state: string; attempts: { attempt: number; status: number }[] }[] };
    let d: Log["items"][number] | undefined;
    for (let i = 0; i < 200 && d?.state !== "delivered"; i++) {
      await Bun.sleep(25);
      d = ((await (await t.api(`/v1/webhooks/${w.id}/deliveries`)).json()) as Log).items.find((x) => x.jobId === id);
    }
    expect(d!.attempts.map((a) => a.status)).toEqual([500, 500, 500, 200]);
    expect(d!.state).toBe("delivered");
    for (const h of rx.hits) verify(w.secret, h);
    await t.api(`/v1/webhooks/${w.id}`, { method: "DELETE" });
  } finally {
    rx.stop();
  }
});

test("an endpoint that always fails trips the circuit breaker and stops being called", async () => {
  const rx = receiver(() => 503);
  try {
    const w = await subscribe(rx.url);
    await runImage();
    await until(() => rx.hits.length >= BREAKER_THRESHOLD);
    await Bun.sleep(1500);
    // Paused for 30 s: no further calls for now.
    expect(rx.hits.length).toBe(BREAKER_THRESHOLD);
    const list = (await (await t.api("/v1/webhooks")).json()) as { items: { id: string; state: string; consecutiveFailures: number }[] };
    expect(list.items.find((x) => x.id === w.id)).toMatchObject({ state: "paused", consecutiveFailures: BREAKER_THRESHOLD });
    await t.api(`/v1/webhooks/${w.id}`, { method: "DELETE" });
  } finally {
    rx.stop();
  }
});

test("a job's own webhook URL gets its terminal event, signed with the node's secret", async () => {
  const rx = receiver(() => 204);
  try {
    const id = await runImage(`&webhook=${encodeURIComponent(rx.url)}`);
    await until(() => rx.hits.length === 1);
    expect(JSON.parse(rx.hits[0]!.body)).toMatchObject({ type: "job.completed", jobId: id });
    verify(await storedSecret(await t.records(), "webhook"), rx.hits[0]!);
  } finally {
    rx.stop();
  }
});

test("bad subscriptions are refused; another tenant cannot see or delete one", async () => {
  const post = (body: unknown, token = t.token) =>
    fetch(t.url + "/v1/webhooks", { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  expect((await post({ url: "http://10.0.0.1/hook" })).status).toBe(403);
  expect((await post({ url: "http://169.254.169.254/latest" })).status).toBe(403);
  expect((await post({ url: "ftp://127.0.0.1/x" })).status).toBe(403);
  expect((await post({ url: "http://127.0.0.1:9/x", events: ["job.progress"] })).status).toBe(422);
  expect((await post({ url: "http://127.0.0.1:9/x", colour: "red" })).status).toBe(400);
  // A job's own webhook URL is checked the same way, before anything is stored.
  const job = await t.api("/v1/jobs?type=image&webhook=" + encodeURIComponent("http://192.168.1.1/hook"), { method: "POST", body: Bun.file(corpus("image-jpeg-1x1.jpg").path) });
  expect(job.status).toBe(403);
  const w = await subscribe("http://127.0.0.1:9/x");
  const list = (await (await fetch(t.url + "/v1/webhooks", { headers: { authorization: `Bearer ${other}` } })).json()) as { items: unknown[] };
  expect(list.items.length).toBe(0);
  expect((await fetch(`${t.url}/v1/webhooks/${w.id}`, { method: "DELETE", headers: { authorization: `Bearer ${other}` } })).status).toBe(404);
  expect((await fetch(`${t.url}/v1/webhooks/${w.id}/deliveries`, { headers: { authorization: `Bearer ${other}` } })).status).toBe(404);
  expect((await t.api(`/v1/webhooks/${w.id}`, { method: "DELETE" })).status).toBe(204);
});
