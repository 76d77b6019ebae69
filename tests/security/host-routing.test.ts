// Issue #12 point 10: with a short Host header (`Host: x`) Elysia's URL shortcut routed
// `/v1/v1/jobs` as `/v1/jobs`, so a proxy's path rules could be bypassed. Requests are routed
// on the parsed path. fetch sets Host itself, so the requests here are written on a raw socket.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect } from "node:net";
import { routableUrl } from "../../src/api/app";
import { startTestNode, type TestNode } from "../helpers/server";

let t: TestNode;
beforeAll(async () => {
  t = await startTestNode({ MEDIANODE_ROLES: "api" });
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

/** One HTTP/1.1 request on a fresh TCP connection; resolves with the status code. */
function rawStatus(path: string, host: string, token = t.token): Promise<number> {
  const { port } = new URL(t.url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), "127.0.0.1", () => {
      s.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`);
    });
    let text = "";
    s.on("data", (d) => (text += d.toString("latin1")));
    s.on("end", () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      m ? resolve(Number(m[1])) : reject(new Error(`no status line in ${JSON.stringify(text.slice(0, 200))}`));
    });
    s.on("error", reject);
  });
}

test.each(["x", "ab", "a:1", "127.0.0.1"])("Host: %s routes /v1/v1/jobs nowhere (404) and /v1/jobs to the jobs list", async (host) => {
  expect(await rawStatus("/v1/v1/jobs", host)).toBe(404);
  expect(await rawStatus("/v1/v1/audit", host)).toBe(404);
  expect(await rawStatus("/v1/jobs", host)).toBe(200);
  expect(await rawStatus("/healthz", host)).toBe(200);
});

test("routableUrl rebuilds only URLs whose host Elysia would cut short (pure)", () => {
  expect(routableUrl("http://x/v1/v1/jobs?a=1")).toBe("http://localhost/v1/v1/jobs?a=1");
  expect(routableUrl("http://a:1/v1/jobs")).toBe("http://localhost/v1/jobs");
  expect(routableUrl("http://ab:1/v1/jobs")).toBeNull();
  expect(routableUrl("http://localhost/v1/jobs")).toBeNull();
  expect(routableUrl("http://127.0.0.1:8080/v1/jobs")).toBeNull();
});
