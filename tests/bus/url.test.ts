import { expect, test } from "bun:test";
import { maskUrl, parseBusUrl } from "../../src/bus/url";
import { backoffMs } from "../../src/bus/backoff";

test.each([
  ["amqp://guest:guest@127.0.0.1:5672/vh", "amqp", "amqp://guest:***@127.0.0.1:5672/vh", ["127.0.0.1:5672"]],
  ["amqps://u:p%40ss@mq.example.com/", "amqp", "amqps://u:***@mq.example.com/", ["mq.example.com"]],
  ["nats://127.0.0.1:4222", "nats", "nats://127.0.0.1:4222", ["127.0.0.1:4222"]],
  ["nats://nats.internal", "nats", "nats://nats.internal", ["nats.internal:4222"]],
  ["tls://a:b@nats.internal:4443", "nats", "tls://a:***@nats.internal:4443", ["tls://nats.internal:4443"]],
])("%s is %s, shown as %s", (url, kind, shown, servers) => {
  const t = parseBusUrl(url);
  expect(t.kind).toBe(kind as "amqp" | "nats");
  expect(t.shown).toBe(shown);
  expect(t.servers).toEqual(servers);
});

test("NATS credentials come from the user part, decoded", () => {
  expect(parseBusUrl("nats://me:p%40ss@h:1")).toMatchObject({ user: "me", pass: "p@ss" });
  expect(parseBusUrl("nats://h:1").user).toBeUndefined();
});

test.each(["mqtt://h", "http://h", "not a url", "amqp://"])("%s is refused, password masked", (url) => {
  expect(() => parseBusUrl(url)).toThrow(/MEDIANODE_BUS_URL/);
});

test("a lone token in the user part is masked too", () => {
  expect(maskUrl("nats://s3cr3t@h:4222")).toBe("nats://***@h:4222");
  expect(maskUrl("nats://h:4222")).toBe("nats://h:4222");
});

test("backoff doubles from the base to the cap, jitter at most a quarter off", () => {
  expect(backoffMs(0, 1)).toBe(250);
  expect(backoffMs(1, 1)).toBe(500);
  expect(backoffMs(3, 1)).toBe(2000);
  expect(backoffMs(20, 1)).toBe(15_000);
  expect(backoffMs(3, 0)).toBe(1500);
  expect(backoffMs(1000, 0.5)).toBe(Math.round(15_000 * 0.875));
  expect(backoffMs(-3, 1)).toBe(250);
});
