// Web Push against a real HTTP push endpoint: the VAPID JWT checked (ES256 against
// /v1/notifications/vapid), the aes128gcm payload decrypted with the subscription's private key
// (RFC 8291), TTL and Urgency set; 201 delivers, 410 removes the subscription.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { corpus } from "../../helpers/corpus";
import { browserSubscription, decryptAes128gcm, startPushService, verifyVapid } from "../../helpers/push-service";
import { storedSecret } from "../../helpers/records";
import { startTestNode, waitForJob, type TestNode } from "../../helpers/server";
import { until } from "../../helpers/wait";

let answers: (n: number) => number = () => 201;
const push = startPushService((n) => answers(n));
let t: TestNode;
let vapid: string;
beforeAll(async () => {
  t = await startTestNode({ MEDIANODE_URL_ALLOWLIST: "127.0.0.1", MEDIANODE_WEBHOOK_BACKOFF_MS: "50", MEDIANODE_VAPID_SUBJECT: "mailto:ops@example.test" });
  const r = await t.api("/v1/notifications/vapid");
  expect(r.status).toBe(200);
  vapid = ((await r.json()) as { publicKey: string }).publicKey;
});
afterAll(async () => {
  await t.stop();
  push.stop();
});

const json = { "content-type": "application/json" };
const subscribe = (to: unknown) => t.api("/v1/notifications", { method: "POST", headers: json, body: JSON.stringify({ channel: "webpush", to }) });
const runImage = async () => {
  const r = await t.api("/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-jpeg-1x1.jpg").path) });
  const j = (await r.json()) as { id: string };
  await waitForJob(t, j.id);
  return j.id;
};

test("VAPID keys are made on first start, kept in the records (one pair per cluster), and served as the public key", async () => {
  expect(vapid).toMatch(/^[A-Za-z0-9_-]{87}$/);
  expect(Buffer.from(vapid, "base64url")[0]).toBe(4);
  expect((JSON.parse(await storedSecret(await t.records(), "vapid")) as { publicKey: string }).publicKey).toBe(vapid);
});

test("a push subscription gets the event, encrypted to it and VAPID-signed; 410 removes it", async () => {
  const browser = browserSubscription(`${push.origin}/push/abc`);
  const r = await subscribe(browser.json);
  expect(r.status).toBe(201);
  const sub = (await r.json()) as { id: string; channel: string; to: string };
  expect(sub).toMatchObject({ channel: "webpush", to: browser.json.endpoint });
  expect(JSON.stringify(sub)).not.toContain(browser.json.keys.auth);

  answers = () => 201;
  const start = push.hits.length;
  const jobId = await runImage();
  await until(() => push.hits.length > start);
  const hit = push.hits[start]!;
  expect(hit.path).toBe("/push/abc");
  const claims = verifyVapid(hit.headers["authorization"] ?? null, vapid);
  expect(claims.aud).toBe(push.origin);
  expect(claims.sub).toBe("mailto:ops@example.test");
  expect(claims.exp).toBeGreaterThan(Date.now() / 1000);
  expect(claims.exp).toBeLessThanOrEqual(Date.now() / 1000 + 24 * 3600);
  expect(hit.headers["content-encoding"]).toBe("aes128gcm");
  expect(hit.headers["ttl"]).toBe("86400");
  expect(hit.headers["urgency"]).toBe("normal");
  const event = JSON.parse(decryptAes128gcm(hit.body, browser)) as { type: string; jobId: string; status: string };
  expect(event).toMatchObject({ type: "job.completed", jobId, status: "completed" });
  await until(async () => {
    const log = ((await (await t.api(`/v1/notifications/${sub.id}/deliveries`)).json()) as { items: { state: string }[] }).items;
    return log[0]?.state === "delivered";
  });

  // The browser unsubscribed: the push service answers 410 once, and the subscription goes.
  answers = () => 410;
  const before = push.hits.length;
  await runImage();
  await until(async () => !((await (await t.api("/v1/notifications")).json()) as { items: { id: string }[] }).items.some((i) => i.id === sub.id));
  expect(push.hits.length - before).toBe(1);
  expect((await t.api(`/v1/notifications/${sub.id}/deliveries`)).status).toBe(404);
  // Nothing is sent to it again.
  await runImage();
  await Bun.sleep(300);
  expect(push.hits.length - before).toBe(1);
  const metrics = await (await fetch(`${t.url}/metrics`)).text();
  expect(metrics).toMatch(/medianode_notifications_total\{channel="webpush",status="delivered"\} [1-9]/);
  expect(metrics).toMatch(/medianode_notifications_total\{channel="webpush",status="gone"\} 1/);
  answers = () => 201;
});

test("a job's own notify.webpush gets only that job's end (failures pushed with high urgency)", async () => {
  const browser = browserSubscription(`${push.origin}/push/own`);
  const start = push.hits.length;
  // A probe of a URL that does not answer fails: its end is pushed.
  const r = await t.api("/v1/jobs", { method: "POST", headers: json, body: JSON.stringify({ type: "probe", source: { url: `${push.origin}/missing.mp4` }, attempts: 1, notify: { webpush: browser.json } }) });
  expect(r.status).toBe(202);
  const job = (await r.json()) as { id: string };
  expect(JSON.stringify(job)).not.toContain(browser.json.keys.auth);
  await waitForJob(t, job.id);
  await until(() => push.hits.slice(start).some((h) => h.path === "/push/own"));
  const hit = push.hits.slice(start).find((h) => h.path === "/push/own")!;
  const event = JSON.parse(decryptAes128gcm(hit.body, browser)) as { type: string; jobId: string };
  expect(event).toMatchObject({ type: "job.failed", jobId: job.id });
  expect(hit.headers["urgency"]).toBe("high");
});

test("push endpoints: https only (http for allowlisted hosts), SSRF rules, valid keys", async () => {
  const ok = browserSubscription("https://push.example.test/x").json;
  const cases: [unknown, number][] = [
    [{ ...ok, endpoint: "http://push.example.test/x" }, 422],
    [{ ...ok, endpoint: "ftp://push.example.test/x" }, 422],
    [{ ...ok, endpoint: "https://10.0.0.1/x" }, 403],
    [{ ...ok, endpoint: "https://169.254.169.254/latest" }, 403],
    [{ ...ok, keys: { ...ok.keys, p256dh: Buffer.alloc(65, 1).toString("base64url") } }, 422],
    [{ ...ok, keys: { ...ok.keys, auth: Buffer.alloc(8).toString("base64url") } }, 422],
    [{ endpoint: ok.endpoint }, 422],
    ["https://push.example.test/x", 422],
  ];
  for (const [to, status] of cases) {
    const r = await subscribe(to);
    if (r.status !== status) throw new Error(`${JSON.stringify(to)}: ${r.status} ${await r.text()}`);
  }
  // A job's own subscription passes the same rules (an upload: its source is fine).
  const form = new FormData();
  form.set("type", "image");
  form.set("file", new Blob([await Bun.file(corpus("image-jpeg-1x1.jpg").path).bytes()]), "a.jpg");
  form.set("notify", JSON.stringify({ webpush: { ...ok, endpoint: "https://127.0.0.2/x" } }));
  const bad = await t.api("/v1/jobs", { method: "POST", body: form });
  expect(bad.status).toBe(403);
  form.set("notify", JSON.stringify({ webpush: { ...ok, endpoint: "http://push.example.test/x" } }));
  expect((await t.api("/v1/jobs", { method: "POST", body: form })).status).toBe(422);
});
