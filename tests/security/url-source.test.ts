// URL sources fetched by the worker: size cap while streaming, SSRF on every redirect,
// clear job codes from SPEC §2's list, nothing left on disk.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";

let t: TestNode;
let origin: ReturnType<typeof Bun.serve>;
beforeAll(async () => {
  const big = new Uint8Array(3 * 1024 * 1024).fill(0xff);
  origin = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const p = new URL(req.url).pathname;
      if (p === "/big.jpg") return new Response(big, { headers: { "content-type": "image/jpeg" } });
      // No Content-Length: the cap must hold on the bytes as they arrive.
      if (p === "/chunked.jpg")
        return new Response(
          new ReadableStream({
            start(c) {
              for (let i = 0; i < 48; i++) c.enqueue(new Uint8Array(64 * 1024).fill(1));
              c.close();
            },
          }),
        );
      if (p === "/jump") return Response.redirect("http://10.1.2.3/secret.jpg", 302);
      return new Response("nope", { status: 404 });
    },
  });
  t = await startTestNode({ MEDIANODE_MAX_UPLOAD_BYTES: "1MiB", MEDIANODE_URL_ALLOWLIST: "127.0.0.1" });
});
afterAll(async () => {
  await t.stop();
  origin.stop(true);
});

const submit = async (path: string) => {
  const r = await t.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "image", source: { url: `http://127.0.0.1:${origin.port}${path}` } }) });
  expect(r.status).toBe(202);
  return (await waitForJob(t, ((await r.json()) as { id: string }).id)) as unknown as { id: string; status: string; attempts: number; error: { code: string; message: string } };
};

test.each(["/big.jpg", "/chunked.jpg"])("a source over the cap (%s) fails once with INVALID_INPUT; no bytes kept", async (path) => {
  const j = await submit(path);
  expect(j.status).toBe("failed");
  expect(j.error.code).toBe("INVALID_INPUT");
  expect(j.error.message).toContain("limit");
  expect(j.attempts).toBe(1);
  expect(existsSync(join(t.dataDir, "media", j.id, "source"))).toBe(false);
});

test("a redirect to a private address is refused when it is followed (SOURCE_UNREACHABLE)", async () => {
  const j = await submit("/jump");
  expect(j.status).toBe("failed");
  expect(j.error.code).toBe("SOURCE_UNREACHABLE");
  expect(j.error.message).toContain("private");
});
