// Issue #12 point 2: the circuit breaker was keyed by URL for everyone, so a tenant that
// subscribed a victim's URL with a wrong secret and failed 5 times paused the victim's
// deliveries, and saw the victim's failure count. Breakers are per subscription now.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { join } from "node:path";
import { createToken } from "../../src/services/tokens";
import { openDb } from "../../src/store/db";
import { corpus } from "../helpers/corpus";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";

let t: TestNode;
let victim: string;
let attacker: string;
beforeAll(async () => {
  t = await startTestNode({ MEDIANODE_URL_ALLOWLIST: "127.0.0.1", MEDIANODE_WEBHOOK_BACKOFF_MS: "50" });
  const db = openDb(join(t.dataDir, "medianode.db"));
  victim = createToken(db, { name: "victim", scopes: ["jobs:read", "jobs:write"] }, "test").token;
  attacker = createToken(db, { name: "attacker", scopes: ["jobs:read", "jobs:write"] }, "test").token;
  db.close();
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

const as = (token: string, path: string, init: RequestInit = {}) => fetch(t.url + path, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });
const runImage = async (token: string) => {
  const r = await as(token, "/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-jpeg-1x1.jpg").path) });
  expect(r.status).toBe(202);
  const { id } = (await r.json()) as { id: string };
  await waitForJob({ api: (p, i) => as(token, p, i) }, id);
  return id;
};
const until = async (cond: () => boolean, ms: number) => {
  for (const end = Date.now() + ms; !cond() && Date.now() < end; ) await Bun.sleep(20);
  return cond();
};

test("a tenant failing against another tenant's URL does not pause the other's deliveries, nor sees its count", async () => {
  const secret = "the-victims-own-secret-0123";
  const delivered: string[] = [];
  let refused = 0;
  // The victim's endpoint verifies signatures, as a receiver should: a wrong secret is 401.
  const rx = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const body = await req.text();
      const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(req.headers.get("x-medianode-signature") ?? "");
      if (!m || m[2] !== createHmac("sha256", secret).update(`${m[1]}.${body}`).digest("hex")) {
        refused++;
        return new Response(null, { status: 401 });
      }
      delivered.push((JSON.parse(body) as { jobId: string }).jobId);
      return new Response(null, { status: 204 });
    },
  });
  try {
    const url = `http://127.0.0.1:${rx.port}/hook`;
    const sub = async (token: string, s: string) => {
      const r = await as(token, "/v1/webhooks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ url, secret: s }) });
      expect(r.status).toBe(201);
      return ((await r.json()) as { id: string }).id;
    };
    const victimHook = await sub(victim, secret);
    const attackerHook = await sub(attacker, "a-wrong-secret-for-this-url");
    await runImage(attacker);
    // Five failed attempts in a row: the attacker's own subscription is paused.
    expect(await until(() => refused >= 5, 15_000)).toBe(true);
    await Bun.sleep(300);
    const mine = (await (await as(attacker, "/v1/webhooks")).json()) as { items: { id: string; state: string; consecutiveFailures: number }[] };
    expect(mine.items.map((w) => w.id)).toEqual([attackerHook]);
    expect(mine.items[0]!.state).toBe("paused");

    const id = await runImage(victim);
    expect(await until(() => delivered.includes(id), 10_000)).toBe(true);
    const theirs = (await (await as(victim, "/v1/webhooks")).json()) as { items: { id: string; state: string; consecutiveFailures: number }[] };
    expect(theirs.items).toHaveLength(1);
    expect(theirs.items[0]).toMatchObject({ id: victimHook, state: "active", consecutiveFailures: 0 });
  } finally {
    rx.stop(true);
  }
});
