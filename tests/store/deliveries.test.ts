// One terminal notification per job run per subscription, and the in-flight marker of a send,
// on both engines (SPEC §11).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openPostgres } from "../../src/store/postgres/index";
import type { NewDelivery, Records } from "../../src/store/records";
import { openDb } from "../../src/store/sqlite/db";
import { sqliteRecords } from "../../src/store/sqlite/index";
import { createTestDatabase, ENGINES, type TestDatabase } from "../helpers/postgres";
import { tempDir } from "../helpers/tmp";

const base: NewDelivery = { id: "d_1", channel: "email", webhook_id: null, notification_id: "n_1", job_id: "j_1", tenant: "t", url: "mailto:a@example.test", event_type: "job.completed", body: "{}", created_at: 1, dedupe_key: "j_1:1 notification:n_1" };

describe.each(ENGINES)("deliveries on %s", (engine) => {
  let r: Records;
  let database: TestDatabase | null = null;
  const dir = tempDir();
  beforeAll(async () => {
    if (engine === "postgres") {
      database = await createTestDatabase();
      r = await openPostgres(database.url);
    } else r = sqliteRecords(openDb(join(dir.path, "medianode.db")));
    await r.migrate();
  });
  afterAll(async () => {
    await r.close();
    await database?.drop();
    dir.remove();
  });

  test("a second delivery with the same dedupe key is not made; a new run or another subscription is", async () => {
    const d = r.deliveries;
    expect(await d.insert(base)).toBe(true);
    expect(await d.insert({ ...base, id: "d_2" })).toBe(false);
    expect(await d.insert({ ...base, id: "d_3", dedupe_key: "j_1:2 notification:n_1" })).toBe(true);
    expect(await d.insert({ ...base, id: "d_4", notification_id: "n_2", dedupe_key: "j_1:1 notification:n_2" })).toBe(true);
    // Rows from before the key (NULL) never collide.
    expect(await d.insert({ ...base, id: "d_5", dedupe_key: null })).toBe(true);
    expect(await d.insert({ ...base, id: "d_6", dedupe_key: null })).toBe(true);
    expect((await d.list("n_1", 10)).map((x) => x.id).sort()).toEqual(["d_1", "d_3", "d_5", "d_6"]);
    expect((await d.listPending(0, 10)).map((x) => x.id)).toEqual(["d_1", "d_3", "d_4", "d_5", "d_6"]);

    // The in-flight marker: taken once, cleared by the attempt's record.
    expect(await d.beginSend("d_1", 1)).toBe(true);
    expect(await d.beginSend("d_1", 1)).toBe(false);
    expect((await d.get("d_1"))!.sending_attempt).toBe(1);
    await d.recordAttempt({ delivery_id: "d_1", attempt: 1, at: 2, status_code: 451, error: "later", duration_ms: 3 }, "pending");
    expect((await d.get("d_1"))!.sending_attempt).toBeNull();
    expect(await d.beginSend("d_1", 2)).toBe(true);
    await d.recordAttempt({ delivery_id: "d_1", attempt: 2, at: 4, status_code: 250, error: null, duration_ms: 3 }, "delivered");
    expect(await d.beginSend("d_1", 3)).toBe(false);
    expect(await d.get("d_1")).toMatchObject({ channel: "email", state: "delivered", attempts: 2, finished_at: 4, sending_attempt: null });
    expect((await d.listPending(0, 10)).map((x) => x.id)).not.toContain("d_1");
  });

  test("email and Web Push subscriptions: insert, list by tenant, delete once", async () => {
    const n = r.notifications;
    await n.insert({ id: "n_a", tenant: "t", channel: "email", target: "a@example.test", events: '["job.completed"]', created_at: 5 });
    await n.insert({ id: "n_b", tenant: "u", channel: "webpush", target: '{"endpoint":"https://push.example/x","keys":{"p256dh":"k","auth":"a"}}', events: "[]", created_at: 6 });
    expect(await n.get("n_a")).toEqual({ id: "n_a", tenant: "t", channel: "email", target: "a@example.test", events: '["job.completed"]', created_at: 5 });
    expect((await n.list("t")).map((x) => x.id)).toEqual(["n_a"]);
    expect((await n.list(null)).map((x) => x.id)).toEqual(["n_a", "n_b"]);
    expect(await n.delete("n_a")).toBe(true);
    expect(await n.delete("n_a")).toBe(false);
  });
});
