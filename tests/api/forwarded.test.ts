import { describe, expect, test } from "bun:test";
import { clientInfo, createProxyTrust } from "../../src/api/forwarded";

const url = new URL("http://10.0.0.5:8080/v1/jobs");
const h = (o: Record<string, string>) => new Headers({ host: "10.0.0.5:8080", ...o });

describe("createProxyTrust", () => {
  const trust = createProxyTrust(["127.0.0.1", "10.1.0.0/16", "::1", "fd00::/8"]);
  test.each([
    ["127.0.0.1", true],
    ["::ffff:127.0.0.1", true],
    ["10.1.200.3", true],
    ["10.2.0.1", false],
    ["::1", true],
    ["fd00::42", true],
    ["2001:db8::1", false],
    ["not-an-ip", false],
  ])("%s → %p", (ip, want) => {
    expect(trust(ip)).toBe(want);
  });
  test("an empty list trusts nobody", () => {
    expect(createProxyTrust([])("127.0.0.1")).toBe(false);
  });
});

describe("clientInfo", () => {
  const trust = createProxyTrust(["127.0.0.1", "10.1.0.0/16"]);
  const fwd = { "x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https", "x-forwarded-host": "media.example.com" };
  test("from a trusted proxy the forwarded client, scheme and host are believed", () => {
    expect(clientInfo(h(fwd), "127.0.0.1", url, trust)).toEqual({ ip: "203.0.113.9", proto: "https", host: "media.example.com", origin: "https://media.example.com" });
  });
  test("from anyone else the headers are ignored", () => {
    expect(clientInfo(h(fwd), "198.51.100.4", url, trust)).toEqual({ ip: "198.51.100.4", proto: "http", host: "10.0.0.5:8080", origin: "http://10.0.0.5:8080" });
  });
  test("X-Forwarded-For is read from the right: a client's own fake first entry is not believed", () => {
    const headers = h({ "x-forwarded-for": "1.2.3.4, 203.0.113.9, 10.1.0.7" });
    expect(clientInfo(headers, "127.0.0.1", url, trust).ip).toBe("203.0.113.9");
  });
  test("every hop trusted: the leftmost is the client", () => {
    expect(clientInfo(h({ "x-forwarded-for": "10.1.0.9, 10.1.0.7" }), "127.0.0.1", url, trust).ip).toBe("10.1.0.9");
  });
  test("garbage in the chain stops the walk at the last real address", () => {
    expect(clientInfo(h({ "x-forwarded-for": "203.0.113.9, bogus" }), "127.0.0.1", url, trust).ip).toBe("127.0.0.1");
  });
  test("a bad proto or host is ignored, not echoed into URLs", () => {
    const c = clientInfo(h({ "x-forwarded-proto": "javascript", "x-forwarded-host": "evil.com/x?y" }), "127.0.0.1", url, trust);
    expect(c.origin).toBe("http://10.0.0.5:8080");
  });
  test("IPv4-mapped peers are spelled as IPv4; no peer at all is 'unknown'", () => {
    expect(clientInfo(h({}), "::ffff:198.51.100.4", url, trust).ip).toBe("198.51.100.4");
    expect(clientInfo(h({}), undefined, url, trust).ip).toBe("unknown");
  });
});
