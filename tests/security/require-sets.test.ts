// Issue #12 point 3: one tenant could disable options.require for everyone by making 64
// distinct sets (slots were never freed). Sets now count per tenant, unused ones are freed,
// and a tenant at its quota never makes another tenant's new set refused.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { createToken } from "../../src/services/tokens";
import { openDb } from "../../src/store/db";
import { startTestNode, type TestNode } from "../helpers/server";

let t: TestNode;
let attacker: string;
let other: string;
beforeAll(async () => {
  // api only: jobs with a requirement nobody meets simply stay queued.
  t = await startTestNode({ MEDIANODE_ROLES: "api", MEDIANODE_REQUIRE_SET_IDLE_SEC: "1", MEDIANODE_URL_ALLOWLIST: "127.0.0.1" });
  const db = openDb(join(t.dataDir, "medianode.db"));
  attacker = createToken(db, { name: "greedy", scopes: ["jobs:read", "jobs:write"] }, "test").token;
  other = createToken(db, { name: "bystander", scopes: ["jobs:read", "jobs:write"] }, "test").token;
  db.close();
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

const submit = (token: string, label: string) =>
  fetch(`${t.url}/v1/jobs`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ type: "probe", source: { url: "http://127.0.0.1:9/a.mp4" }, options: { require: [label] } }),
  });

test("64 distinct sets from one tenant do not refuse another tenant's new set; the tenant's quota frees once unused", async () => {
  const statuses: number[] = [];
  const accepted: string[] = [];
  for (let i = 0; i < 64; i++) {
    const r = await submit(attacker, `label${i}`);
    statuses.push(r.status);
    if (r.status === 202) accepted.push(((await r.json()) as { id: string }).id);
    else expect(((await r.json()) as { error: { code: string } }).error.code).toBe("INVALID_OPTIONS");
  }
  // Bounded per tenant (8 by default), not by whoever came first.
  expect(statuses.filter((s) => s === 202).length).toBe(8);
  expect(statuses.filter((s) => s === 422).length).toBe(56);
  // Another tenant's new set is accepted.
  const r = await submit(other, "bystander-label");
  expect(r.status).toBe(202);
  // A set in use (a job queued in it) is never freed; once its jobs are gone and it has been
  // idle for MEDIANODE_REQUIRE_SET_IDLE_SEC, it no longer counts.
  await Bun.sleep(1100);
  expect((await submit(attacker, "label-new")).status).toBe(422);
  for (const id of accepted) expect((await fetch(`${t.url}/v1/jobs/${id}`, { method: "DELETE", headers: { authorization: `Bearer ${attacker}` } })).status).toBe(200);
  await Bun.sleep(1100);
  expect((await submit(attacker, "label-new")).status).toBe(202);
}, 60_000);
