import { afterAll, beforeAll, expect, test } from "bun:test";
import { createToken, revokeTokenById } from "../../src/services/tokens";
import { corpus } from "../helpers/corpus";
import { startTestNode, type TestNode } from "../helpers/server";

let t: TestNode;
beforeAll(async () => {
  t = await startTestNode({ MEDIANODE_URL_ALLOWLIST: "127.0.0.1" });
});
afterAll(async () => {
  await t.stop();
});

test("token, queue, webhook, cancel and retry actions are in GET /v1/audit (admin only)", async () => {
  const records = await t.records();
  const tok = await createToken(records, { name: "site", scopes: ["jobs:read"] }, "cli");
  await revokeTokenById(records, tok.id, "cli");
  await t.api("/v1/queues/image/pause", { method: "POST" });
  const job = (await (await t.api("/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-jpeg-1x1.jpg").path) })).json()) as { id: string };
  await t.api(`/v1/jobs/${job.id}`, { method: "DELETE" });
  await t.api(`/v1/jobs/${job.id}/retry`, { method: "POST" });
  await t.api("/v1/queues/image/resume", { method: "POST" });
  const hook = (await (await t.api("/v1/webhooks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ url: "http://127.0.0.1:9/h" }) })).json()) as { id: string };
  await t.api(`/v1/webhooks/${hook.id}`, { method: "DELETE" });

  const audit = (await (await t.api("/v1/audit?limit=50")).json()) as { items: { action: string; target: string; actor: string; at: string }[] };
  const actions = audit.items.map((a) => `${a.action} ${a.target}`);
  for (const want of [`token.create ${tok.id}`, `token.revoke ${tok.id}`, "queue.pause image", "queue.resume image", `job.cancel ${job.id}`, `job.retry ${job.id}`, `webhook.create ${hook.id}`, `webhook.delete ${hook.id}`]) {
    expect(actions).toContain(want);
  }
  const admin = audit.items.find((a) => a.action === "queue.pause")!;
  expect(admin.actor).toMatch(/^t_/);
  expect(JSON.stringify(audit)).not.toContain(tok.token);

  const r = (await createToken(records, { name: "reader", scopes: ["jobs:read", "jobs:write"] }, "cli")).token;
  expect((await fetch(t.url + "/v1/audit", { headers: { authorization: `Bearer ${r}` } })).status).toBe(403);
});
