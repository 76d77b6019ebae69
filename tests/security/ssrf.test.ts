import { expect, test } from "bun:test";
import { checkUrl, isBlockedAddress, pinnedRequest, safeFetch } from "../../src/sources/url";

const policy = (allowlist: string[] = []) => ({ allowlist, maxBytes: 1e6, timeoutMs: 5000 });

test.each([
  ["127.0.0.1", true], ["127.9.9.9", true], ["10.1.2.3", true], ["172.16.0.1", true], ["192.168.1.1", true],
  ["100.64.0.1", true], ["169.254.169.254", true], ["0.0.0.0", true], ["224.0.0.1", true], ["255.255.255.255", true],
  ["::1", true], ["::", true], ["fd00::1", true], ["fe80::1", true], ["::ffff:127.0.0.1", true], ["::ffff:10.0.0.1", true],
  ["93.184.215.14", false], ["8.8.8.8", false], ["2606:4700:4700::1111", false], ["::ffff:8.8.8.8", false],
])("%s blocked: %s", (addr, blocked) => {
  expect(isBlockedAddress(addr)).toBe(blocked);
});

test.each([
  "http://127.0.0.1/x", "http://localhost/x", "http://[::1]/x", "http://169.254.169.254/latest/meta-data", "http://0x7f000001/x",
  "http://2130706433/x", "http://100.100.100.200/x", "file:///etc/passwd", "gopher://127.0.0.1/", "http://user:pw@93.184.215.14/",
])("refused: %s", async (url) => {
  expect(await checkUrl(url, policy()).then(() => "allowed", (e: { code: string }) => e.code)).toMatch(/FORBIDDEN|SOURCE_UNREACHABLE/);
});

test("an allowlisted CIDR lets a private address through", async () => {
  expect((await checkUrl("http://127.0.0.1:9/x", policy(["127.0.0.0/8"]))).hostname).toBe("127.0.0.1");
  expect((await checkUrl("http://localhost:9/x", policy(["127.0.0.0/8", "::1/128"]))).hostname).toBe("localhost");
});

test("requests are pinned to the checked address; Host and TLS server name keep the name (no DNS rebinding)", () => {
  expect(pinnedRequest({ url: new URL("https://media.example:8443/v.mp4?a=1"), address: "93.184.215.14" })).toEqual({
    url: "https://93.184.215.14:8443/v.mp4?a=1",
    headers: { host: "media.example:8443" },
    tls: { serverName: "media.example" },
  });
  expect(pinnedRequest({ url: new URL("http://media.example/v"), address: "2606:4700::1" }).url).toBe("http://[2606:4700::1]/v");
  expect(pinnedRequest({ url: new URL("http://93.184.215.14/v"), address: "93.184.215.14" })).toEqual({ url: "http://93.184.215.14/v", headers: {} });
});

test("a pinned fetch reaches the checked address with the original Host header; redirects are re-checked", async () => {
  let host = "";
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      host = req.headers.get("host") ?? "";
      const u = new URL(req.url);
      if (u.pathname === "/jump") return Response.redirect("http://169.254.169.254/latest", 302);
      return new Response("ok");
    },
  });
  try {
    const res = await safeFetch(`http://localhost:${server.port}/x`, policy(["127.0.0.0/8", "::1/128"]));
    expect(await res.text()).toBe("ok");
    expect(host).toBe(`localhost:${server.port}`);
    const jumped = await safeFetch(`http://localhost:${server.port}/jump`, policy(["127.0.0.0/8", "::1/128"])).then(() => "followed", (e: { code: string }) => e.code);
    expect(jumped).toBe("FORBIDDEN");
  } finally {
    server.stop(true);
  }
});
