// Issue #12 point 8: one node secret signed every tenant's per-job webhooks, so a tenant that
// could verify its own could forge anyone's. Each token now has its own signing secret, shown
// once at creation and rotatable (route and CLI); a JWT tenant's is derived from the JWT secret.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { createToken } from "../../src/services/tokens";
import { expectExit, runCli } from "../cli/run";
import { corpus } from "../helpers/corpus";
import { storedSecret } from "../helpers/records";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";

const JWT_SECRET = "jwt-secret-for-webhook-secret-tests";
let t: TestNode;
let a: { id: string; token: string; webhookSecret: string };
let b: { id: string; token: string; webhookSecret: string };
const hits: { jobId: string; body: string; signature: string }[] = [];
let rx: ReturnType<typeof Bun.serve>;

beforeAll(async () => {
  rx = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const body = await req.text();
      hits.push({ jobId: (JSON.parse(body) as { jobId: string }).jobId, body, signature: req.headers.get("x-medianode-signature") ?? "" });
      return new Response(null, { status: 204 });
    },
  });
  t = await startTestNode({ MEDIANODE_URL_ALLOWLIST: "127.0.0.1", MEDIANODE_JWT_SECRET: JWT_SECRET });
  const records = await t.records();
  const make = async (name: string) => (await createToken(records, { name, scopes: ["jobs:read", "jobs:write"] }, "test")) as typeof a;
  a = await make("tenant-a");
  b = await make("tenant-b");
}, 60_000);
afterAll(async () => {
  await t?.stop();
  rx?.stop(true);
});

const hook = () => encodeURIComponent(`http://127.0.0.1:${rx.port}/hook`);
const signedWith = (secret: string, h: { body: string; signature: string }) => {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(h.signature);
  return !!m && m[2] === createHmac("sha256", secret).update(`${m[1]}.${h.body}`).digest("hex");
};
async function deliveredFor(token: string): Promise<{ body: string; signature: string }> {
  const r = await fetch(`${t.url}/v1/jobs?type=image&webhook=${hook()}`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: Bun.file(corpus("image-jpeg-1x1.jpg").path) });
  expect(r.status).toBe(202);
  const { id } = (await r.json()) as { id: string };
  await waitForJob({ api: (p, i) => fetch(t.url + p, { ...i, headers: { authorization: `Bearer ${token}` } }) }, id);
  for (let i = 0; i < 300 && !hits.some((h) => h.jobId === id); i++) await Bun.sleep(20);
  const h = hits.find((x) => x.jobId === id);
  expect(h).toBeDefined();
  return h!;
}

test("each tenant's job webhooks are signed with its own secret: it verifies its own, not another's", async () => {
  const nodeSecret = await storedSecret(await t.records(), "webhook");
  expect(typeof a.webhookSecret).toBe("string");
  expect(a.webhookSecret).not.toBe(b.webhookSecret);
  const ha = await deliveredFor(a.token);
  const hb = await deliveredFor(b.token);
  expect([signedWith(a.webhookSecret, ha), signedWith(b.webhookSecret, ha), signedWith(nodeSecret, ha)]).toEqual([true, false, false]);
  expect([signedWith(b.webhookSecret, hb), signedWith(a.webhookSecret, hb), signedWith(nodeSecret, hb)]).toEqual([true, false, false]);
});

test("POST /v1/webhooks/signing-secret rotates the caller's secret (returned once); the old one stops signing", async () => {
  const r = await fetch(`${t.url}/v1/webhooks/signing-secret`, { method: "POST", headers: { authorization: `Bearer ${a.token}` } });
  expect(r.status).toBe(200);
  const { secret } = (await r.json()) as { secret: string };
  expect(secret).not.toBe(a.webhookSecret);
  const h = await deliveredFor(a.token);
  expect([signedWith(secret, h), signedWith(a.webhookSecret, h)]).toEqual([true, false]);
  // Tenant b's secret did not change.
  expect(signedWith(b.webhookSecret, await deliveredFor(b.token))).toBe(true);
});

test("medianode token rotate-webhook-secret ID gives a token a new secret", async () => {
  const out = JSON.parse(expectExit(await runCli(["token", "rotate-webhook-secret", b.id, "--data-dir", t.dataDir, "--json"]), 0).stdout) as { id: string; webhookSecret: string };
  expect(out.id).toBe(b.id);
  const h = await deliveredFor(b.token);
  expect([signedWith(out.webhookSecret, h), signedWith(b.webhookSecret, h)]).toEqual([true, false]);
});

test("a JWT tenant's job webhooks are signed with HMAC(MEDIANODE_JWT_SECRET, medianode-webhook:<sub>)", async () => {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const head = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ sub: "site-j", exp: Math.floor(Date.now() / 1000) + 600 })}`;
  const jwt = `${head}.${createHmac("sha256", JWT_SECRET).update(head).digest("base64url")}`;
  const derived = createHmac("sha256", JWT_SECRET).update("medianode-webhook:site-j").digest("hex");
  const h = await deliveredFor(jwt);
  expect([signedWith(derived, h), signedWith(a.webhookSecret, h)]).toEqual([true, false]);
  expect((await fetch(`${t.url}/v1/webhooks/signing-secret`, { method: "POST", headers: { authorization: `Bearer ${jwt}` } })).status).toBe(409);
});
