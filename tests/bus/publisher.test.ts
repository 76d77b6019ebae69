// The publisher's bodies and its retry order, against an in-memory transport of our own
// interface (the real brokers are in bridge.test.ts).
import { expect, test } from "bun:test";
import { eventMessages, startEventPublisher } from "../../src/bus/publisher";
import type { BusTransport, OutMessage } from "../../src/bus/transport";
import type { MedianodeEvent } from "../../src/events/types";
import { createLogger } from "../../src/log";

const log = createLogger({ level: "error" });
const ev = (type: MedianodeEvent["type"], jobId = "j1"): MedianodeEvent => ({ type, jobId, status: "completed", progress: 100, node: "n", at: "2026-01-01T00:00:00.000Z" });
const decode = (m: OutMessage) => JSON.parse(new TextDecoder().decode(m.body)) as Record<string, unknown>;

test("a completion is published twice (job.completed, media.ready) with one body and two ids; the tenant rides along", () => {
  const ms = eventMessages(ev("job.completed"), "acme", "n-1");
  expect(ms.map((m) => [m.key, m.id])).toEqual([["job.completed", "n-1"], ["media.ready", "n-1.media.ready"]]);
  expect(decode(ms[0]!)).toEqual({ ...ev("job.completed"), tenant: "acme" });
  expect(decode(ms[1]!)).toEqual(decode(ms[0]!));
  expect(eventMessages({ type: "node.online", node: "x", at: "2026-01-01T00:00:00.000Z" }, null, "n-2").map((m) => [m.key, decode(m).tenant])).toEqual([["node.online", null]]);
});

function flakyTransport() {
  let up = false;
  let failNext = 0;
  const confirmed: OutMessage[] = [];
  const t: BusTransport = {
    kind: "amqp",
    start() {},
    async publish(m) {
      if (!up) throw new Error("down");
      if (failNext > 0) {
        failNext--;
        throw new Error("nacked");
      }
      confirmed.push(m);
    },
    connected: () => up,
    status: () => ({ ok: up, detail: "" }),
    async stop() {},
  };
  return { t, confirmed, setUp: (v: boolean) => (up = v), failNext: (n: number) => (failNext = n) };
}

test("events emitted while the bus is down are published once it is up, in order, once each", async () => {
  const f = flakyTransport();
  const p = startEventPublisher({ transport: f.t, log, nodeId: "n" });
  for (let i = 0; i < 5; i++) p.publish(ev("job.queued", `j${i}`), "t");
  await Bun.sleep(150);
  expect(f.confirmed).toEqual([]);
  expect(p.pending()).toBe(5);
  f.setUp(true);
  for (let i = 0; i < 100 && p.pending(); i++) await Bun.sleep(20);
  expect(f.confirmed.map((m) => decode(m).jobId)).toEqual(["j0", "j1", "j2", "j3", "j4"]);
  await p.stop();
});

test("a publish the broker does not confirm is retried under the same id", async () => {
  const f = flakyTransport();
  f.setUp(true);
  f.failNext(1);
  const p = startEventPublisher({ transport: f.t, log, nodeId: "n" });
  p.publish(ev("job.failed"), "t");
  for (let i = 0; i < 100 && p.pending(); i++) await Bun.sleep(20);
  expect(f.confirmed.map((m) => m.id)).toEqual(["n-1"]);
  await p.stop();
});

test("past the cap the oldest events are dropped, the newest kept", async () => {
  const f = flakyTransport();
  const p = startEventPublisher({ transport: f.t, log, nodeId: "n", maxQueued: 3 });
  for (let i = 0; i < 5; i++) p.publish(ev("job.queued", `j${i}`), "t");
  expect(p.pending()).toBe(3);
  f.setUp(true);
  for (let i = 0; i < 100 && p.pending(); i++) await Bun.sleep(20);
  expect(f.confirmed.map((m) => decode(m).jobId)).toEqual(["j2", "j3", "j4"]);
  await p.stop();
});
