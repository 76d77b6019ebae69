// MEDIANODE_TRUSTED_PROXIES on a real node: X-Forwarded-* from a trusted address is believed
// (per-IP limits, the job URL it writes), from any other address ignored. Two clients of one
// host: 127.0.0.1 (the trusted proxy) and 127.0.0.2 (anyone else).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { corpus } from "../helpers/corpus";
import { requestFrom } from "../helpers/http-from";
import { startTestNode, type TestNode } from "../helpers/server";

let t: TestNode;
beforeAll(async () => {
  // 1 request/s per address, bursts of 4: a few quick requests from one client reach the limit.
  t = await startTestNode({ MEDIANODE_TRUSTED_PROXIES: "127.0.0.1", MEDIANODE_RATE_LIMIT_PER_IP: "1" });
});
afterAll(async () => {
  await t.stop();
});

const PROXY = "127.0.0.1";
const STRANGER = "127.0.0.2";
const image = readFileSync(corpus("image-png-palette.png").path);
const forwarded = (ip: string) => ({ "x-forwarded-for": ip, "x-forwarded-proto": "https", "x-forwarded-host": "media.example.com" });

/** Quick requests until one is refused; the 429's details name the address that was limited. */
async function limitedAddress(from: string, headers: (i: number) => Record<string, string>): Promise<string | null> {
  for (let i = 0; i < 12; i++) {
    const r = await requestFrom(from, `${t.url}/healthz`, { headers: headers(i) });
    if (r.status === 429) {
      expect(r.headers["retry-after"]).toBeDefined();
      return (JSON.parse(r.body) as { error: { details: { address: string } } }).error.details.address;
    }
    expect(r.status).toBe(200);
  }
  return null;
}

test("from a trusted proxy: the job's URL uses the forwarded scheme and host", async () => {
  const r = await requestFrom(PROXY, `${t.url}/v1/jobs?type=image`, { method: "POST", headers: { authorization: `Bearer ${t.token}`, ...forwarded("203.0.113.10") }, body: image });
  expect(r.status).toBe(202);
  const job = JSON.parse(r.body) as { id: string; outputs: unknown[] };
  expect(r.headers.location).toBe(`https://media.example.com/v1/jobs/${job.id}`);
});

test("from anyone else: the same headers are ignored; the URL is the one the client used", async () => {
  const r = await requestFrom(STRANGER, `${t.url}/v1/jobs?type=image`, { method: "POST", headers: { authorization: `Bearer ${t.token}`, ...forwarded("203.0.113.11") }, body: image });
  expect(r.status).toBe(202);
  const job = JSON.parse(r.body) as { id: string };
  expect(r.headers.location).toBe(`${t.url}/v1/jobs/${job.id}`);
});

test("per-IP limits count the forwarded client behind a trusted proxy, each client on its own", async () => {
  expect(await limitedAddress(PROXY, () => forwarded("203.0.113.20"))).toBe("203.0.113.20");
  // Another client behind the same proxy still has its whole burst.
  expect((await requestFrom(PROXY, `${t.url}/healthz`, { headers: forwarded("203.0.113.21") })).status).toBe(200);
});

test("an untrusted client cannot dodge its limit by writing a new X-Forwarded-For each time", async () => {
  expect(await limitedAddress(STRANGER, (i) => forwarded(`198.51.100.${i + 1}`))).toBe(STRANGER);
});

test("a client behind the proxy cannot name itself another address by prepending one", async () => {
  // The proxy appends the peer it saw; the node reads from the right and stops at it.
  expect(await limitedAddress(PROXY, (i) => ({ "x-forwarded-for": `10.9.9.${i}, 203.0.113.30` }))).toBe("203.0.113.30");
});
