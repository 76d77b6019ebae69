// One terminal notification per job run per subscription, and the in-flight marker of a send.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { openDb } from "../../src/store/db";
import { beginSend, getDelivery, insertDelivery, listDeliveries, recordAttempt, type NewDelivery } from "../../src/store/deliveries";
import { migrate } from "../../src/store/migrate";
import { tempDir } from "../helpers/tmp";

const base: NewDelivery = { id: "d_1", channel: "email", webhook_id: null, notification_id: "n_1", job_id: "j_1", tenant: "t", url: "mailto:a@example.test", event_type: "job.completed", body: "{}", created_at: 1, dedupe_key: "j_1:1 notification:n_1" };

test("a second delivery with the same dedupe key is not made; a new run or another subscription is", () => {
  const dir = tempDir();
  const db = openDb(join(dir.path, "medianode.db"));
  try {
    migrate(db);
    expect(insertDelivery(db, base)).toBe(true);
    expect(insertDelivery(db, { ...base, id: "d_2" })).toBe(false);
    expect(insertDelivery(db, { ...base, id: "d_3", dedupe_key: "j_1:2 notification:n_1" })).toBe(true);
    expect(insertDelivery(db, { ...base, id: "d_4", notification_id: "n_2", dedupe_key: "j_1:1 notification:n_2" })).toBe(true);
    // Rows from before the key (NULL) never collide.
    expect(insertDelivery(db, { ...base, id: "d_5", dedupe_key: null })).toBe(true);
    expect(insertDelivery(db, { ...base, id: "d_6", dedupe_key: null })).toBe(true);
    expect(listDeliveries(db, "n_1", 10).map((d) => d.id).sort()).toEqual(["d_1", "d_3", "d_5", "d_6"]);

    // The in-flight marker: taken once, cleared by the attempt's record.
    expect(beginSend(db, "d_1", 1)).toBe(true);
    expect(beginSend(db, "d_1", 1)).toBe(false);
    expect(getDelivery(db, "d_1")!.sending_attempt).toBe(1);
    recordAttempt(db, { delivery_id: "d_1", attempt: 1, at: 2, status_code: 451, error: "later", duration_ms: 3 }, "pending");
    expect(getDelivery(db, "d_1")!.sending_attempt).toBeNull();
    expect(beginSend(db, "d_1", 2)).toBe(true);
    recordAttempt(db, { delivery_id: "d_1", attempt: 2, at: 4, status_code: 250, error: null, duration_ms: 3 }, "delivered");
    expect(beginSend(db, "d_1", 3)).toBe(false);
    expect(getDelivery(db, "d_1")).toMatchObject({ state: "delivered", attempts: 2, finished_at: 4, sending_attempt: null });
  } finally {
    db.close();
    dir.remove();
  }
});
