// Issue #12 point 7: `?limit=-1` on deliveries and audit returned everything (SQLite reads a
// negative LIMIT as none). Every list route checks its paging parameters with one shared rule.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestNode, type TestNode } from "../helpers/server";

let t: TestNode;
let hook: string;
beforeAll(async () => {
  t = await startTestNode({ MEDIANODE_ROLES: "api", MEDIANODE_URL_ALLOWLIST: "127.0.0.1" });
  const r = await t.api("/v1/webhooks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ url: "http://127.0.0.1:9/hook" }) });
  hook = ((await r.json()) as { id: string }).id;
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

test.each(["-1", "0", "abc", "1e3", "5000", "1.5", "+5"])("limit=%p is 400 on jobs, deliveries and audit", async (limit) => {
  for (const path of ["/v1/jobs", `/v1/webhooks/${hook}/deliveries`, "/v1/audit"]) {
    const r = await t.api(`${path}?limit=${encodeURIComponent(limit)}`);
    expect({ path, status: r.status }).toEqual({ path, status: 400 });
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe("BAD_REQUEST");
  }
});

test("audit before= must be a positive integer; good paging still works", async () => {
  for (const before of ["-5", "x", "0"]) expect((await t.api(`/v1/audit?before=${before}`)).status).toBe(400);
  const audit = (await (await t.api("/v1/audit?limit=1")).json()) as { items: unknown[] };
  expect(audit.items.length).toBe(1);
  expect((await t.api(`/v1/webhooks/${hook}/deliveries?limit=1000`)).status).toBe(200);
  expect((await t.api("/v1/jobs?limit=500")).status).toBe(200);
});
