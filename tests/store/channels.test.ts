// Channel records (SPEC §12) on both engines: the same calls give the same answers, so the
// PostgreSQL engine (store/postgres/channels.ts) keeps SQLite's rules: one name per tenant,
// sessions of a deleted channel dropped, an update never lowers bytes or forgets an end.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { StoredChannel, StoredListenerSession } from "../../src/store/records";
import { ENGINES } from "../helpers/postgres";
import { openTestRecords, type TestRecords } from "../helpers/records";

const channel = (o: Partial<StoredChannel> = {}): StoredChannel => ({
  tenant: "a",
  name: "radio",
  loop: true,
  jobs: ["j_1", "j_2"],
  tracks: [],
  epochMs: 1_800_000_000_123,
  pausedSec: 1.5,
  liveSinceMs: null,
  createdAt: 1_800_000_000_000,
  tokenId: "t_1",
  ...o,
});
const session = (o: Partial<StoredListenerSession> = {}): StoredListenerSession => ({
  id: "s_1",
  tenant: "a",
  channel: "radio",
  tokenId: "t_1",
  node: "n1",
  codec: "opus",
  bitrateKbps: 96,
  startedAt: 1_800_000_001_000,
  endedAt: null,
  bytes: 1000,
  endReason: null,
  ...o,
});

describe.each(ENGINES)("channel records on %s", (engine) => {
  let t: TestRecords;
  beforeAll(async () => {
    t = await openTestRecords(engine);
  });
  afterAll(async () => {
    await t.close();
  });

  test("insert, get, list, the clock; one name per tenant", async () => {
    const c = t.records.channels;
    expect(await c.insert(channel())).toBe(true);
    expect(await c.insert(channel())).toBe(false);
    expect(await c.insert(channel({ tenant: "b", loop: false }))).toBe(true);
    expect(await c.get("a", "radio")).toEqual(channel());
    expect((await c.list("b")).map((x) => [x.tenant, x.loop])).toEqual([["b", false]]);
    expect((await c.list(null)).map((x) => x.tenant)).toEqual(["a", "b"]);
    await c.setClock("a", "radio", 7.25, 1_800_000_009_000);
    expect(await c.get("a", "radio")).toMatchObject({ pausedSec: 7.25, liveSinceMs: 1_800_000_009_000 });
  });

  test("sessions: an end report keeps the larger byte count and the end; a deleted channel drops them", async () => {
    const c = t.records.channels;
    await c.upsertSessions([session(), session({ id: "s_2", startedAt: 1_800_000_002_000 }), session({ id: "s_x", channel: "nope" })]);
    await c.upsertSessions([session({ bytes: 500, endedAt: 1_800_000_005_000, endReason: "stop" })]);
    const list = await c.listSessions("a", "radio", 10);
    expect(list.map((s) => s.id)).toEqual(["s_2", "s_1"]);
    expect(list[1]).toEqual(session({ bytes: 1000, endedAt: 1_800_000_005_000, endReason: "stop" }));
    expect((await c.listSessions("a", "radio", 10, 1_800_000_002_000)).map((s) => s.id)).toEqual(["s_1"]);
    expect(await c.delete("a", "radio")).toBe(true);
    expect(await c.delete("a", "radio")).toBe(false);
    expect(await c.listSessions("a", "radio", 10)).toEqual([]);
    expect(await c.get("a", "radio")).toBeNull();
  });
});
