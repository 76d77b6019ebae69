// `medianode notify add|list|remove` as a real child process against a real node.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { browserSubscription } from "../helpers/push-service";
import { startTestNode, type TestNode } from "../helpers/server";
import { expectExit, runCli } from "./run";

let t: TestNode;
let env: Record<string, string>;
beforeAll(async () => {
  // The SMTP server is never reached here: adding an address only needs it configured.
  t = await startTestNode({ MEDIANODE_SMTP_URL: "smtp://127.0.0.1:9", MEDIANODE_MAIL_FROM: "m@example.test", MEDIANODE_URL_ALLOWLIST: "127.0.0.1" });
  env = { MEDIANODE_URL: t.url, MEDIANODE_TOKEN: t.token };
});
afterAll(() => t.stop());

test("add (email, webpush from a file, webhook), list, remove", async () => {
  const email = JSON.parse(expectExit(await runCli(["notify", "add", "email", "ops@example.test", "--events", "job.failed", "--json"], { env }), 0).stdout) as { id: string; channel: string; events: string[] };
  expect(email).toMatchObject({ channel: "email", events: ["job.failed"] });
  const file = join(t.dataDir, "sub.json");
  writeFileSync(file, JSON.stringify(browserSubscription("http://127.0.0.1:9/push/1").json));
  const push = expectExit(await runCli(["notify", "add", "webpush", file], { env }), 0).stdout;
  expect(push).toMatch(/^n_\S+: webpush http:\/\/127\.0\.0\.1:9\/push\/1 \(job\.completed, job\.failed, job\.cancelled\)/);
  const hook = expectExit(await runCli(["notify", "add", "webhook", "http://127.0.0.1:9/hook"], { env }), 0).stdout;
  expect(hook).toContain("signing secret (not shown again)");

  const list = expectExit(await runCli(["notify", "list"], { env }), 0).stdout;
  expect(list).toMatch(/^ID\s+CHANNEL\s+TO/);
  for (const c of ["email", "webpush", "webhook"]) expect(list).toContain(c);
  const items = (JSON.parse(expectExit(await runCli(["notify", "list", "--json"], { env }), 0).stdout) as { items: { id: string; channel: string }[] }).items;
  expect(items.map((i) => i.channel).sort()).toEqual(["email", "webhook", "webpush"]);

  for (const i of items) expect(expectExit(await runCli(["notify", "remove", i.id], { env }), 0).stdout).toBe(`removed ${i.id}\n`);
  expect(expectExit(await runCli(["notify", "list"], { env }), 0).stdout).toContain("no notification subscriptions");
  // Gone already: the server refuses (404) → 1.
  expect(expectExit(await runCli(["notify", "remove", email.id], { env }), 1).stderr).toContain(email.id);
});

test("usage errors exit 2, a refusal 1, an unreachable server 3", async () => {
  expect(expectExit(await runCli(["notify", "add", "fax", "x"], { env }), 2).stderr).toContain('unknown channel "fax"');
  expect(expectExit(await runCli(["notify", "add", "email"], { env }), 2).stderr).toContain("missing required argument");
  // The server's refusal (422) is a refusal: 1.
  expect(expectExit(await runCli(["notify", "add", "email", "not-an-address"], { env }), 1).stderr).toContain("invalid address");
  expect(expectExit(await runCli(["notify", "add", "webpush", "/nonexistent/sub.json"], { env }), 2).stderr).toContain("PushSubscription JSON");
  expect(expectExit(await runCli(["notify", "add", "webpush", "{nope"], { env }), 2).stderr).toContain("not valid JSON");
  expect(expectExit(await runCli(["notify", "frobnicate"], { env }), 2).code).toBe(2);
  expectExit(await runCli(["notify", "list"], { env: { MEDIANODE_URL: "http://127.0.0.1:9", MEDIANODE_TOKEN: "x" } }), 3);
});
