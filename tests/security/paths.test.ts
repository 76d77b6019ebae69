import { afterAll, beforeAll, expect, test } from "bun:test";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../../src/log";
import { containedPath } from "../../src/storage/paths";
import { corpus } from "../helpers/corpus";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";

test.each(["../x", "a/../../x", "%2e%2e/x", "%252e%252e/x", "/etc/passwd", "a\0b", "a\\..\\b", "", ".", "a/./b", "%2F..%2Fx"])("containedPath refuses %j", (name) => {
  expect(() => containedPath("/data/media/j/out", name)).toThrow();
});
test.each(["thumb.webp", "720p/seg_000.ts", "a%20b.png"])("containedPath accepts %j", (name) => {
  expect(containedPath("/data/media/j/out", name).startsWith("/data/media/j/out/")).toBe(true);
});

let t: TestNode;
let id: string;
beforeAll(async () => {
  t = await startTestNode();
  const j = (await (await t.api("/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-jpeg-1x1.jpg").path) })).json()) as { id: string };
  id = j.id;
  await waitForJob(t, id);
  // A symlink planted inside out/ that points outside it must not be served.
  symlinkSync(join(t.dataDir, "admin.token"), join(t.dataDir, "media", id, "out", "leak.txt"));
});
afterAll(async () => {
  await t.stop();
});

test.each(["../source", "..%2fsource", "%2e%2e/%2e%2e/admin.token", "%252e%252e%252fsource", "leak.txt", "thumb.webp%00.png", "/etc/passwd"])("GET outputs/%s does not leave the job's out/ folder", async (name) => {
  const r = await t.api(`/v1/jobs/${id}/outputs/${name}`);
  expect([400, 404]).toContain(r.status);
  const text = await r.text();
  expect(text).not.toContain(t.token);
  expect(text).not.toContain("root:");
});

test("job ids in paths are checked too", async () => {
  for (const bad of ["..", "..%2f..%2fetc", "j_..%2f..%2fadmin.token"]) expect([400, 404]).toContain((await t.api(`/v1/jobs/${bad}/outputs/thumb.webp`)).status);
});

test("tokens and secrets never reach the logs", () => {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l) });
  log.info("request", { token: "mn_t_secret", authorization: "Bearer mn_t_secret", webhookSecret: "s3cr3t", jobId: "j_1" });
  expect(lines.join("\n")).not.toContain("secret");
  expect(lines.join("\n")).not.toContain("s3cr3t");
  expect(lines.join("\n")).toContain("j_1");
});
